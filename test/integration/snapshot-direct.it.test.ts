/**
 * The direct snapshot lane (`source.snapshotTransport: direct`, docs/snapshots.md#direct-lane):
 * `ferry run` copies a table of 6,000 rows straight into the target while an application
 * inserts, updates and deletes in it, is SIGKILLed once in the middle of the copy and started
 * again. At the end `ferry verify` says equal, the data topic holds the changes but no snapshot
 * row (the copy did not go through Kafka), and ferry_snapshot_rows_total counted the rows.
 * MariaDB → PostgreSQL, PostgreSQL → PostgreSQL and MariaDB → MariaDB.
 *
 * A chunk the target rejects (a text with U+0000, which PostgreSQL cannot hold) goes through
 * Kafka instead: the sink dead-letters that one row and applies the others.
 */
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataTopic } from '../../src/kafka/topics.js';
import {
  dropSourceDatabase,
  ensureCliBuilt,
  eventually,
  type FerryProcess,
  freePort,
  parsedConfig,
  parseMetrics,
  startFerry,
  sum,
} from '../helpers/cli.js';
import { deadLetterCount, dropPgSlot, readDeadLetters } from '../helpers/e2e.js';
import { events, readEnvelopes, sandboxKafka, storedOffset } from '../helpers/kafka.js';
import { mysqlRoot, pgFerry, pgSuper, uniqueName } from '../helpers/sandbox.js';
import { statusJson, verifyEqual, withLog, writeSnapshotPipeline } from '../helpers/snapshot-pipeline.js';

const ROWS = 6_000;
const running: FerryProcess[] = [];
const cleanups: Array<() => Promise<void>> = [];
let kafka: Kafka;

beforeAll(() => {
  ensureCliBuilt();
  kafka = sandboxKafka();
}, 300_000);
afterAll(async () => {
  for (const p of running) await p.stop('SIGKILL');
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface SourceApp {
  kind: 'mysql' | 'postgres';
  namespace: string;
  targetSchema: string;
  sink: 'postgres' | 'mysql';
  exec(sql: string, values?: unknown[]): Promise<void>;
  end(): Promise<void>;
}

/** `?` placeholders numbered for PostgreSQL ($1, $2, …). */
const numbered = (sql: string) => {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
};

async function mariadbSource(sink: 'postgres' | 'mysql'): Promise<SourceApp> {
  const db = uniqueName('ferry_direct');
  const target = `${db}_t`;
  const root = await mysqlRoot();
  await root.query('CREATE DATABASE ??', [db]);
  await root.query('USE ??', [db]);
  await root.query('CREATE TABLE items (id INT PRIMARY KEY, v BIGINT NOT NULL, note VARCHAR(40) NULL)');
  for (let i = 0; i < ROWS; i += 3000) {
    await root.query('INSERT INTO items (id, v, note) VALUES ?', [
      Array.from({ length: 3000 }, (_, k) => [i + k + 1, 0, `row ${i + k + 1}`]),
    ]);
  }
  if (sink === 'mysql') await root.query('CREATE DATABASE ??', [target]);
  cleanups.push(async () => {
    if (sink === 'mysql') await dropSourceDatabase(target);
    else {
      const pgc = await pgSuper();
      await pgc.query(`DROP SCHEMA IF EXISTS ${pgc.escapeIdentifier(target)} CASCADE`).finally(() => pgc.end());
    }
    await dropSourceDatabase(db);
  });
  return {
    kind: 'mysql',
    namespace: db,
    targetSchema: target,
    sink,
    exec: async (sql, values) => void (await root.query(sql, values)),
    end: () => root.end(),
  };
}

async function postgresSource(): Promise<SourceApp> {
  const schema = uniqueName('ferry_direct_pg').toLowerCase();
  const target = `${schema}_t`;
  const app = await pgFerry();
  app.on('error', () => undefined);
  await app.query(`CREATE SCHEMA ${app.escapeIdentifier(schema)}`);
  await app.query(`SET search_path TO ${app.escapeIdentifier(schema)}`);
  await app.query('CREATE TABLE items (id int PRIMARY KEY, v bigint NOT NULL, note varchar(40))');
  await app.query(`INSERT INTO items SELECT g, 0, 'row ' || g FROM generate_series(1, ${ROWS}) g`);
  cleanups.push(async () => {
    const pgc = await pgSuper();
    try {
      await pgc.query(`DROP SCHEMA IF EXISTS ${pgc.escapeIdentifier(schema)} CASCADE`);
      await pgc.query(`DROP SCHEMA IF EXISTS ${pgc.escapeIdentifier(target)} CASCADE`);
    } finally {
      await pgc.end();
    }
  });
  return {
    kind: 'postgres',
    namespace: schema,
    targetSchema: target,
    sink: 'postgres',
    exec: async (sql, values) => void (await app.query(numbered(sql), values)),
    end: () => app.end(),
  };
}

/** Inserts, updates and deletes with a growing v, one statement per transaction, until stopped. */
class Writer {
  private running = true;
  private loop: Promise<void> = Promise.resolve();
  private failure: Error | null = null;
  private counter = 0;
  private next = ROWS + 1;
  private readonly deleted = new Set<number>();
  readonly ops = { insert: 0, update: 0, delete: 0 };

  constructor(private readonly app: SourceApp) {}

  start(): void {
    this.loop = this.run().catch((err: Error) => {
      this.failure = err;
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    if (this.failure) throw this.failure;
  }

  private pick(): number {
    for (;;) {
      const id = 1 + Math.floor(Math.random() * (this.next - 1));
      if (!this.deleted.has(id)) return id;
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      const v = ++this.counter;
      const dice = Math.random();
      if (dice < 0.2) {
        const id = this.next++;
        await this.app.exec('INSERT INTO items (id, v, note) VALUES (?, ?, ?)', [id, v, `new ${id}`]);
        this.ops.insert++;
      } else if (dice < 0.35) {
        const id = this.pick();
        this.deleted.add(id);
        await this.app.exec('DELETE FROM items WHERE id = ?', [id]);
        this.ops.delete++;
      } else {
        // Spread over the whole key range: rows the copy has not reached yet and rows it passed.
        await this.app.exec('UPDATE items SET v = ?, note = ? WHERE id = ?', [v, `upd ${v}`, this.pick()]);
        this.ops.update++;
      }
      await sleep(3);
    }
  }
}

async function metric(port: number, name: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  return sum(parseMetrics(await res.text()), name);
}

describe.each([
  ['MariaDB → PostgreSQL', () => mariadbSource('postgres')],
  ['PostgreSQL → PostgreSQL', postgresSource],
  ['MariaDB → MariaDB', () => mariadbSource('mysql')],
])('direct snapshot lane, %s', (_label, make) => {
  it('copies the table into the target beside the stream, survives a SIGKILL mid-copy, ends equal with no snapshot row in Kafka', async () => {
    const app = await make();
    cleanups.push(() => app.end());
    const name = uniqueName(`direct_${app.kind}_${app.sink}`).replace(/_/g, '-');
    const port = await freePort();
    const p = writeSnapshotPipeline({
      name,
      source: app.kind,
      namespace: app.namespace,
      targetSchema: app.targetSchema,
      sink: app.sink,
      metricsPort: port,
      // Tiny chunks: the copy takes hundreds of them, so the kill below lands in its middle.
      chunkSize: 20,
      parallelism: 1,
      snapshotTransport: 'direct',
    });
    if (app.kind === 'postgres') {
      const config = parsedConfig(p.file, p.env);
      cleanups.push(() => dropPgSlot(config));
    }
    const writer = new Writer(app);
    writer.start();
    let ferry = startFerry(['run', '-c', p.file, '--no-progress'], p.env);
    running.push(ferry);
    // Killed once the copy is under way (some rows written directly, the table not done).
    const copied = await withLog(ferry, async () => {
      let rows = 0;
      await eventually(
        'the direct copy to be under way',
        async () => {
          rows = await metric(port, 'ferry_snapshot_rows_total').catch(() => 0);
          return rows >= 100;
        },
        120_000,
        20,
      );
      return rows;
    });
    await ferry.stop('SIGKILL');
    expect(copied).toBeLessThan(ROWS);
    // The stored progress says the copy is unfinished: the restart has rows left to write.
    expect((await storedOffset(kafka, name))?.phase).toBe('snapshot');
    ferry = startFerry(['run', '-c', p.file, '--no-progress'], p.env);
    running.push(ferry);
    await withLog(ferry, () =>
      eventually(
        'the snapshot to end (status --json: stream)',
        async () => (await statusJson(p)).source.phase === 'stream',
        180_000,
        500,
      ),
    );
    const directRows = await metric(port, 'ferry_snapshot_rows_total');
    await sleep(500);
    await writer.stop();
    await withLog(ferry, () => verifyEqual(p));
    expect(writer.ops.update).toBeGreaterThan(0);
    expect(writer.ops.delete).toBeGreaterThan(0);

    // The copy went straight into the target: the topic holds the application's changes only.
    const records = events(await readEnvelopes(kafka, dataTopic(name, app.namespace, 'items')));
    const ops = new Map<string, number>();
    for (const r of records) ops.set(r.value.op, (ops.get(r.value.op) ?? 0) + 1);
    const fellBack = (ferry.stderr() + ferry.stdout()).split('\n').filter((l) => /through Kafka/.test(l));
    expect(ops.get('r') ?? 0, fellBack.join('\n')).toBe(0);
    expect(ops.get('u') ?? 0).toBeGreaterThan(0);
    expect(ops.get('d') ?? 0).toBeGreaterThan(0);
    // The restarted run copied the rest (rows whose keys changed in a chunk's window come from the stream).
    expect(directRows).toBeGreaterThan(0);
    expect(directRows).toBeLessThanOrEqual(ROWS + writer.ops.insert);
    const stopped = await ferry.stop('SIGTERM');
    expect(stopped.code).toBe(0);
  });
});

describe('direct snapshot lane: a chunk the target rejects', () => {
  it('goes through Kafka; the sink dead-letters the one row PostgreSQL cannot hold and applies the rest', async () => {
    const db = uniqueName('ferry_direct_nul');
    const root = await mysqlRoot();
    cleanups.push(async () => {
      await root.end();
      const pgc = await pgSuper();
      await pgc.query(`DROP SCHEMA IF EXISTS ${pgc.escapeIdentifier(db)} CASCADE`).finally(() => pgc.end());
      await dropSourceDatabase(db);
    });
    await root.query('CREATE DATABASE ??', [db]);
    await root.query('USE ??', [db]);
    await root.query('CREATE TABLE t (id INT PRIMARY KEY, note TEXT NOT NULL)');
    await root.query('INSERT INTO t (id, note) VALUES ?', [
      Array.from({ length: 1000 }, (_, k) => [k + 1, k + 1 === 650 ? 'bad \u0000 text' : `ok ${k + 1}`]),
    ]);
    const name = uniqueName('direct-nul').replace(/_/g, '-');
    const port = await freePort();
    const p = writeSnapshotPipeline({
      name,
      source: 'mysql',
      namespace: db,
      metricsPort: port,
      chunkSize: 100,
      parallelism: 1,
      snapshotTransport: 'direct',
    });
    const ferry = startFerry(['run', '-c', p.file, '--no-progress'], p.env);
    running.push(ferry);
    await withLog(ferry, async () => {
      await eventually('the dead letter', async () => (await deadLetterCount(kafka, name)) >= 1, 120_000, 500);
      const pgc = await pgSuper();
      try {
        await eventually(
          '999 rows at the target',
          async () => {
            const r = await pgc.query(`SELECT count(*)::int AS n FROM ${pgc.escapeIdentifier(db)}.t`).catch(() => null);
            return r?.rows[0]?.n === 999;
          },
          60_000,
          500,
        );
        const missing = await pgc.query(`SELECT count(*)::int AS n FROM ${pgc.escapeIdentifier(db)}.t WHERE id = 650`);
        expect(missing.rows[0].n).toBe(0);
      } finally {
        await pgc.end();
      }
    });
    const [letter] = await readDeadLetters(kafka, name, 1);
    expect(JSON.stringify(letter)).toMatch(/650/);
    // Only the rejected chunk (rows 601..700) went through Kafka; the others were written directly.
    const records = events(await readEnvelopes(kafka, dataTopic(name, db, 't')));
    const snapshotIds = records.filter((r) => r.value.op === 'r').map((r) => Number(r.value.after?.['id']));
    expect(snapshotIds.sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, k) => 601 + k));
    expect(ferry.stderr() + ferry.stdout()).toMatch(/could not be written into the target directly/);
    await ferry.stop('SIGTERM');
  });
});
