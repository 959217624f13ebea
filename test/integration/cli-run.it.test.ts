/**
 * `ferry run` as users run it: a child process on config/examples/mariadb-to-postgres.yaml
 * (only addresses and names changed), while an application writes to the source. At the end the
 * target equals the source (`ferry verify` exits 0), /metrics counted the events, and
 * `ferry status --json` reports no lag. Then SIGTERM while streaming and writing: ferry stops
 * within --stop-timeout with exit 0, and a restart resumes from the stored position (no new
 * snapshot) with nothing lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusReport } from '../../src/pipeline/status.js';
import { verifyPipeline } from '../../src/verify/index.js';
import {
  createSourceShop,
  dropSourceDatabase,
  ensureCliBuilt,
  eventually,
  type FerryProcess,
  fetchText,
  freePort,
  mariadbToPostgresConfig,
  parsedConfig,
  parseMetrics,
  pipelineEnv,
  runFerry,
  startFerry,
  startWriter,
  sum,
  testDir,
  writeConfig,
} from '../helpers/cli.js';
import { pgSuper, uniqueName } from '../helpers/sandbox.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Source databases (= target schemas) to drop afterwards. */
const created: string[] = [];
const running: FerryProcess[] = [];

async function newPipeline(prefix: string) {
  const name = uniqueName(prefix);
  const db = name;
  created.push(db);
  await createSourceShop(db);
  const port = await freePort();
  const file = writeConfig(
    testDir(name),
    name,
    mariadbToPostgresConfig({ name, sourceDatabase: db, metricsPort: port }),
  );
  const env = pipelineEnv();
  return { name, db, port, file, env, config: parsedConfig(file, env) };
}

function run(args: string[], env: Record<string, string>): FerryProcess {
  const p = startFerry(args, env);
  running.push(p);
  return p;
}

async function targetEqualsSource(config: Parameters<typeof verifyPipeline>[0]): Promise<void> {
  await eventually(
    'the target to equal the source',
    async () => (await verifyPipeline(config, { recheck: { attempts: 0 } })).equal,
    60_000,
    1000,
  );
}

beforeAll(() => ensureCliBuilt(), 300_000);

afterAll(async () => {
  for (const p of running) await p.stop('SIGKILL');
  const pg = await pgSuper();
  try {
    for (const db of created) {
      await pg.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(db)} CASCADE`);
      await dropSourceDatabase(db);
    }
  } finally {
    await pg.end();
  }
});

describe('ferry run (child process, example config)', () => {
  it('moves a live MariaDB database to PostgreSQL: target == source, /metrics moved, status --json lag 0', async () => {
    const p = await newPipeline('cli_run');
    const writer = await startWriter(p.db);
    const ferry = run(['run', '-c', p.file], p.env);
    let transactions = 0;
    try {
      // Writes go on during the snapshot (read beside the stream) and after it, until both tables'
      // snapshots are done and the stream carried inserts, updates and deletes of orders.
      await ferry.waitForOutput(/reading the binlog/, 60_000);
      await ferry.waitForOutput(/snapshot of a table done[\s\S]*snapshot of a table done/, 60_000);
      await eventually(
        'streamed inserts, updates and deletes of orders',
        async () => {
          const live = parseMetrics((await fetchText(`http://127.0.0.1:${p.port}/metrics`)).text);
          const orders = { pipeline: p.name, table: `${p.db}.orders` };
          return ['c', 'u', 'd'].every((op) => sum(live, 'ferry_source_events_total', { ...orders, op }) > 0);
        },
        60_000,
      );
    } finally {
      transactions = await writer.stop();
    }
    expect(transactions).toBeGreaterThan(20);
    await targetEqualsSource(p.config);

    const verified = await runFerry(['verify', '-c', p.file], p.env);
    expect(verified.stderr).not.toMatch(/\[FERRY_/);
    expect(verified.code).toBe(0);

    const metrics = parseMetrics((await fetchText(`http://127.0.0.1:${p.port}/metrics`)).text);
    const pipeline = { pipeline: p.name };
    const orders = { ...pipeline, table: `${p.db}.orders` };
    const customers = { ...pipeline, table: `${p.db}.customers` };
    expect(sum(metrics, 'ferry_source_events_total', pipeline)).toBeGreaterThan(0);
    expect(sum(metrics, 'ferry_sink_applied_events_total', pipeline)).toBeGreaterThan(0);
    for (const op of ['c', 'u', 'd']) {
      expect(sum(metrics, 'ferry_source_events_total', { ...orders, op }), `published ${op}`).toBeGreaterThan(0);
      expect(sum(metrics, 'ferry_sink_applied_events_total', { ...orders, op }), `applied ${op}`).toBeGreaterThan(0);
    }
    // The snapshot read the rows that existed at the start; a row the writer changed while its
    // chunk was in flight comes from the stream instead (its newer state), so at most 50.
    expect(sum(metrics, 'ferry_snapshot_rows_total', customers)).toBeGreaterThan(0);
    expect(sum(metrics, 'ferry_snapshot_rows_total', customers)).toBeLessThanOrEqual(50);
    expect(sum(metrics, 'ferry_snapshot_rows_total', orders)).toBeGreaterThan(0);
    expect(sum(metrics, 'ferry_source_connected', pipeline)).toBe(1);
    expect(metrics.filter((s) => s.name.startsWith('ferry_')).every((s) => s.labels['pipeline'] === p.name)).toBe(true);
    // shop.tmp_* is excluded by the example.
    expect(metrics.some((s) => s.labels['table']?.endsWith('.tmp_scratch'))).toBe(false);
    expect((await fetchText(`http://127.0.0.1:${p.port}/healthz`)).status).toBe(200);
    expect((await fetchText(`http://127.0.0.1:${p.port}/readyz`)).status).toBe(200);

    const status = await eventually(
      'ferry status --json to report lag 0',
      async () => {
        const res = await runFerry(['status', '-c', p.file, '--json'], p.env);
        if (res.code !== 0) throw new Error(`ferry status exited ${res.code}: ${res.stderr}`);
        const report = JSON.parse(res.stdout) as StatusReport;
        // lagSeconds comes from the running process's /metrics, updated as its sink fetches.
        return report.lagEvents === 0 && report.lagSeconds === 0 ? report : null;
      },
      30_000,
      1000,
    );
    expect(status.running).toBe(true);
    expect(status.lagSeconds).toBe(0);
    expect(status.source.phase).toBe('stream');
    expect(status.tables.map((t) => [t.table, t.snapshot, t.lagEvents])).toEqual([
      [`${p.db}.customers`, 'done', 0],
      [`${p.db}.orders`, 'done', 0],
    ]);
    for (const t of status.tables) expect(t.appliedOffset).toBe(t.kafkaEndOffset);

    const text = await runFerry(['status', '-c', p.file], p.env);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`pipeline ${p.name}  (running, metrics on 127.0.0.1:${p.port})`);
    expect(text.stdout).toMatch(/^lag {6}0 events, 0\.0 s$/m);
    expect(text.stdout).toMatch(new RegExp(`^${p.db}\\.orders +done +[0-9,]+ +[0-9,]+ +0$`, 'm'));

    // The excluded column never reached the target.
    const pg = await pgSuper();
    try {
      const cols = await pg.query(
        'SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2',
        [p.db, 'customers'],
      );
      expect(cols.rows.map((r) => r.column_name as string)).not.toContain('password_hash');
    } finally {
      await pg.end();
    }

    const exit = await ferry.stop('SIGTERM');
    expect(exit.code).toBe(0);
    // JSON log lines off a terminal.
    expect(exit.stderr.split('\n')[0]).toMatch(/^\{"level":"info"/);
    expect(exit.stderr).toContain(`"msg":"pipeline ${p.name} stopped"`);
  });

  it('SIGTERM while streaming and writing: exits 0 within --stop-timeout; a restart resumes with nothing lost', async () => {
    const p = await newPipeline('cli_stop');
    const first = run(['run', '-c', p.file, '--stop-timeout', '10'], p.env);
    await first.waitForOutput(/reading the binlog/, 60_000);
    const writer = await startWriter(p.db, 5);
    try {
      await sleep(1500);
      const signalled = Date.now();
      const stopped = await first.stop('SIGTERM');
      const tookMs = Date.now() - signalled;
      expect(stopped.code, stopped.stderr.slice(-2000)).toBe(0);
      // The process bounds its own graceful stop (exit 1 beyond it); a little slack for the exit.
      expect(tookMs).toBeLessThan(12_000);
      expect(stopped.stderr).toContain('SIGTERM: stopping gracefully');
      expect(stopped.stderr).toContain('"msg":"source stopped"');

      // The application keeps writing while ferry is down, and after it is back.
      await sleep(1000);
      const second = run(['run', '-c', p.file, '--stop-timeout', '10'], p.env);
      await second.waitForOutput(/reading the binlog/, 60_000);
      await sleep(1500);
      await writer.stop();
      await targetEqualsSource(p.config);

      // It resumed from the stored position: no second snapshot.
      expect(second.stderr()).not.toContain('taking the initial snapshot');
      const metrics = parseMetrics((await fetchText(`http://127.0.0.1:${p.port}/metrics`)).text);
      expect(sum(metrics, 'ferry_snapshot_rows_total')).toBe(0);
      expect(sum(metrics, 'ferry_source_events_total', { op: 'c' })).toBeGreaterThan(0);

      const again = await second.stop('SIGTERM');
      expect(again.code).toBe(0);
    } finally {
      await writer.stop().catch(() => undefined);
    }
  });
});
