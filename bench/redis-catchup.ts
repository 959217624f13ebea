/**
 * Catch-up throughput of the Redis sink (not run by CI): how fast a sink works off a backlog in
 * Kafka into Redis, on the local sandbox.
 *   1. a table of 10 mixed columns (bigint, int, smallint, decimal, varchar, datetime(6),
 *      timestamp(6), boolean, json, text); C change events are produced to its topic the way
 *      the sources publish them (schema record, Debezium envelopes keyed by primary key, 6
 *      partitions): 50% inserts of new rows, 35% updates of earlier rows, 15% deletes;
 *   2. a sink runtime with the Redis sink (as `ferry sink` runs it) starts on that backlog;
 *      events/s from its start until the offsets stored in Redis reach the end of every
 *      partition;
 *   3. the result is checked: the table's key index holds exactly the live keys, and every live
 *      row's hash (or JSON) equals the last image produced for it.
 * Prints a results line per format and one line `BENCH_JSON {...}`.
 *
 * Run (compile first; `npm run bench:redis -- ...` does both):
 *   node .ferry/bench-build/bench/redis-catchup.js [changes=200000] [formats=hash,json+streams] [batchSize=5000]
 * It starts (or reuses) the sandbox in .ferry/bench-sandbox, or FERRY_BENCH_SANDBOX_DIR, and
 * leaves it running. Every run uses a new pipeline name; its keys are deleted at the end.
 */
import { join } from 'node:path';
import { createClient } from 'redis';
import { hashFields, jsonValue, type RedisSinkOptions } from '../connectors/redis-sink/index.js';
import { type ChangeEvent, type Row, type TableSchema, withVersion } from '../src/api/index.js';
import { keyJson, toEnvelope } from '../src/event/envelope.js';
import { ensureTopics, withAdmin } from '../src/kafka/admin.js';
import { createKafka } from '../src/kafka/client.js';
import { createRecordProducer, type OutMessage } from '../src/kafka/producer.js';
import { dataTopic, schemasTopic } from '../src/kafka/topics.js';
import { createLogger } from '../src/log/index.js';
import { FerryMetrics } from '../src/metrics/metrics.js';
import { createSinkConnector } from '../src/runtime/sink/connectors.js';
import { SinkRuntime } from '../src/runtime/sink/runtime.js';
import { projectRoot, sandboxUp } from '../src/sandbox/index.js';

const CHANGES = Number(process.argv[2] ?? 200_000);
const FORMATS = (process.argv[3] ?? 'hash,json+streams').split(',');
const BATCH_SIZE = Number(process.argv[4] ?? 5000);
const PARTITIONS = 6;
const nf = new Intl.NumberFormat('en-US');
const log = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const col = (name: string, sourceType: string, kind: TableSchema['columns'][number]['kind'], nullable = true) => ({
  name,
  sourceType,
  kind,
  nullable,
});

function schemaOf(db: string): TableSchema {
  return withVersion({
    db,
    table: 'items',
    columns: [
      col('id', 'bigint', 'int64', false),
      col('qty', 'int', 'int32'),
      col('small', 'smallint', 'int16'),
      col('price', 'decimal(12,2)', 'decimal'),
      col('name', 'varchar(100)', 'string'),
      col('created', 'datetime(6)', 'timestamp'),
      col('changed', 'timestamp(6)', 'timestamptz'),
      col('active', 'tinyint(1)', 'boolean'),
      col('attrs', 'json', 'json'),
      col('note', 'text', 'string'),
    ],
    primaryKey: ['id'],
    sourceKind: 'mysql',
  });
}

function rowOf(id: number, version: number): Row {
  return {
    id,
    qty: (id * 7 + version) % 1000,
    small: id % 30000,
    price: `${(id % 100000) + version}.${String(id % 100).padStart(2, '0')}`,
    name: `item ${id} v${version}`,
    created: '2025-01-02T03:04:05.123456',
    changed: `2025-06-0${1 + (version % 9)}T10:00:00.5Z`,
    active: id % 2 === 0,
    attrs: JSON.stringify({ id, v: version, tags: ['a', 'b'] }),
    note: version % 3 === 0 ? null : 'x'.repeat(40 + (id % 60)),
  };
}

/** The workload: events in order, and the final image of every live row. */
function workload(schema: TableSchema): { events: ChangeEvent[]; live: Map<number, Row> } {
  const live = new Map<number, Row>();
  const events: ChangeEvent[] = [];
  let next = 1;
  let pos = 0;
  const event = (op: ChangeEvent['op'], before: Row | null, after: Row | null): ChangeEvent => ({
    op,
    db: schema.db,
    table: schema.table,
    key: { id: (after ?? before)!['id']! },
    before,
    after,
    tsMs: Date.now(),
    schemaVersion: schema.version,
    snapshot: false,
    source: { connector: 'mysql', server_id: 1, file: 'bench-bin.000001', pos: ++pos, row: 0 },
  });
  const versions = new Map<number, number>();
  /** Live ids (swap-remove on delete), so picking one is O(1). */
  const ids: number[] = [];
  for (let i = 0; i < CHANGES; i++) {
    const r = i % 20;
    if (r < 10 || ids.length < 100) {
      const row = rowOf(next, 0);
      live.set(next, row);
      versions.set(next, 0);
      ids.push(next);
      events.push(event('c', null, row));
      next++;
    } else if (r < 17) {
      const id = ids[(i * 7919) % ids.length]!;
      const v = (versions.get(id) ?? 0) + 1;
      versions.set(id, v);
      const row = rowOf(id, v);
      events.push(event('u', live.get(id)!, row));
      live.set(id, row);
    } else {
      const at = (i * 104729) % ids.length;
      const id = ids[at]!;
      ids[at] = ids[ids.length - 1]!;
      ids.pop();
      events.push(event('d', live.get(id)!, null));
      live.delete(id);
    }
  }
  return { events, live };
}

async function main(): Promise<void> {
  const dir = process.env['FERRY_BENCH_SANDBOX_DIR'] ?? join(projectRoot(), '.ferry', 'bench-sandbox');
  const info = await sandboxUp({ dir, log });
  const logger = createLogger({ level: 'warn', format: 'json' });
  const results: Array<Record<string, unknown>> = [];
  for (const format of FORMATS) {
    const pipeline = `bench-redis-${Date.now().toString(36)}`;
    const db = pipeline.replace(/-/g, '_');
    const schema = schemaOf(db);
    const kafka = createKafka({ brokers: info.kafka.brokers, clientId: 'ferry-bench-redis' }, logger);
    const topic = dataTopic(pipeline, db, 'items');
    await withAdmin(kafka, (admin) =>
      ensureTopics(admin, [
        { topic: schemasTopic(pipeline), partitions: 1, replicationFactor: 1, compacted: true },
        { topic, partitions: PARTITIONS, replicationFactor: 1 },
      ]),
    );
    const { events, live } = workload(schema);
    log(`${format}: producing ${nf.format(events.length)} events (${nf.format(live.size)} live rows at the end)`);
    const producer = await createRecordProducer(kafka);
    await producer.send([
      {
        topic: schemasTopic(pipeline),
        key: `${db}.items@${schema.version}`,
        value: JSON.stringify(schema),
        partition: 0,
      },
    ]);
    const messages: OutMessage[] = events.map((e) => ({
      topic,
      key: keyJson(e),
      value: JSON.stringify(toEnvelope(e, pipeline)),
    }));
    for (let i = 0; i < messages.length; i += 5000) await producer.send(messages.slice(i, i + 5000));
    await producer.disconnect();
    const ends = await withAdmin(kafka, (admin) => admin.fetchTopicOffsets(topic));
    const endOf = new Map(ends.map((o) => [o.partition, BigInt(o.high)]));

    const json = format.startsWith('json');
    const streams = format.includes('streams');
    const options: RedisSinkOptions = { url: info.redis.url, format: json ? 'json' : 'hash', streams };
    const group = `${pipeline}-sink`;
    const runtime = new SinkRuntime({
      pipeline,
      group,
      connector: createSinkConnector({ kind: 'redis', ...options }),
      kafka,
      logger,
      metrics: new FerryMetrics(pipeline),
      batchSize: BATCH_SIZE,
      topics: [topic],
    });
    const redis = createClient({ url: info.redis.url });
    redis.on('error', () => undefined);
    await redis.connect();
    const started = performance.now();
    const cpuStart = process.cpuUsage();
    const running = runtime.run();
    for (;;) {
      const stored = await redis.hGetAll(`ferry:${pipeline}:offsets:${group}`);
      let done = true;
      for (const [p, end] of endOf) if (BigInt(stored[`${topic}#${p}`] ?? '0') < end) done = false;
      if (done) break;
      await sleep(100);
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    await runtime.stop();
    await running.catch(() => undefined);

    // Check: exactly the live keys, each with the last image.
    const index = `ferry:${pipeline}:keys:${db}.items`;
    const keys = await redis.sCard(index);
    let wrong = keys === live.size ? 0 : Math.abs(keys - live.size);
    for (const [id, row] of live) {
      const key = `${db}.items:${id}`;
      if (json) {
        if ((await redis.get(key)) !== jsonValue(schema, row)) wrong++;
      } else {
        const want = hashFields(schema, row);
        const have = await redis.hGetAll(key);
        const got = Object.entries(have).sort(([a], [b]) => (a < b ? -1 : 1));
        const wanted: Array<[string, string]> = [];
        for (let i = 0; i < want.length; i += 2) wanted.push([want[i]!, want[i + 1]!]);
        wanted.sort(([a], [b]) => (a < b ? -1 : 1));
        if (JSON.stringify(got) !== JSON.stringify(wanted)) wrong++;
      }
    }
    const streamLength = streams ? await redis.xLen(`${db}.items.changes`) : null;
    const result = {
      format,
      changes: events.length,
      liveRows: live.size,
      seconds: Number(seconds.toFixed(2)),
      eventsPerSecond: Math.round(events.length / seconds),
      cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)),
      wrongRows: wrong,
      streamEntries: streamLength,
      batchSize: BATCH_SIZE,
    };
    results.push(result);
    log(
      `${format}: ${nf.format(events.length)} events in ${seconds.toFixed(1)} s = ${nf.format(result.eventsPerSecond)} events/s` +
        ` (cpu ${result.cpuSeconds} s); rows checked: ${wrong === 0 ? 'all equal' : `${wrong} WRONG`}` +
        (streams ? `; stream entries ${nf.format(streamLength ?? 0)}` : ''),
    );
    // Clean up this run's keys.
    for await (const batch of redis.scanIterator({ MATCH: `${db}.items*`, COUNT: 1000 })) {
      if ((batch as string[]).length > 0) await redis.del(batch as string[]);
    }
    for await (const batch of redis.scanIterator({ MATCH: `ferry:${pipeline}:*`, COUNT: 1000 })) {
      if ((batch as string[]).length > 0) await redis.del(batch as string[]);
    }
    await redis.close();
  }
  process.stdout.write(`BENCH_JSON ${JSON.stringify({ bench: 'redis-catchup', results })}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${(err as Error)?.stack ?? err}\n`);
    process.exit(1);
  },
);
