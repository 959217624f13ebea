/**
 * A sharded sink (docs/sharding.md): MariaDB -> Kafka -> three PostgreSQL databases, with a mixed
 * workload (inserts, updates, deletes, key changes that move rows across shards) on a hashed
 * table, a ring-routed table with a composite key and a broadcast table. Along the way one
 * shard refuses connections for 20 s (the others must keep applying), and the sink process is
 * SIGKILLed three times while it applies. At the end `ferry verify` (verifyPipeline) must say
 * that every row is on its shard, the union equals the source, and no row is anywhere twice.
 * Then `ferry cutover` (runCutover) on the sharded target: an INSERT without an id on each shard
 * gets an id above the source maximum, and no two shards hand out the same id.
 */
import type { Kafka } from 'kafkajs';
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PipelineConfig, parseConfig } from '../../src/config/index.js';
import { runCutover } from '../../src/cutover/index.js';
import { createKafka } from '../../src/kafka/client.js';
import { hashShard } from '../../src/sharding/index.js';
import { verifyPipeline } from '../../src/verify/index.js';
import { ensureCliBuilt, type FerryProcess, startFerry, testDir, writeConfig } from '../helpers/cli.js';
import { deletePipelineTopics } from '../helpers/e2e.js';
import { pollUntil } from '../helpers/poll.js';
import { getSandbox, pgSuper, uniqueName } from '../helpers/sandbox.js';
import { mariadb, quietLogger } from '../helpers/sink-harness.js';

const SHARDS = ['s1', 's2', 's3'];

describe('sharded sink: MariaDB -> three PostgreSQL databases', () => {
  const db = uniqueName('shard');
  const name = db.replace(/_/g, '-');
  const shardDbs = SHARDS.map((s) => `${db}_${s}`);
  const kafka: Kafka = createKafka({ brokers: getSandbox().kafka.brokers, clientId: 'ferry-shard-test' });
  const dir = testDir(name);
  const procs: FerryProcess[] = [];
  let my: mysql.Connection;
  let file: string;
  let config: PipelineConfig;
  let env: Record<string, string>;

  function startSink(): FerryProcess {
    const p = startFerry(['sink', '-c', file], env);
    procs.push(p);
    return p;
  }

  beforeAll(async () => {
    ensureCliBuilt();
    const s = getSandbox();
    const admin = await pgSuper();
    try {
      for (const d of shardDbs) await admin.query(`CREATE DATABASE "${d}" OWNER "${s.postgres.user}"`);
    } finally {
      await admin.end();
    }
    my = await mariadb();
    await my.query(`CREATE DATABASE \`${db}\``);
    await my.query(
      `CREATE TABLE \`${db}\`.items (id int AUTO_INCREMENT PRIMARY KEY, grp varchar(20) NOT NULL, qty int NOT NULL)`,
    );
    await my.query(
      `CREATE TABLE \`${db}\`.events (region varchar(8) NOT NULL, id int NOT NULL, body text, PRIMARY KEY (region, id))`,
    );
    await my.query(`CREATE TABLE \`${db}\`.countries (code char(2) PRIMARY KEY, name varchar(40) NOT NULL)`);
    const items = Array.from({ length: 600 }, (_, i) => [i + 1, `g${i % 7}`, i]);
    await my.query(`INSERT INTO \`${db}\`.items VALUES ?`, [items]);
    const events = Array.from({ length: 150 }, (_, i) => [['eu', 'us', 'ap'][i % 3], i, `e${i}`]);
    await my.query(`INSERT INTO \`${db}\`.events VALUES ?`, [events]);
    await my.query(
      `INSERT INTO \`${db}\`.countries VALUES ('de','Germany'),('fr','France'),('jp','Japan'),('br','Brazil')`,
    );
    env = { SOURCE_PASSWORD: s.mysql.password, TARGET_PASSWORD: s.postgres.password };
    const pgUrl = (d: string) =>
      `postgres://${s.postgres.user}:\${TARGET_PASSWORD}@${s.postgres.host}:${s.postgres.port}/${d}`;
    const text = JSON.stringify({
      name,
      kafka: { brokers: s.kafka.brokers, partitions: 3, sessionTimeoutMs: 10_000 },
      source: {
        kind: 'mysql',
        url: `mysql://${s.mysql.user}:\${SOURCE_PASSWORD}@${s.mysql.host}:${s.mysql.port}/${db}`,
        tables: [`${db}.*`],
        snapshotChunkSize: 200,
        heartbeatIntervalMs: 500,
      },
      sink: {
        kind: 'postgres',
        shards: SHARDS.map((n, i) => ({ name: n, url: pgUrl(shardDbs[i]!) })),
        routing: { rule: 'hash', tables: { [`${db}.countries`]: 'broadcast', [`${db}.events`]: 'ring' } },
        batchSize: 200,
        lingerMs: 20,
        maxRetries: 0,
      },
      metrics: { enabled: false },
      log: { level: 'info' },
    });
    file = writeConfig(dir, 'pipeline', text);
    config = parseConfig(text, { env, file });
  }, 300_000);

  afterAll(async () => {
    for (const p of procs) await p.stop('SIGKILL').catch(() => undefined);
    await deletePipelineTopics(kafka, name).catch(() => undefined);
    await my?.query(`DROP DATABASE IF EXISTS \`${db}\``).catch(() => undefined);
    await my?.end();
    const admin = await pgSuper();
    try {
      for (const d of shardDbs) {
        await admin.query(`ALTER DATABASE "${d}" ALLOW_CONNECTIONS true`).catch(() => undefined);
        await admin.query(`DROP DATABASE IF EXISTS "${d}" WITH (FORCE)`).catch(() => undefined);
      }
    } finally {
      await admin.end();
    }
  });

  async function onShard<T>(index: number, sql: string, params: unknown[] = []): Promise<T[]> {
    const s = getSandbox();
    const pg = (await import('pg')).default;
    const c = new pg.Client({
      host: s.postgres.host,
      port: s.postgres.port,
      user: s.postgres.user,
      password: s.postgres.password,
      database: shardDbs[index],
    });
    await c.connect();
    try {
      return (await c.query(sql, params)).rows as T[];
    } finally {
      await c.end();
    }
  }

  async function shardCount(index: number, table: string, where = 'true', params: unknown[] = []): Promise<number> {
    const rows = await onShard<{ n: number }>(
      index,
      `SELECT count(*)::int AS n FROM "${db}"."${table}" WHERE ${where}`,
      params,
    );
    return rows[0]!.n;
  }

  let nextId = 10_000;
  let crossed = 0;
  /** A burst of mixed changes: inserts, updates, deletes and key changes (some to another shard). */
  async function workload(rounds: number): Promise<void> {
    for (let i = 0; i < rounds; i++) {
      const id = nextId++;
      await my.query(`INSERT INTO \`${db}\`.items VALUES (?, 'new', ?)`, [id, i]);
      await my.query(`UPDATE \`${db}\`.items SET qty = qty + 1 WHERE id = ?`, [(i * 7) % 600]);
      if (i % 3 === 0) await my.query(`DELETE FROM \`${db}\`.items WHERE id = ?`, [(i * 13) % 600]);
      if (i % 4 === 0) {
        const [rows] = await my.query<mysql.RowDataPacket[]>(`SELECT id FROM \`${db}\`.items WHERE id < 10000 LIMIT 1`);
        const old = rows[0]?.['id'] as number | undefined;
        if (old !== undefined) {
          const moved = 200_000 + old;
          await my.query(`UPDATE \`${db}\`.items SET id = ? WHERE id = ?`, [moved, old]);
          if (hashShard([old], 3) !== hashShard([moved], 3)) crossed++;
        }
      }
      if (i % 5 === 0) {
        await my.query(`INSERT INTO \`${db}\`.events VALUES (?, ?, 'x')`, [['eu', 'us', 'ap'][i % 3], id]);
        await my.query(`UPDATE \`${db}\`.events SET body = CONCAT(body, '+') WHERE id = ?`, [i % 150]);
      }
      if (i % 50 === 0) await my.query(`UPDATE \`${db}\`.countries SET name = CONCAT(name, '.') WHERE code = 'de'`);
    }
  }

  it('keeps every row on its shard through a shard outage and three sink kills; the union equals the source', async () => {
    const source = startFerry(['source', '-c', file], env);
    procs.push(source);
    let sink = startSink();
    await workload(60);
    await pollUntil(
      'the snapshot on every shard',
      async () => (await shardCount(0, 'countries')) === 4,
      120_000,
      500,
    ).catch((err: Error) => {
      throw new Error(
        `${err.message}\nsink: ${sink.stderr().slice(-3000)}${sink.stdout().slice(-3000)}\nsource: ${source.stderr().slice(-2000)}`,
      );
    });

    // One shard refuses connections for 20 s; rows of the other shards keep arriving meanwhile.
    const admin = await pgSuper();
    const down = 1;
    try {
      await admin.query(`ALTER DATABASE "${shardDbs[down]}" ALLOW_CONNECTIONS false`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [shardDbs[down]]);
      const outageStarted = Date.now();
      const markers: Array<{ id: number; shard: number }> = [];
      for (let id = 900_000; markers.length < 6; id++) {
        const shard = hashShard([id], 3);
        if (shard !== down) markers.push({ id, shard });
      }
      await workload(30);
      for (const m of markers) await my.query(`INSERT INTO \`${db}\`.items VALUES (?, 'marker', 0)`, [m.id]);
      await pollUntil(
        'the other shards to apply rows written while one shard is down',
        async () => {
          for (const m of markers) if ((await shardCount(m.shard, 'items', 'id = $1', [m.id])) !== 1) return false;
          return true;
        },
        60_000,
        500,
      );
      const rest = 20_000 - (Date.now() - outageStarted);
      if (rest > 0) await new Promise((r) => setTimeout(r, rest));
      await workload(20);
    } finally {
      await admin.query(`ALTER DATABASE "${shardDbs[down]}" ALLOW_CONNECTIONS true`);
      await admin.end();
    }

    // Three SIGKILLs while the sink applies a stream of changes.
    for (let k = 0; k < 3; k++) {
      const burst = workload(80);
      await sink.waitForOutput(/partitions assigned/, 120_000);
      await new Promise((r) => setTimeout(r, 1500 + k * 700));
      await sink.stop('SIGKILL');
      await burst;
      sink = startSink();
    }
    await workload(20);

    const report = await pollUntil(
      'verify: every row on its shard and the union equal to the source',
      async () => {
        const r = await verifyPipeline(config, { chunkSize: 500, recheck: { attempts: 0, delayMs: 0 } });
        return r.equal ? r : null;
      },
      240_000,
      2000,
    );
    const byTable = Object.fromEntries(report.tables.map((t) => [t.source.split('.')[1], t]));
    const items = byTable['items']!;
    const rows = items.shards!.rows;
    console.log(
      `sharded: items ${items.sourceRows} rows at the source; per shard ${JSON.stringify(rows)}; ` +
        `events per shard ${JSON.stringify(byTable['events']!.shards!.rows)}; key changes across shards: ${crossed}`,
    );
    expect(items.targetRows).toBe(items.sourceRows);
    for (const n of Object.values(rows) as number[]) expect(n / items.sourceRows).toBeGreaterThan(0.25);
    expect(byTable['events']!.shards!.rule).toBe('ring');
    expect(byTable['countries']!.shards!.rows).toEqual({ s1: 4, s2: 4, s3: 4 });
    expect(crossed).toBeGreaterThan(0);
    for (const t of report.tables) expect(t.shards!.findings).toEqual([]);
    // Each shard keeps its own offsets, and all reached the same place.
    const pg = (await import('pg')).default;
    const offsets: string[] = [];
    for (const d of shardDbs) {
      const s = getSandbox();
      const c = new pg.Client({
        host: s.postgres.host,
        port: s.postgres.port,
        user: s.postgres.user,
        password: s.postgres.password,
        database: d,
      });
      await c.connect();
      const r = await c.query('SELECT topic, partition, next_offset FROM ferry_offsets ORDER BY 1, 2');
      offsets.push(JSON.stringify(r.rows.map((x) => [x.topic, x.partition, String(x.next_offset)])));
      await c.end();
    }
    expect(new Set(offsets).size).toBe(1);
  }, 600_000);

  it('cutover gives every shard its own ids above the source maximum (offset/step per shard)', async () => {
    // Writes have stopped (the workload is over); --no-read-only keeps the shared MariaDB writable.
    const outcome = await runCutover(config, {
      logger: quietLogger(),
      yes: true,
      readOnly: false,
      timeoutMs: 240_000,
      verify: { chunkSize: 500 },
    });
    expect(outcome.error, JSON.stringify(outcome.steps, null, 1)).toBeNull();
    expect(outcome.ok).toBe(true);
    const onItems = outcome.sequences.filter((a) => a.target.endsWith('.items'));
    expect(onItems.map((a) => a.shard)).toEqual(SHARDS);
    const [rows] = await my.query<mysql.RowDataPacket[]>(`SELECT MAX(id) AS m FROM \`${db}\`.items`);
    const sourceMax = Number(rows[0]!['m']);
    const ids: number[][] = [];
    for (let i = 0; i < SHARDS.length; i++) {
      const got: number[] = [];
      for (let k = 0; k < 2; k++) {
        const r = await onShard<{ id: number }>(
          i,
          `INSERT INTO "${db}"."items" (grp, qty) VALUES ('app', 0) RETURNING id`,
        );
        got.push(Number(r[0]!.id));
      }
      ids.push(got);
    }
    console.log(`cutover: source max ${sourceMax}; ids handed out per shard ${JSON.stringify(ids)}`);
    const all = ids.flat();
    expect(new Set(all).size).toBe(all.length);
    for (const [i, got] of ids.entries()) {
      for (const id of got) {
        expect(id).toBeGreaterThan(sourceMax);
        expect(id % SHARDS.length).toBe((i + 1) % SHARDS.length);
      }
    }
  }, 300_000);
});
