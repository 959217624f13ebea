import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { captureIo } from '../helpers/capture-io.js';

describe('ferry command line', () => {
  it('--help lists the commands and exits 0', async () => {
    const io = captureIo();
    expect(await runCli(['--help'], io)).toBe(0);
    const help = io.stdout.join('\n');
    for (const cmd of ['sandbox', 'demo', 'snapshot', 'status', 'verify'])
      expect(help).toMatch(new RegExp(`^\\s+${cmd}\\b`, 'm'));
  });

  it('an unknown command exits 2 with a message naming it', async () => {
    const io = captureIo();
    expect(await runCli(['frobnicate'], io)).toBe(2);
    const err = io.stderr.join('\n');
    expect(err).toContain("unknown command 'frobnicate'");
    expect(err).toContain('ferry --help');
  });

  it('an unknown option exits 2', async () => {
    const io = captureIo();
    expect(await runCli(['sandbox', 'up', '--bogus'], io)).toBe(2);
    expect(io.stderr.join('\n')).toContain("unknown option '--bogus'");
  });

  it('a bad --only value exits 2 and lists what is allowed', async () => {
    const io = captureIo();
    expect(await runCli(['sandbox', 'up', '--only', 'oracle'], io)).toBe(2);
    expect(io.stderr.join('\n')).toContain('--only: unknown server "oracle"; allowed: kafka, postgres, mysql');
  });

  it('no arguments prints help and exits 2', async () => {
    const io = captureIo();
    expect(await runCli([], io)).toBe(2);
    expect(io.stdout.join('\n') + io.stderr.join('\n')).toContain('Usage: ferry');
  });
});
