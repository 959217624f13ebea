/**
 * ferry cutover against the sandbox, MariaDB → Kafka → PostgreSQL: a writer (a plain user
 * without READ_ONLY ADMIN, so read_only stops it) keeps writing while a pipeline runs in this
 * process; `ferry cutover --yes` (through runCli, with --source-admin-url as root) must end with
 * the source read-only, lag 0, verify equal, and the target's keys ahead of the highest ids.
 * Also: --dry-run touches nothing; a second cutover succeeds again without harm; --rollback
 * makes the source writable again. read_only is switched off in afterAll whatever happens: the
 * sandbox MariaDB is shared by the other tests.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCutover } from '../../src/cli/commands/cutover.js';
import { CliExit } from '../../src/cli/exit.js';
import { runCli } from '../../src/cli/program.js';
import { loadConfig } from '../../src/config/index.js';
import { connectCutoverDb } from '../../src/cutover/db.js';
import type { CutoverOutcome } from '../../src/cutover/index.js';
import { mysqlSourceAdmin } from '../../src/cutover/source-mysql.js';
import { FerryMetrics } from '../../src/metrics/metrics.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { collectStatus } from '../../src/pipeline/status.js';
import { captureIo } from '../helpers/capture-io.js';
import { getSandbox, mysqlRoot, pgFerry, pgSuper, uniqueName } from '../helpers/sandbox.js';
import { quietLogger, waitFor } from '../helpers/sink-harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Inserts (no explicit id) and updates orders until stopped; remembers the last error. */
class Writer {
  inserted = 0;
  failures = 0;
  lastError: { errno?: number; message: string } | null = null;
  private stopped = false;
  private done: Promise<void> = Promise.resolve();

  constructor(
    private readonly conn: mysql.Connection,
    private readonly db: string,
  ) {}

  start(): void {
    this.done = (async () => {
      let i = 0;
      while (!this.stopped) {
        i++;
        try {
          await this.conn.query(`INSERT INTO \`${this.db}\`.orders (customer, amount) VALUES (?, ?)`, [
            `writer ${i}`,
            (i % 1000) + 0.25,
          ]);
          if (i % 3 === 0) {
            await this.conn.query(`UPDATE \`${this.db}\`.orders SET amount = amount + 1 WHERE id = ?`, [1 + (i % 40)]);
          }
          this.inserted++;
          this.lastError = null;
        } catch (err) {
          this.failures++;
          this.lastError = err as { errno?: number; message: string };
        }
        await sleep(10);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

describe('ferry cutover (MariaDB → PostgreSQL)', () => {
  const s = getSandbox();
  const db = uniqueName('cut');
  const name = `cutover-${db.slice(4).replace(/_/g, '-')}`;
  const writerUser = `w_${db.slice(-10)}`;
  const writerPassword = 'writer-Pw-1';
  const rootUrl = `mysql://root:${encodeURIComponent(s.mysql.rootPassword)}@${s.mysql.host}:${s.mysql.port}/`;
  const dir = mkdtempSync(join(tmpdir(), 'ferry-cutover-'));
  const file = join(dir, 'pipeline.yaml');
  let root: mysql.Connection;
  let writerConn: mysql.Connection;
  let writer: Writer;
  let pipeline: Pipeline;
  let running: Promise<void>;

  async function readOnly(): Promise<number> {
    const [rows] = await root.query<mysql.RowDataPacket[]>('SELECT @@GLOBAL.read_only AS ro');
    return Number(rows[0]?.['ro']);
  }

  async function targetIdentity(table: string, column: string): Promise<{ identity: string; def: string | null }> {
    const c = await pgFerry();
    try {
      const r = await c.query(
        `SELECT a.attidentity, pg_get_expr(d.adbin, d.adrelid) AS def FROM pg_attribute a
           JOIN pg_class t ON t.oid = a.attrelid JOIN pg_namespace n ON n.oid = t.relnamespace
           LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
          WHERE n.nspname = $1 AND t.relname = $2 AND a.attname = $3`,
        [db, table, column],
      );
      return { identity: r.rows[0]?.attidentity ?? '', def: r.rows[0]?.def ?? null };
    } finally {
      await c.end();
    }
  }

  beforeAll(async () => {
    root = await mysqlRoot();
    await root.query('SET GLOBAL read_only = OFF');
    await root.query(`CREATE DATABASE \`${db}\``);
    await root.query(
      `CREATE TABLE \`${db}\`.orders (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, customer VARCHAR(50) NOT NULL,
         amount DECIMAL(10,2) NOT NULL)`,
    );
    // BIGINT UNSIGNED lands in numeric(20,0) on PostgreSQL: no identity there, a sequence instead.
    await root.query(
      `CREATE TABLE \`${db}\`.customers (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50))`,
    );
    await root.query(`CREATE TABLE \`${db}\`.tags (code VARCHAR(20) NOT NULL PRIMARY KEY, n INT)`);
    for (let i = 1; i <= 40; i++) {
      await root.query(`INSERT INTO \`${db}\`.orders (customer, amount) VALUES (?, ?)`, [`seed ${i}`, i]);
    }
    for (let i = 1; i <= 10; i++) await root.query(`INSERT INTO \`${db}\`.customers (name) VALUES (?)`, [`c${i}`]);
    // The source counter handed out 10, but the highest id left is 9: the target must go past 10.
    await root.query(`DELETE FROM \`${db}\`.customers WHERE id = 10`);
    await root.query(`INSERT INTO \`${db}\`.tags VALUES ('a', 1), ('b', 2)`);
    await root.query(`CREATE USER '${writerUser}'@'%' IDENTIFIED BY '${writerPassword}'`);
    await root.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON \`${db}\`.* TO '${writerUser}'@'%'`);

    const config = {
      name,
      kafka: { brokers: s.kafka.brokers, partitions: 2 },
      source: {
        kind: 'mysql',
        url: `mysql://${s.mysql.user}:${encodeURIComponent(s.mysql.password)}@${s.mysql.host}:${s.mysql.port}/${db}`,
        tables: [`${db}.*`],
        serverId: 3_000_000 + Math.floor(Math.random() * 1_000_000),
        heartbeatIntervalMs: 200,
      },
      sink: {
        kind: 'postgres',
        url: `postgres://${s.postgres.user}:${encodeURIComponent(s.postgres.password)}@${s.postgres.host}:${s.postgres.port}/${s.postgres.database}`,
        lingerMs: 20,
      },
      metrics: { enabled: false },
      log: { level: 'error', format: 'json' },
    };
    writeFileSync(file, JSON.stringify(config, null, 2));
    pipeline = new Pipeline(
      loadConfig(file),
      { source: true, sink: true },
      {
        logger: quietLogger(),
        metrics: new FerryMetrics(name),
        topicRefreshMs: 500,
      },
    );
    running = pipeline.run();
    running.catch(() => undefined);

    writerConn = await mysql.createConnection({
      host: s.mysql.host,
      port: s.mysql.port,
      user: writerUser,
      password: writerPassword,
    });
    writer = new Writer(writerConn, db);
    writer.start();

    // The sink has created the target tables and applied the snapshot.
    await waitFor(
      'the target tables',
      async () => {
        const c = await pgFerry();
        try {
          const r = await c.query(
            `SELECT (SELECT count(*) FROM "${db}".orders) AS o, (SELECT count(*) FROM "${db}".customers) AS c,
                    (SELECT count(*) FROM "${db}".tags) AS t`,
          );
          return Number(r.rows[0].o) >= 40 && Number(r.rows[0].c) === 9 && Number(r.rows[0].t) === 2;
        } finally {
          await c.end();
        }
      },
      60_000,
      300,
    );
  });

  afterAll(async () => {
    await root?.query('SET GLOBAL read_only = OFF').catch(() => undefined);
    await writer?.stop().catch(() => undefined);
    await writerConn?.end().catch(() => undefined);
    await pipeline?.stop().catch(() => undefined);
    await running?.catch(() => undefined);
    await root?.query(`DROP DATABASE IF EXISTS \`${db}\``).catch(() => undefined);
    await root?.query(`DROP USER IF EXISTS '${writerUser}'@'%'`).catch(() => undefined);
    await root?.end().catch(() => undefined);
    const su = await pgSuper().catch(() => null);
    await su?.query(`DROP SCHEMA IF EXISTS "${db}" CASCADE`).catch(() => undefined);
    await su?.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--dry-run prints the plan with its statements and changes nothing', async () => {
    const io = captureIo();
    const code = await runCli(['cutover', '-c', file, '--dry-run', '--source-admin-url', rootUrl], io);
    const out = io.stdout.join('\n');
    expect(code, `${out}\n${io.stderr.join('\n')}`).toBe(0);
    expect(out).toContain('would run: SET GLOBAL read_only = ON');
    expect(out).toContain(
      `would run: ALTER TABLE "${db}"."orders" ALTER COLUMN "id" ADD GENERATED BY DEFAULT AS IDENTITY (START WITH`,
    );
    expect(out).toContain(`would run: CREATE SEQUENCE "${db}"."customers_id_seq" START WITH 11`);
    expect(out).toContain('DRY RUN: nothing was changed');
    expect(out + io.stderr.join('\n')).not.toContain(s.mysql.rootPassword);
    expect(await readOnly()).toBe(0);
    expect(await targetIdentity('orders', 'id')).toEqual({ identity: '', def: null });
    const before = writer.inserted;
    await waitFor('the writer to go on writing', async () => writer.inserted > before + 3, 10_000, 50);
  });

  it('on a terminal, answering no changes nothing', async () => {
    const io = captureIo();
    const questions: string[] = [];
    const program = new Command('ferry').exitOverride();
    registerCutover(program, io, {
      confirm: async (q) => {
        questions.push(q);
        return false;
      },
    });
    const err = await program
      .parseAsync(['cutover', '-c', file, '--source-admin-url', rootUrl], { from: 'user' })
      .then(() => null)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliExit);
    expect((err as CliExit).exitCode).toBe(1);
    expect(questions).toHaveLength(1);
    expect(questions[0]).toContain('read-only');
    expect(io.stdout.join('\n')).toContain('you answered no; nothing was changed');
    expect(await readOnly()).toBe(0);
  });

  it('with a writer running: ends read-only, caught up, verified equal, with the target keys ahead', async () => {
    const before = writer.inserted;
    await waitFor('the writer to write', async () => writer.inserted > before + 10, 10_000, 50);
    const io = captureIo();
    const code = await runCli(
      ['cutover', '-c', file, '--yes', '--source-admin-url', rootUrl, '--timeout', '60', '--json'],
      io,
    );
    expect(code, `${io.stdout.join('\n')}\n${io.stderr.join('\n')}`).toBe(0);
    expect(io.stdout.join('\n') + io.stderr.join('\n')).not.toContain(s.mysql.rootPassword);
    const outcome = JSON.parse(io.stdout.join('\n')) as CutoverOutcome;
    expect(outcome.ok).toBe(true);
    expect(outcome.source.readOnly).toBe('set');
    expect(outcome.lagEvents).toBe(0);
    expect(outcome.verify?.equal).toBe(true);
    expect(outcome.verify?.tables.map((t) => t.source).sort()).toEqual(
      [`${db}.customers`, `${db}.orders`, `${db}.tags`].sort(),
    );
    expect(outcome.target.url).toContain(':***@');
    expect(outcome.target.url).not.toContain(s.postgres.password);
    expect(outcome.sequences.map((a) => `${a.target}.${a.column}:${a.kind}`).sort()).toEqual(
      [`${db}.customers.id:create-sequence`, `${db}.orders.id:add-identity`].sort(),
    );

    // The source is read-only: the writer's next write fails with the read-only error.
    expect(await readOnly()).toBe(1);
    await expect(
      writerConn.query(`INSERT INTO \`${db}\`.orders (customer, amount) VALUES ('late', 1)`),
    ).rejects.toMatchObject({ errno: 1290 });
    await waitFor('the writer to be refused', async () => writer.lastError?.errno === 1290, 5000, 20);

    // Lag 0, and source and target hold the same number of orders.
    const status = await collectStatus(loadConfig(file), quietLogger());
    expect(status.lagEvents).toBe(0);
    const [src] = await root.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n, MAX(id) AS m FROM \`${db}\`.orders`);
    const sourceMax = Number(src[0]?.['m']);
    expect(writer.inserted).toBeGreaterThan(10);
    expect(sourceMax).toBeGreaterThan(40);

    // An INSERT on the target without an explicit id succeeds and gets an id past the highest one
    // (rolled back, so the target stays equal to the source for the re-run below).
    const c = await pgFerry();
    try {
      await c.query('BEGIN');
      const o = await c.query(`INSERT INTO "${db}".orders (customer, amount) VALUES ('on target', 1) RETURNING id`);
      expect(Number(o.rows[0].id)).toBeGreaterThan(sourceMax);
      const cu = await c.query(`INSERT INTO "${db}".customers (name) VALUES ('on target') RETURNING id`);
      expect(Number(cu.rows[0].id)).toBeGreaterThan(10);
      await c.query('ROLLBACK');
    } finally {
      await c.end();
    }
    expect((await targetIdentity('orders', 'id')).identity).toBe('d');
    expect((await targetIdentity('customers', 'id')).def).toContain('customers_id_seq');
  });

  it('a second cutover succeeds again and changes nothing more', async () => {
    const io = captureIo();
    const code = await runCli(
      ['cutover', '-c', file, '--yes', '--source-admin-url', rootUrl, '--timeout', '60', '--json'],
      io,
    );
    expect(code, `${io.stdout.join('\n')}\n${io.stderr.join('\n')}`).toBe(0);
    const outcome = JSON.parse(io.stdout.join('\n')) as CutoverOutcome;
    expect(outcome.ok).toBe(true);
    expect(outcome.source.readOnly).toBe('already');
    expect(outcome.steps.find((x) => x.n === 2)?.status).toBe('already done');
    expect(outcome.sequences.every((a) => a.alreadyDone)).toBe(true);
    expect(outcome.steps.find((x) => x.n === 5)?.status).toBe('already done');
    expect(outcome.verify?.equal).toBe(true);
    expect(await readOnly()).toBe(1);
  });

  it('an idle source: the binlog after the stored position is read for changes of captured tables', async () => {
    const admin = mysqlSourceAdmin(
      await connectCutoverDb({
        kind: 'mysql',
        host: s.mysql.host,
        port: s.mysql.port,
        user: s.mysql.rootUser,
        password: s.mysql.rootPassword,
      }),
    );
    try {
      const filter = { include: [`${db}.*`], exclude: [], excludeColumns: [], keyColumns: {} };
      const at = await admin.currentPosition();
      if (at.kind !== 'mysql') throw new Error('expected a binlog position');
      const stored = {
        format: 1,
        connector: 'mysql',
        phase: 'stream' as const,
        position: { file: at.file, pos: at.pos, gtid: null, serverId: null },
        writtenAt: Date.now(),
      };
      // Root bypasses read_only: transactions on a table the pipeline does not capture.
      await root.query(`CREATE TABLE \`${db}_other\`.t (id INT PRIMARY KEY)`).catch(async () => {
        await root.query(`CREATE DATABASE \`${db}_other\``);
        await root.query(`CREATE TABLE \`${db}_other\`.t (id INT PRIMARY KEY)`);
      });
      for (let i = 1; i <= 3; i++) await root.query(`INSERT INTO \`${db}_other\`.t VALUES (?)`, [i]);
      const other = await admin.currentPosition();
      const clean = await admin.published(stored, other, filter);
      expect(clean.done, clean.detail).toBe(true);
      expect(clean.detail).toContain('holds no change of a captured table');
      await root.query(`INSERT INTO \`${db}\`.tags VALUES ('idle', 3)`);
      const captured = await admin.published(stored, await admin.currentPosition(), filter);
      expect(captured.done).toBe(false);
      expect(captured.detail).toContain('changes of captured tables not published yet');
    } finally {
      await admin.close();
      await root.query(`DROP DATABASE IF EXISTS \`${db}_other\``);
    }
  });

  it('--rollback makes the source writable again', async () => {
    const io = captureIo();
    const code = await runCli(['cutover', '-c', file, '--rollback', '--source-admin-url', rootUrl], io);
    expect(code, io.stderr.join('\n')).toBe(0);
    expect(io.stdout.join('\n')).toContain('writable');
    expect(await readOnly()).toBe(0);
    await writerConn.query(`INSERT INTO \`${db}\`.orders (customer, amount) VALUES ('after rollback', 1)`);
  });

  it('without the privilege to switch read-only, --yes takes the writers as stopped and carries on', async () => {
    await writer.stop();
    const io = captureIo();
    // The pipeline's own user (no READ_ONLY ADMIN), no --source-admin-url.
    const code = await runCli(['cutover', '-c', file, '--yes', '--timeout', '60', '--json'], io);
    expect(code, `${io.stdout.join('\n')}\n${io.stderr.join('\n')}`).toBe(0);
    const outcome = JSON.parse(io.stdout.join('\n')) as CutoverOutcome;
    const step2 = outcome.steps.find((x) => x.n === 2);
    expect(step2?.status).toBe('confirmed');
    expect(step2?.lines.join('\n')).toContain('READ_ONLY ADMIN');
    expect(step2?.lines.join('\n')).toContain('--source-admin-url');
    expect(outcome.source.readOnly).toBe('confirmed');
    expect(outcome.ok).toBe(true);
    expect(outcome.verify?.equal).toBe(true);
    expect(await readOnly()).toBe(0);
  });
});
