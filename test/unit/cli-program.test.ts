import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { maskSecretLines, runCli } from '../../src/cli/program.js';
import { rememberSecrets } from '../../src/cli/secrets.js';
import { captureIo } from '../helpers/capture-io.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-cli-'));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('ferry command line: options and exit codes', () => {
  it.each(['run', 'source', 'sink', 'validate', 'status', 'verify'])('%s requires -c (exit 2)', async (cmd) => {
    const io = captureIo();
    expect(await runCli([cmd], io)).toBe(2);
    expect(io.stderr.join('\n')).toContain("required option '-c, --config <file>' not specified");
  });

  it('run --help lists the stop bound, progress and re-snapshot options', async () => {
    const io = captureIo();
    expect(await runCli(['run', '--help'], io)).toBe(0);
    const help = io.stdout.join('\n');
    for (const opt of ['-c, --config <file>', '--no-progress', '--stop-timeout <seconds>', '--resnapshot'])
      expect(help).toContain(opt);
    const sink = captureIo();
    await runCli(['sink', '--help'], sink);
    expect(sink.stdout.join('\n')).not.toContain('--resnapshot');
  });

  it.each(['0', '-3', 'soon', '1e3'])('--stop-timeout %s is a usage error (exit 2)', async (value) => {
    const io = captureIo();
    expect(await runCli(['run', '-c', 'x.yaml', '--stop-timeout', value], io)).toBe(2);
    expect(io.stderr.join('\n')).toContain('expected seconds, more than 0');
  });

  it('a config error exits 2 and names the path', async () => {
    const io = captureIo();
    const path = file('bad.yaml', 'name: Bad Name\nkafka:\n  brokers: ["k:9092"]\n');
    expect(await runCli(['validate', '-c', path], io)).toBe(2);
    const err = io.stderr.join('\n');
    expect(err).toContain('[FERRY_CONFIG_INVALID]');
    expect(err).toContain('source');
  });

  it('a missing config file exits 2', async () => {
    const io = captureIo();
    expect(await runCli(['status', '-c', join(dir, 'nope.yaml')], io)).toBe(2);
    expect(io.stderr.join('\n')).toContain('[FERRY_CONFIG_FILE]');
  });

  it('validate --config-only checks the file without connecting anywhere', async () => {
    const io = captureIo();
    const path = file(
      'ok.yaml',
      'name: ok-pipe\nkafka:\n  brokers: ["127.0.0.1:1"]\nsource:\n  kind: mysql\n  url: mysql://u@127.0.0.1:1/db\n  tables: ["db.*"]\nsink:\n  kind: postgres\n  url: postgres://u@127.0.0.1:1/db\n',
    );
    expect(await runCli(['validate', '-c', path, '--config-only'], io)).toBe(0);
    expect(io.stdout).toEqual([`✓ ${path} is a valid pipeline config (ok-pipe)`]);
  });
});

describe('ferry command line: no secrets in error output', () => {
  it('a YAML syntax error quoting a password line shows *** instead of the password', async () => {
    for (const line of ['  password: Sw0rdfish-yaml: oops', '  password: "Sw0rdfish-yaml']) {
      const io = captureIo();
      const path = file(
        'syntax.yaml',
        `name: x\nsource:\n  kind: mysql\n  url: mysql://u@h:1/db\n${line}\n  tables: ["db.*"]\n`,
      );
      expect(await runCli(['validate', '-c', path], io)).toBe(2);
      const err = io.stderr.join('\n');
      expect(err).toContain('is not valid YAML');
      expect(err).toContain('password: ***');
      expect(err).not.toContain('Sw0rdfish');
    }
  });

  it('secrets of a loaded config are redacted from any error ferry prints', async () => {
    rememberSecrets(['Sw0rdfish-remembered']);
    const io = captureIo();
    expect(await runCli(['status', '-c', join(dir, 'Sw0rdfish-remembered.yaml')], io)).toBe(2);
    const err = io.stderr.join('\n');
    expect(err).toContain('***.yaml');
    expect(err).not.toContain('Sw0rdfish');
  });

  it('maskSecretLines masks values of secret-looking keys only', () => {
    expect(maskSecretLines('  password: hunter2\n  user: ferry\n  - token: abc\nsasl_password : x y')).toBe(
      '  password: ***\n  user: ferry\n  - token: ***\nsasl_password : ***',
    );
    expect(maskSecretLines('ferry: the password is wrong')).toBe('ferry: the password is wrong');
  });
});
