/**
 * ferry cutover against the sandbox, PostgreSQL → Kafka → MariaDB: the source database is
 * switched read-only with ALTER DATABASE … SET default_transaction_read_only (the ferry role owns
 * it, so no admin URL is needed); --terminate-sessions ends the writer's session, whose next
 * session is read-only; the MariaDB target's id columns become AUTO_INCREMENT past the highest
 * ids (a serial column and an identity column whose counter ran past the highest row).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { loadConfig } from '../../src/config/index.js';
import type { CutoverOutcome } from '../../src/cutover/index.js';
import { FerryMetrics } from '../../src/metrics/metrics.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { captureIo } from '../helpers/capture-io.js';
import { getSandbox, mysqlRoot, pgSuper, uniqueName } from '../helpers/sandbox.js';
import { quietLogger, waitFor } from '../helpers/sink-harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Inserts items until stopped, reconnecting when its session is ended; remembers the last error. */
class PgWriter {
  inserted = 0;
  lastError: { code?: string; message: string } | null = null;
  private stopped = false;
  private done: Promise<void> = Promise.resolve();
  private client: pg.Client | null = null;

  constructor(private readonly config: pg.ClientConfig) {}

  start(): void {
    this.done = (async () => {
      while (!this.stopped) {
        try {
          if (!this.client) {
            const c = new pg.Client(this.config);
            c.on('error', () => undefined);
            await c.connect();
            this.client = c;
          }
          await this.client.query('INSERT INTO app.items (name) VALUES ($1)', [`writer ${this.inserted}`]);
          this.inserted++;
          this.lastError = null;
        } catch (err) {
          this.lastError = err as { code?: string; message: string };
          const c = this.client;
          this.client = null;
          await c?.end().catch(() => undefined);
        }
        await sleep(10);
      }
      await this.client?.end().catch(() => undefined);
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

describe('ferry cutover (PostgreSQL → MariaDB)', () => {
  const s = getSandbox();
  const database = uniqueName('cutpg');
  const name = database.replace(/_/g, '-');
  const slot = `ferry_${database}`;
  const target = `${database}_t`;
  const writerRole = `w_${database.slice(-10)}`;
  const dir = mkdtempSync(join(tmpdir(), 'ferry-cutover-pg-'));
  const file = join(dir, 'pipeline.yaml');
  const superUrl = `postgres://${s.postgres.superUser}:${encodeURIComponent(s.postgres.superPassword)}@${s.postgres.host}:${s.postgres.port}/postgres`;
  let su: pg.Client;
  let owner: pg.Client;
  let writer: PgWriter;
  let pipeline: Pipeline;
  let running: Promise<void>;

  function ownerClient(): pg.Client {
    const c = new pg.Client({
      host: s.postgres.host,
      port: s.postgres.port,
      user: s.postgres.user,
      password: s.postgres.password,
      database,
    });
    c.on('error', () => undefined);
    return c;
  }

  beforeAll(async () => {
    su = await pgSuper();
    await su.query(`CREATE DATABASE "${database}" OWNER "${s.postgres.user}"`);
    await su.query(`CREATE ROLE "${writerRole}" LOGIN PASSWORD 'writer-Pw-1'`);
    owner = ownerClient();
    await owner.connect();
    await owner.query('CREATE SCHEMA app');
    await owner.query('CREATE TABLE app.items (id serial PRIMARY KEY, name text NOT NULL)');
    await owner.query('CREATE TABLE app.events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v int)');
    await owner.query(`INSERT INTO app.items (name) SELECT 'seed ' || g FROM generate_series(1, 20) g`);
    await owner.query('INSERT INTO app.events (v) SELECT g FROM generate_series(1, 30) g');
    // The identity handed out 30; the highest id left is 25: the target must go past 30.
    await owner.query('DELETE FROM app.events WHERE id > 25');
    await owner.query(`GRANT USAGE ON SCHEMA app TO "${writerRole}"`);
    await owner.query(`GRANT SELECT, INSERT ON app.items TO "${writerRole}"`);
    await owner.query(`GRANT USAGE ON SEQUENCE app.items_id_seq TO "${writerRole}"`);

    const setup = await mysqlRoot();
    await setup.query(`CREATE DATABASE \`${target}\``);
    await setup.end();

    const config = {
      name,
      kafka: { brokers: s.kafka.brokers, partitions: 2 },
      source: {
        kind: 'postgres',
        url: `postgres://${s.postgres.user}:${encodeURIComponent(s.postgres.password)}@${s.postgres.host}:${s.postgres.port}/${database}`,
        tables: ['app.*'],
        slot,
        publication: slot,
        heartbeatIntervalMs: 300,
      },
      sink: {
        kind: 'mysql',
        url: `mysql://${s.mysql.user}:${encodeURIComponent(s.mysql.password)}@${s.mysql.host}:${s.mysql.port}/${target}`,
        database: target,
        lingerMs: 20,
      },
      metrics: { enabled: false },
      log: { level: 'error', format: 'json' },
    };
    writeFileSync(file, JSON.stringify(config, null, 2));
    pipeline = new Pipeline(
      loadConfig(file),
      { source: true, sink: true },
      { logger: quietLogger(), metrics: new FerryMetrics(name), topicRefreshMs: 500 },
    );
    running = pipeline.run();
    running.catch(() => undefined);

    writer = new PgWriter({
      host: s.postgres.host,
      port: s.postgres.port,
      user: writerRole,
      password: 'writer-Pw-1',
      database,
    });
    writer.start();

    const root = await mysqlRoot();
    try {
      await waitFor(
        'the target tables',
        async () => {
          const [rows] = await root.query<mysql.RowDataPacket[]>(
            `SELECT (SELECT COUNT(*) FROM \`${target}\`.items) AS i, (SELECT COUNT(*) FROM \`${target}\`.events) AS e`,
          );
          return Number(rows[0]?.['i']) >= 20 && Number(rows[0]?.['e']) === 25;
        },
        60_000,
        300,
      );
    } finally {
      await root.end();
    }
  });

  afterAll(async () => {
    await su?.query(`ALTER DATABASE "${database}" RESET default_transaction_read_only`).catch(() => undefined);
    await writer?.stop().catch(() => undefined);
    await pipeline?.stop().catch(() => undefined);
    await running?.catch(() => undefined);
    await owner?.end().catch(() => undefined);
    await su
      ?.query('SELECT pg_drop_replication_slot($1) FROM pg_replication_slots WHERE slot_name = $1', [slot])
      .catch(() => undefined);
    await su?.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).catch(() => undefined);
    await su?.query(`DROP ROLE IF EXISTS "${writerRole}"`).catch(() => undefined);
    await su?.end().catch(() => undefined);
    const root = await mysqlRoot().catch(() => null);
    await root?.query(`DROP DATABASE IF EXISTS \`${target}\``).catch(() => undefined);
    await root?.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('switches the database read-only, ends the writer session, and makes the target ids AUTO_INCREMENT', async () => {
    const before = writer.inserted;
    await waitFor('the writer to write', async () => writer.inserted > before + 10, 10_000, 50);
    const io = captureIo();
    const code = await runCli(
      [
        'cutover',
        '-c',
        file,
        '--yes',
        '--terminate-sessions',
        '--source-admin-url',
        superUrl,
        '--timeout',
        '60',
        '--json',
      ],
      io,
    );
    expect(code, `${io.stdout.join('\n')}\n${io.stderr.join('\n')}`).toBe(0);
    const outcome = JSON.parse(io.stdout.join('\n')) as CutoverOutcome;
    expect(outcome.ok).toBe(true);
    expect(outcome.source.readOnly).toBe('set');
    expect(outcome.lagEvents).toBe(0);
    expect(outcome.verify?.equal).toBe(true);
    expect(outcome.steps.find((x) => x.n === 2)?.statements).toEqual([
      `ALTER DATABASE "${database}" SET default_transaction_read_only = on`,
    ]);
    expect(outcome.sequences.map((a) => `${a.target}.${a.column}:${a.kind}`).sort()).toEqual(
      [`${target}.events.id:make-auto-increment`, `${target}.items.id:make-auto-increment`].sort(),
    );

    // The writer's session was ended; its next session is read-only.
    await waitFor('the writer to be refused', async () => writer.lastError?.code === '25006', 10_000, 20);
    // The test's own session was ended too; a new one reads.
    await owner.end().catch(() => undefined);
    owner = ownerClient();
    await owner.connect();
    const [{ max }] = (await owner.query('SELECT max(id)::int AS max FROM app.items')).rows;
    expect(writer.inserted).toBeGreaterThan(10);
    expect(outcome.verify?.tables.find((t) => t.source === 'app.items')?.sourceRows).toBe(
      Number((await owner.query('SELECT count(*) AS n FROM app.items')).rows[0].n),
    );

    // INSERTs on the target without an explicit id get ids past the highest ones.
    const root = await mysqlRoot();
    try {
      const [i] = await root.query<mysql.ResultSetHeader>(
        `INSERT INTO \`${target}\`.items (name) VALUES ('on target')`,
      );
      expect(i.insertId).toBeGreaterThan(max);
      const [e] = await root.query<mysql.ResultSetHeader>(`INSERT INTO \`${target}\`.events (v) VALUES (99)`);
      expect(e.insertId).toBeGreaterThan(30);
    } finally {
      await root.end();
    }
  });

  it('--rollback resets the database setting', async () => {
    const io = captureIo();
    expect(await runCli(['cutover', '-c', file, '--rollback'], io), io.stderr.join('\n')).toBe(0);
    expect(io.stdout.join('\n')).toContain(`ALTER DATABASE "${database}" RESET default_transaction_read_only`);
    const r = await su.query(
      `SELECT count(*)::int AS n FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
        WHERE d.datname = $1`,
      [database],
    );
    expect(r.rows[0].n).toBe(0);
  });
});
