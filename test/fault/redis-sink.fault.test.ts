/**
 * Faults of the Redis sink against the sandbox:
 * - the sink process is SIGKILLed three times while it applies a large backlog (rows plus a
 *   change stream): after each kill the offsets stored in Redis describe exactly the rows and
 *   stream entries in Redis (one script per batch: never ahead, never behind); at the end the
 *   rows equal the source and the stream holds every change exactly once;
 * - Redis is stopped for about 20 s while events keep arriving, then started again (AOF keeps
 *   its data): the sink retries, loses nothing, and verify finds the table equal.
 */
import { join } from 'node:path';
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTopicToEnd } from '../../src/kafka/read-topic.js';
import { dataTopic } from '../../src/kafka/topics.js';
import { projectRoot, startServer, stopServer } from '../../src/sandbox/index.js';
import type { DbConn } from '../helpers/compare.js';
import { col, EventWriter, SourceTable, tableSchema } from '../helpers/events.js';
import {
  expectedHash,
  redisTarget,
  redisTestClient,
  sourceRows,
  type TestRedis,
  verifyRedisTable,
} from '../helpers/redis.js';
import { kafkaClient, sandboxDir, uniqueName } from '../helpers/sandbox.js';
import {
  ensureBuilt,
  mariadb,
  sinkMainOptions,
  spawnSink,
  startSink,
  waitFor,
  waitForCaughtUp,
} from '../helpers/sink-harness.js';

const ROWS = 30_000;

describe('Redis sink faults', () => {
  const kafka = kafkaClient('redis-fault');
  let my: mysql.Connection;
  let redis: TestRedis;

  beforeAll(async () => {
    ensureBuilt();
    my = await mariadb();
    redis = await redisTestClient();
  });
  afterAll(async () => {
    await my?.end();
    await redis?.close();
  });

  it('SIGKILL three times mid-backlog: offsets never ahead of rows, stream entries exactly once', async () => {
    const pipeline = uniqueName('rkill');
    const srcDb = `${pipeline}_src`;
    const group = `${pipeline}-redis`;
    const target = redisTarget({ streams: true });
    const logDir = join(projectRoot(), '.ferry', 'test-logs', pipeline);
    await my.query(`CREATE DATABASE \`${srcDb}\``);
    await my.query(
      `CREATE TABLE \`${srcDb}\`.big (id INT NOT NULL PRIMARY KEY, v INT NOT NULL, s VARCHAR(64) NOT NULL)`,
    );
    const schema = tableSchema(
      srcDb,
      'big',
      [
        col('id', 'int', 'int32'),
        col('v', 'int', 'int32', { nullable: false }),
        col('s', 'varchar(64)', 'string', { length: 64, nullable: false }),
      ],
      ['id'],
    );
    const db: DbConn = { engine: 'mysql', conn: my };
    const src = new SourceTable(db, schema);
    const writer = new EventWriter(kafka, pipeline, 4);
    await writer.schema(schema);
    await src.insertMany(
      Array.from({ length: ROWS }, (_, i) => ({ id: i + 1, v: i, s: `row ${i + 1} ${'x'.repeat(i % 40)}` })),
    );
    await writer.events(src.take());
    const topic = dataTopic(pipeline, srcDb, 'big');
    const records = await readTopicToEnd(kafka, topic);
    expect(records).toHaveLength(ROWS);
    const idAt = (r: { key: string | null }) => (JSON.parse(r.key!) as { id: number }).id;
    const index = `ferry:${pipeline}:keys:${srcDb}.big`;
    const stream = `${srcDb}.big.changes`;

    const storedOffsets = async (): Promise<Map<number, bigint>> => {
      const all = await redis.hGetAll(`ferry:${pipeline}:offsets:${group}`);
      return new Map(Object.entries(all).map(([field, next]) => [Number(field.split('#').pop()), BigInt(next)]));
    };
    const applied = async (): Promise<bigint> => {
      let n = 0n;
      for (const v of (await storedOffsets()).values()) n += v;
      return n;
    };

    const opts = sinkMainOptions(pipeline, group, target, { batchSize: 3000, topics: [topic] });
    let kills = 0;
    for (const share of [0.15, 0.4, 0.65]) {
      const proc = spawnSink(opts, logDir, `sink-${kills}`);
      const threshold = BigInt(Math.floor(ROWS * share));
      await waitFor(
        `the sink to apply ${threshold} events`,
        async () => (await applied()) >= threshold || proc.child.exitCode !== null,
        60_000,
        10,
      );
      expect(proc.child.exitCode).toBeNull();
      // Kill while it is still working through the backlog (next batch prepared or in flight).
      await proc.kill('SIGKILL');
      kills++;
      const stored = await storedOffsets();
      const expected = new Set<number>();
      for (const r of records) {
        const next = stored.get(r.partition);
        if (next !== undefined && BigInt(r.offset) < next) expected.add(idAt(r));
      }
      const keys = await redis.sMembers(index);
      const actual = new Set(keys.map((k) => Number(k.split(':').pop())));
      expect(actual.size, `rows after kill ${kills}`).toBe(expected.size);
      expect(
        [...expected].filter((id) => !actual.has(id)),
        `rows missing below stored offsets after kill ${kills}`,
      ).toEqual([]);
      expect(actual.size).toBeLessThan(ROWS);
      // The stream was written in the same script: exactly one entry per applied event.
      expect(await redis.xLen(stream), `stream entries after kill ${kills}`).toBe(expected.size);
    }
    expect(kills).toBe(3);

    // More changes while no sink runs, then one last sink that runs to the end.
    await my.query(`UPDATE \`${srcDb}\`.big SET v = v + 1000000 WHERE id % 10 = 0`);
    await my.query(`DELETE FROM \`${srcDb}\`.big WHERE id % 13 = 0`);
    const events = [];
    for (let id = 10; id <= ROWS; id += 10) {
      const before = { id, v: id - 1, s: `row ${id} ${'x'.repeat((id - 1) % 40)}` };
      events.push(src.tableEvents.update(before, { ...before, v: id - 1 + 1_000_000 }));
    }
    for (let id = 13; id <= ROWS; id += 13) {
      events.push(
        src.tableEvents.delete({
          id,
          v: id - 1 + (id % 10 === 0 ? 1_000_000 : 0),
          s: `row ${id} ${'x'.repeat((id - 1) % 40)}`,
        }),
      );
    }
    await writer.events(events);
    const last = spawnSink(opts, logDir, 'sink-last');
    try {
      await waitForCaughtUp(kafka, pipeline, group, target, [topic], 90_000);
    } finally {
      await last.kill('SIGTERM');
      await writer.close();
    }
    expect(await last.exited).toBe(0);
    const report = await verifyRedisTable('mysql', pipeline, schema);
    expect(report.tables[0]!.missing).toEqual([]);
    expect(report.tables[0]!.extra).toEqual([]);
    expect(report.tables[0]!.different).toEqual([]);
    expect(report.tables[0]!.sourceRows).toBe(ROWS - Math.floor(ROWS / 13));
    expect(await redis.xLen(stream)).toBe(ROWS + events.length);
    const entries = (await redis.xRange(stream, '-', '+')) ?? [];
    const identities = new Set(
      entries.map((e) => `${e.message['op']} ${e.message['key']} ${e.message['after'] ?? ''}`),
    );
    expect(identities.size).toBe(entries.length);
  });

  it('Redis down for 20 s mid-stream: nothing lost', async () => {
    const pipeline = uniqueName('routage');
    const srcDb = `${pipeline}_src`;
    const group = `${pipeline}-redis`;
    const target = redisTarget();
    await my.query(`CREATE DATABASE \`${srcDb}\``);
    await my.query(
      `CREATE TABLE \`${srcDb}\`.orders (id INT NOT NULL PRIMARY KEY, qty INT NOT NULL, note VARCHAR(40) NULL)`,
    );
    const schema = tableSchema(
      srcDb,
      'orders',
      [
        col('id', 'int', 'int32'),
        col('qty', 'int', 'int32', { nullable: false }),
        col('note', 'varchar(40)', 'string', { length: 40 }),
      ],
      ['id'],
    );
    const db: DbConn = { engine: 'mysql', conn: my };
    const src = new SourceTable(db, schema);
    const writer = new EventWriter(kafka, pipeline, 3);
    await writer.schema(schema);
    const topic = dataTopic(pipeline, srcDb, 'orders');
    let nextId = 1;
    const chunk = async (n: number) => {
      const rows = Array.from({ length: n }, () => {
        const id = nextId++;
        return { id, qty: id % 7, note: `order ${id}` };
      });
      await src.insertMany(rows);
      await src.update({ id: rows[0]!.id }, { qty: 999, note: null });
      await src.delete({ id: rows[1]!.id });
      await writer.events(src.take());
    };
    await chunk(2000);
    const sink = startSink({ pipeline, group, target, batchSize: 500, retryMaxMs: 3000 });
    const dir = sandboxDir();
    try {
      await waitForCaughtUp(kafka, pipeline, group, target, [topic], 60_000, [sink]);
      await chunk(500);
      await stopServer('redis', { dir });
      const downAt = Date.now();
      try {
        while (Date.now() - downAt < 20_000) {
          await chunk(300);
          await new Promise((r) => setTimeout(r, 2000));
        }
      } finally {
        await startServer('redis', { dir });
      }
      expect(sink.failure).toBeNull();
      await waitForCaughtUp(kafka, pipeline, group, target, [topic], 90_000, [sink]);
      const errors = await sink.metrics.errors.get();
      expect(errors.values.some((v) => v.labels['code'] === 'FERRY_CONNECTION' && v.value > 0)).toBe(true);
      const check = await redisTestClient();
      try {
        const rows = await sourceRows(db, schema);
        expect(rows.length).toBeGreaterThan(4000);
        for (const { key, row } of rows.slice(0, 200))
          expect(await check.hGetAll(key)).toEqual(expectedHash(schema, row));
      } finally {
        await check.close();
      }
      const report = await verifyRedisTable('mysql', pipeline, schema);
      expect(report.tables[0]!.missing).toEqual([]);
      expect(report.tables[0]!.extra).toEqual([]);
      expect(report.tables[0]!.different).toEqual([]);
      expect(report.equal).toBe(true);
    } finally {
      await sink.stop();
      await writer.close();
    }
  });
});
