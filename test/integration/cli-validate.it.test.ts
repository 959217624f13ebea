/**
 * `ferry validate -c` as a child process against the sandbox: a good pipeline passes with ✓
 * lines and exit 0; a misconfigured source (binlog_format not ROW, a captured table without a
 * primary key) prints each failing check with its fix and exits 1; a config error exits 2.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckSection } from '../../src/pipeline/checks.js';
import {
  createSourceShop,
  dropSourceDatabase,
  ensureCliBuilt,
  freePort,
  mariadbToPostgresConfig,
  pipelineEnv,
  runFerry,
  testDir,
  writeConfig,
} from '../helpers/cli.js';
import { mysqlRoot, uniqueName } from '../helpers/sandbox.js';

const name = uniqueName('cli_validate');
const db = name;
let file = '';

beforeAll(async () => {
  ensureCliBuilt();
  await createSourceShop(db, 5, 5);
  file = writeConfig(
    testDir(name),
    name,
    mariadbToPostgresConfig({ name, sourceDatabase: db, metricsPort: await freePort() }),
  );
}, 300_000);

afterAll(async () => {
  await dropSourceDatabase(db);
});

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim().length > 0);
}

describe('ferry validate', () => {
  it('a good pipeline: ✓ for every check, exit 0', async () => {
    const res = await runFerry(['validate', '-c', file], pipelineEnv());
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const out = lines(res.stdout);
    expect(out[0]).toBe(`✓ config ${file} (${name})`);
    expect(out).toContain('Kafka');
    expect(out).toContain('Target');
    for (const check of [
      '✓ binlog enabled',
      '✓ binlog_format',
      '✓ binlog_row_image',
      '✓ binlog_row_metadata',
      '✓ privileges',
    ]) {
      expect(out.map((l) => l.trim())).toContain(check);
    }
    expect(out.some((l) => /^ {2}✓ Kafka reachable at /.test(l))).toBe(true);
    expect(out.some((l) => /^ {2}✓ target reachable and writable \(postgres /.test(l))).toBe(true);
    expect(out.some((l) => l.includes('✗'))).toBe(false);
    expect(out.at(-1)).toBe('all checks passed');
  });

  it('a misconfigured source: each failing check with its fix, exit 1 (also as JSON)', async () => {
    const root = await mysqlRoot();
    const [rows] = (await root.query('SELECT @@GLOBAL.binlog_format AS f')) as unknown as [Array<{ f: string }>];
    const before = rows[0]!.f;
    try {
      await root.query('CREATE TABLE ??.audit_log (at DATETIME(6) NOT NULL, what TEXT)', [db]);
      await root.query("SET GLOBAL binlog_format = 'MIXED'");

      const res = await runFerry(['validate', '-c', file], pipelineEnv());
      expect(res.code).toBe(1);
      const out = lines(res.stdout);
      const lineAfter = (line: string) => out[out.indexOf(line) + 1]?.trim();
      expect(out).toContain('  ✗ binlog_format — binlog_format is MIXED');
      expect(lineAfter('  ✗ binlog_format — binlog_format is MIXED')).toMatch(/^fix: SET GLOBAL binlog_format = 'ROW'/);
      const noKey = `  ✗ table ${db}.audit_log — ${db}.audit_log has no primary key and no unique index on NOT NULL columns`;
      expect(out).toContain(noKey);
      expect(lineAfter(noKey)).toMatch(/^fix: add one \(ALTER TABLE .* ADD PRIMARY KEY/);
      expect(lineAfter(noKey)).toContain(`source.keyColumns["${db}.audit_log"]`);
      // Every ✗ line is followed by its fix.
      for (const [i, l] of out.entries()) if (l.includes('✗')) expect(out[i + 1]).toMatch(/^ {6}fix: /);
      expect(out.filter((l) => l.includes('✗'))).toHaveLength(2);
      expect(out.at(-1)).toBe('some checks failed: fix them and run `ferry validate` again');

      const json = await runFerry(['validate', '-c', file, '--json'], pipelineEnv());
      expect(json.code).toBe(1);
      const report = JSON.parse(json.stdout) as { ok: boolean; sections: CheckSection[] };
      expect(report.ok).toBe(false);
      const failed = report.sections.flatMap((s) => s.checks.filter((c) => !c.ok));
      expect(failed.map((c) => c.name).sort()).toEqual(['binlog_format', `table ${db}.audit_log`]);
      for (const c of failed) expect(c.fix).toBeTruthy();
    } finally {
      await root.query('SET GLOBAL binlog_format = ?', [before]);
      await root.end();
    }
  });

  it('a config error exits 2 and names the path; so do a missing file and a missing variable', async () => {
    const bad = writeConfig(
      testDir(name),
      `${name}-bad`,
      mariadbToPostgresConfig({
        name,
        sourceDatabase: db,
        metricsPort: 9464,
        edit: (t) => t.replace('  kind: postgres', '  kind: oracle'),
      }),
    );
    const res = await runFerry(['validate', '-c', bad], pipelineEnv());
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain('sink.kind');
    expect(res.stderr).toContain('[FERRY_CONFIG_INVALID]');

    const missing = await runFerry(['validate', '-c', `${bad}.nope`], pipelineEnv());
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('[FERRY_CONFIG_FILE]');

    const noEnv = await runFerry(['validate', '-c', file], { SOURCE_PASSWORD: undefined, TARGET_PASSWORD: 'x' });
    expect(noEnv.code).toBe(2);
    expect(noEnv.stderr).toContain('SOURCE_PASSWORD');

    const usage = await runFerry(['validate'], {});
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("required option '-c, --config <file>' not specified");
  });
});
