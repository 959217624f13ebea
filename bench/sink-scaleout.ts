/**
 * Sink scale-out (not run by CI; docs/failover.md#sink-scale-out-partitions-processes-and-throughput):
 * how fast 1 and then 3 `ferry sink` processes in one consumer group work off the same backlog
 * of a 12-partition topic into PostgreSQL, on the local sandbox.
 *   1. For each process count, a new pipeline: C change events (60% inserts, 30% updates, 10%
 *      deletes; Debezium envelopes keyed by primary key, as the sources publish them) are produced
 *      to one table's topic with 12 partitions, plus its schema record.
 *   2. N real `ferry sink -c <config>` processes start together on that backlog; events/s from
 *      their start until the offsets stored in the target reach the end of every partition
 *      (process start-up included).
 *   3. The target table is checked: exactly the live rows.
 * Prints a results line per process count and one line `BENCH_JSON {...}`.
 *
 * Run (compile first; `npm run bench:sinks -- ...` does both):
 *   node .ferry/bench-build/bench/sink-scaleout.js [changes=200000] [processes=1,3]
 * It starts (or reuses) the sandbox in .ferry/bench-sandbox, or FERRY_BENCH_SANDBOX_DIR, and
 * leaves it running. `npm run build` must have built dist/ (the processes run bin/ferry.js).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { ChangeEvent, Row, TableSchema } from '../src/api/index.js';
import { withVersion } from '../src/api/index.js';
import { loadConfig } from '../src/config/index.js';
import { keyJson, toEnvelope } from '../src/event/envelope.js';
import { ensureTopics, withAdmin } from '../src/kafka/admin.js';
import { createKafka } from '../src/kafka/client.js';
import { createRecordProducer, type OutMessage } from '../src/kafka/producer.js';
import { dataTopic, schemasTopic } from '../src/kafka/topics.js';
import { createLogger } from '../src/log/index.js';
import { sinkConnectorFor } from '../src/pipeline/connectors.js';
import { readSinkProgress } from '../src/runtime/sink/status.js';
import { projectRoot, sandboxUp } from '../src/sandbox/index.js';

const CHANGES = Number(process.argv[2] ?? 200_000);
const PROCESSES = (process.argv[3] ?? '1,3').split(',').map(Number);
const PARTITIONS = 12;
const nf = new Intl.NumberFormat('en-US');
const log = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function schemaOf(db: string): TableSchema {
  const col = (name: string, sourceType: string, kind: TableSchema['columns'][number]['kind'], nullable = true) => ({
    name,
    sourceType,
    kind,
    nullable,
  });
  return withVersion({
    db,
    table: 'items',
    columns: [
      col('id', 'bigint', 'int64', false),
      col('qty', 'int', 'int32'),
      col('price', 'decimal(12,2)', 'decimal'),
      col('name', 'varchar(100)', 'string'),
      col('changed', 'datetime(6)', 'timestamp'),
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
    price: `${(id % 100000) + version}.${String(id % 100).padStart(2, '0')}`,
    name: `item ${id} v${version}`,
    changed: `2025-06-0${1 + (version % 9)}T10:00:00.123456`,
    note: 'x'.repeat(40 + (id % 60)),
  };
}

function workload(schema: TableSchema): { events: ChangeEvent[]; live: number } {
  const events: ChangeEvent[] = [];
  const ids: number[] = [];
  const versions = new Map<number, number>();
  const rows = new Map<number, Row>();
  let next = 1;
  const event = (op: ChangeEvent['op'], before: Row | null, after: Row | null, pos: number): ChangeEvent => ({
    op,
    db: schema.db,
    table: schema.table,
    key: { id: (after ?? before)!['id']! },
    before,
    after,
    tsMs: Date.now(),
    schemaVersion: schema.version,
    snapshot: false,
    source: { connector: 'mysql', server_id: 1, file: 'bench-bin.000001', pos, row: 0 },
  });
  for (let i = 0; i < CHANGES; i++) {
    const r = i % 10;
    if (r < 6 || ids.length < 100) {
      const row = rowOf(next, 0);
      rows.set(next, row);
      versions.set(next, 0);
      ids.push(next++);
      events.push(event('c', null, row, i));
    } else if (r < 9) {
      const id = ids[(i * 7919) % ids.length]!;
      const v = versions.get(id)! + 1;
      versions.set(id, v);
      const row = rowOf(id, v);
      events.push(event('u', rows.get(id)!, row, i));
      rows.set(id, row);
    } else {
      const at = (i * 104729) % ids.length;
      const id = ids[at]!;
      ids[at] = ids[ids.length - 1]!;
      ids.pop();
      events.push(event('d', rows.get(id)!, null, i));
      rows.delete(id);
    }
  }
  return { events, live: rows.size };
}

async function main(): Promise<void> {
  const dir = process.env['FERRY_BENCH_SANDBOX_DIR'] ?? join(projectRoot(), '.ferry', 'bench-sandbox');
  const info = await sandboxUp({ dir, log });
  const logger = createLogger({ level: 'warn', format: 'json' });
  const kafka = createKafka({ brokers: info.kafka.brokers, clientId: 'ferry-bench-sinks' }, logger);
  const results: Array<Record<string, unknown>> = [];
  for (const processes of PROCESSES) {
    const pipeline = `bench-sinks-${processes}-${Date.now().toString(36)}`;
    const db = pipeline.replace(/-/g, '_');
    const schema = schemaOf(db);
    const topic = dataTopic(pipeline, db, 'items');
    await withAdmin(kafka, (admin) =>
      ensureTopics(admin, [
        { topic: schemasTopic(pipeline), partitions: 1, replicationFactor: 1, compacted: true },
        { topic, partitions: PARTITIONS, replicationFactor: 1 },
      ]),
    );
    const { events, live } = workload(schema);
    log(`${processes} process(es): producing ${nf.format(events.length)} events to ${PARTITIONS} partitions`);
    const producer = await createRecordProducer(kafka);
    await producer.send([
      {
        topic: schemasTopic(pipeline),
        key: `${db}.items@${schema.version}`,
        value: JSON.stringify(schema),
        partition: 0,
      },
    ]);
    for (let i = 0; i < events.length; i += 5000) {
      const batch: OutMessage[] = events.slice(i, i + 5000).map((e) => ({
        topic,
        key: keyJson(e),
        value: JSON.stringify(toEnvelope(e, pipeline)),
      }));
      await producer.send(batch);
    }
    await producer.disconnect();

    const configDir = join(dir, 'bench-configs');
    mkdirSync(configDir, { recursive: true });
    const configFile = join(configDir, `${pipeline}.yaml`);
    writeFileSync(
      configFile,
      [
        `name: ${pipeline}`,
        'kafka:',
        `  brokers: ${JSON.stringify(info.kafka.brokers)}`,
        `  partitions: ${PARTITIONS}`,
        'source:',
        '  kind: mysql',
        `  url: mysql://${info.mysql.user}:\${SOURCE_PASSWORD}@${info.mysql.host}:${info.mysql.port}/${db}`,
        `  tables: ["${db}.*"]`,
        'sink:',
        '  kind: postgres',
        `  url: postgres://${info.postgres.user}:\${TARGET_PASSWORD}@${info.postgres.host}:${info.postgres.port}/${info.postgres.database}`,
        '  batchSize: 5000',
        'metrics:',
        '  enabled: false',
        'log:',
        '  level: warn',
        '  format: json',
        '',
      ].join('\n'),
    );
    const env = { ...process.env, SOURCE_PASSWORD: info.mysql.password, TARGET_PASSWORD: info.postgres.password };
    const config = loadConfig(configFile, env);
    const connector = sinkConnectorFor(config);
    await connector.start({ pipeline, group: config.sink.group, logger });

    const started = performance.now();
    const children: ChildProcess[] = [];
    for (let i = 0; i < processes; i++) {
      const child = spawn(process.execPath, [join(projectRoot(), 'bin', 'ferry.js'), 'sink', '-c', configFile], {
        env,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      children.push(child);
    }
    for (;;) {
      const progress = await readSinkProgress({ kafka, connector, pipeline, topics: [topic] });
      if (progress.partitions.length === PARTITIONS && progress.totalLag === 0) break;
      if (children.some((c) => c.exitCode !== null)) throw new Error('a ferry sink process exited early');
      await sleep(250);
    }
    const seconds = (performance.now() - started) / 1000;
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            c.once('exit', () => resolve());
            c.kill('SIGTERM');
          }),
      ),
    );
    await connector.close();

    const pgc = new pg.Client({
      host: info.postgres.host,
      port: info.postgres.port,
      user: info.postgres.superUser,
      password: info.postgres.superPassword,
      database: info.postgres.database,
    });
    await pgc.connect();
    const count = Number((await pgc.query(`SELECT count(*) AS n FROM ${pgc.escapeIdentifier(db)}.items`)).rows[0].n);
    await pgc.query(`DROP SCHEMA ${pgc.escapeIdentifier(db)} CASCADE`);
    await pgc.end();
    const result = {
      processes,
      partitions: PARTITIONS,
      changes: events.length,
      seconds: Number(seconds.toFixed(2)),
      eventsPerSecond: Math.round(events.length / seconds),
      rowsExpected: live,
      rowsInTarget: count,
    };
    results.push(result);
    log(
      `${processes} sink process(es), ${PARTITIONS} partitions: ${nf.format(events.length)} events in ${seconds.toFixed(1)} s` +
        ` = ${nf.format(result.eventsPerSecond)} events/s; target rows ${count === live ? 'as expected' : `${count}, expected ${live}`}`,
    );
  }
  process.stdout.write(`BENCH_JSON ${JSON.stringify({ bench: 'sink-scaleout', results })}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${(err as Error)?.stack ?? err}\n`);
    process.exit(1);
  },
);
