/**
 * Catch-up throughput of transaction mode against row mode (not run by CI): how fast a sink
 * works off a backlog of source transactions into PostgreSQL, on the local sandbox.
 *   1. A bank workload is produced to Kafka the way the sources publish it: transactions of three
 *      events (two `accounts` updates, one `ledger` insert), with their `transaction` blocks and
 *      BEGIN/END records in `<pipeline>.__transactions`, 6 partitions per table;
 *   2. a sink runtime (row mode: SinkRuntime, transaction mode: TransactionSinkRuntime, as
 *      `ferry sink` runs them) starts on that backlog; events/s from its start until the offsets
 *      stored in the target reach the end of every partition. Modes: `row`, `transaction`
 *      (parallel apply, sink.applyParallelism = the 5th argument, default 4) and
 *      `transaction-serial` (sink.applyParallelism 1);
 *   3. the target is checked: total balance, ledger rows.
 * Prints a results line per mode and one line `BENCH_JSON {...}`.
 *
 * Run (compile first; `npm run bench:transactions -- ...` does both):
 *   node .ferry/bench-build/bench/transactions-catchup.js [changes=200000]
 *     [modes=row,transaction-serial,transaction] [batchSize=5000] [applyParallelism=4]
 * It starts (or reuses) the sandbox in .ferry/bench-sandbox, or FERRY_BENCH_SANDBOX_DIR, and
 * leaves it running. Every run uses new pipeline names; their schemas are dropped at the end.
 */
import { join } from 'node:path';
import pg from 'pg';
import { type ChangeEvent, type TableSchema, withVersion } from '../src/api/index.js';
import { keyJson, toEnvelope } from '../src/event/envelope.js';
import { ensureTopics, withAdmin } from '../src/kafka/admin.js';
import { createKafka } from '../src/kafka/client.js';
import { createRecordProducer, type OutMessage } from '../src/kafka/producer.js';
import { dataTopic, schemasTopic, transactionsTopic } from '../src/kafka/topics.js';
import { createLogger } from '../src/log/index.js';
import { FerryMetrics } from '../src/metrics/metrics.js';
import { createSinkConnector } from '../src/runtime/sink/connectors.js';
import { SinkRuntime } from '../src/runtime/sink/runtime.js';
import { TransactionSinkRuntime } from '../src/runtime/sink/transactions/runtime.js';
import { TransactionMarks } from '../src/runtime/source/transactions.js';
import { projectRoot, sandboxUp } from '../src/sandbox/index.js';

const CHANGES = Number(process.argv[2] ?? 200_000);
const MODES = (process.argv[3] ?? 'row,transaction-serial,transaction').split(',') as Array<
  'row' | 'transaction' | 'transaction-serial'
>;
const BATCH_SIZE = Number(process.argv[4] ?? 5000);
const PARALLELISM = Number(process.argv[5] ?? 4);
const PARTITIONS = 6;
const ACCOUNTS = 1000;
const nf = new Intl.NumberFormat('en-US');
const log = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function schemas(db: string): { accounts: TableSchema; ledger: TableSchema } {
  const col = (name: string, sourceType: string, kind: TableSchema['columns'][number]['kind']) => ({
    name,
    sourceType,
    kind,
    nullable: false,
  });
  return {
    accounts: withVersion({
      db,
      table: 'accounts',
      columns: [col('id', 'int', 'int32'), col('balance', 'bigint', 'int64'), col('touches', 'int', 'int32')],
      primaryKey: ['id'],
      sourceKind: 'mysql',
    }),
    ledger: withVersion({
      db,
      table: 'ledger',
      columns: [
        col('id', 'bigint', 'int64'),
        col('from_id', 'int', 'int32'),
        col('to_id', 'int', 'int32'),
        col('amount', 'bigint', 'int64'),
      ],
      primaryKey: ['id'],
      sourceKind: 'mysql',
    }),
  };
}

/** Kafka messages of the workload: data events and transaction records, in publish order. */
function workload(pipeline: string, s: ReturnType<typeof schemas>): OutMessage[] {
  const balance = new Array<number>(ACCOUNTS + 1).fill(1000);
  const touches = new Array<number>(ACCOUNTS + 1).fill(0);
  const out: OutMessage[] = [];
  let events = 0;
  const marks = new TransactionMarks();
  const push = (e: ChangeEvent) => {
    for (const record of marks.beforeEvent(e)) {
      out.push({
        topic: transactionsTopic(pipeline),
        key: JSON.stringify({ id: record.id }),
        value: JSON.stringify(record),
        partition: 0,
      });
    }
    out.push({
      topic: dataTopic(pipeline, e.db, e.table),
      key: keyJson(e),
      value: JSON.stringify(toEnvelope(e, pipeline)),
    });
    events++;
  };
  const end = () => {
    for (const record of marks.close()) {
      out.push({
        topic: transactionsTopic(pipeline),
        key: JSON.stringify({ id: record.id }),
        value: JSON.stringify(record),
        partition: 0,
      });
    }
  };
  const ev = (
    schema: TableSchema,
    op: ChangeEvent['op'],
    before: ChangeEvent['before'],
    after: ChangeEvent['after'],
    tx: number,
    n: number,
  ): ChangeEvent => ({
    op,
    db: schema.db,
    table: schema.table,
    key: { id: (after ?? before)!['id']! },
    before,
    after,
    tsMs: Date.now(),
    schemaVersion: schema.version,
    snapshot: false,
    source: { connector: 'mysql', server_id: 1, file: 'bench-bin.000001', pos: tx * 100, row: n },
    transaction: { id: `0-1-${tx}`, totalOrder: n, dataCollectionOrder: n, commitOrder: String(tx) },
  });
  // The accounts, opened in one transaction.
  let tx = 1;
  for (let id = 1; id <= ACCOUNTS; id++) {
    push(ev(s.accounts, 'c', null, { id, balance: 1000, touches: 0 }, tx, id));
  }
  end();
  let x = 12345;
  for (let ledgerId = 1; events < CHANGES; ledgerId++) {
    tx++;
    x = (x * 1103515245 + 12345) % 2147483648;
    const a = 1 + (x % ACCOUNTS);
    const b = 1 + ((a + 1 + (x % 997)) % ACCOUNTS);
    if (a === b) continue;
    const amount = 1 + (x % 50);
    const row = (id: number) => ({ id, balance: balance[id]!, touches: touches[id]! });
    const beforeA = row(a);
    balance[a]! -= amount;
    touches[a]!++;
    push(ev(s.accounts, 'u', beforeA, row(a), tx, 1));
    const beforeB = row(b);
    balance[b]! += amount;
    touches[b]!++;
    push(ev(s.accounts, 'u', beforeB, row(b), tx, 2));
    push(ev(s.ledger, 'c', null, { id: ledgerId, from_id: a, to_id: b, amount }, tx, 3));
    end();
  }
  return out;
}

async function main(): Promise<void> {
  const dir = process.env['FERRY_BENCH_SANDBOX_DIR'] ?? join(projectRoot(), '.ferry', 'bench-sandbox');
  const info = await sandboxUp({ dir, log });
  const logger = createLogger({ level: 'warn', format: 'json' });
  const results: Array<Record<string, unknown>> = [];
  const admin = new pg.Client({ connectionString: info.postgres.url });
  await admin.connect();
  for (const mode of MODES) {
    const pipeline = `bench-txn-${mode}-${Date.now().toString(36)}`;
    const db = pipeline.replace(/-/g, '_');
    const s = schemas(db);
    const kafka = createKafka({ brokers: info.kafka.brokers, clientId: 'ferry-bench-txn' }, logger);
    const topics = [dataTopic(pipeline, db, 'accounts'), dataTopic(pipeline, db, 'ledger')];
    const txTopic = transactionsTopic(pipeline);
    await withAdmin(kafka, (a) =>
      ensureTopics(a, [
        { topic: schemasTopic(pipeline), partitions: 1, replicationFactor: 1, compacted: true },
        { topic: txTopic, partitions: 1, replicationFactor: 1 },
        ...topics.map((topic) => ({ topic, partitions: PARTITIONS, replicationFactor: 1 })),
      ]),
    );
    const messages = workload(pipeline, s);
    const events = messages.filter((m) => m.topic !== txTopic).length;
    log(
      `${mode}: producing ${nf.format(events)} events (+ ${nf.format(messages.length - events)} transaction records)`,
    );
    const producer = await createRecordProducer(kafka);
    await producer.send(
      [s.accounts, s.ledger].map((schema) => ({
        topic: schemasTopic(pipeline),
        key: `${db}.${schema.table}@${schema.version}`,
        value: JSON.stringify(schema),
        partition: 0,
      })),
    );
    for (let i = 0; i < messages.length; i += 5000) await producer.send(messages.slice(i, i + 5000));
    await producer.disconnect();
    const transactional = mode !== 'row';
    const applyParallelism = mode === 'transaction' ? PARALLELISM : 1;
    const watched = transactional ? [...topics, txTopic] : topics;
    const ends = new Map<string, bigint>();
    await withAdmin(kafka, async (a) => {
      for (const t of watched)
        for (const o of await a.fetchTopicOffsets(t)) ends.set(`${t}#${o.partition}`, BigInt(o.high));
    });
    const group = `${pipeline}-sink`;
    const connector = createSinkConnector({ kind: 'postgres', url: info.postgres.url });
    const options = {
      pipeline,
      group,
      connector,
      kafka,
      logger,
      metrics: new FerryMetrics(pipeline),
      batchSize: BATCH_SIZE,
      topics,
    };
    const runtime = transactional
      ? new TransactionSinkRuntime({ ...options, applyParallelism })
      : new SinkRuntime(options);
    const started = performance.now();
    const cpuStart = process.cpuUsage();
    const running = runtime.run();
    for (;;) {
      const res = await admin
        .query(
          'SELECT topic, "partition", next_offset::text AS n FROM public.ferry_offsets WHERE pipeline = $1 AND consumer_group = $2',
          [pipeline, group],
        )
        .catch(() => ({ rows: [] as Array<{ topic: string; partition: number; n: string }> }));
      const stored = new Map(res.rows.map((r) => [`${r.topic}#${r.partition}`, BigInt(r.n)]));
      let done = true;
      for (const [tp, end] of ends) if ((stored.get(tp) ?? 0n) < end) done = false;
      if (done) break;
      await sleep(100);
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    await runtime.stop();
    await running.catch(() => undefined);
    const check = await admin.query(
      `SELECT (SELECT sum(balance)::text FROM "${db}".accounts) AS total, (SELECT count(*)::int FROM "${db}".ledger) AS ledger`,
    );
    const ledgerRows = Math.floor((events - ACCOUNTS) / 3);
    const ok = check.rows[0].total === String(ACCOUNTS * 1000) && check.rows[0].ledger === ledgerRows;
    const result = {
      mode,
      events,
      seconds: Number(seconds.toFixed(2)),
      eventsPerSecond: Math.round(events / seconds),
      cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)),
      targetChecked: ok,
      batchSize: BATCH_SIZE,
      ...(transactional ? { applyParallelism } : {}),
      ...(mode === 'transaction'
        ? {
            serialFallbacks: (await options.metrics.sinkApplySerialFallbacks.get()).values[0]?.value ?? 0,
          }
        : {}),
    };
    results.push(result);
    log(
      `${mode}: ${nf.format(events)} events in ${seconds.toFixed(1)} s = ${nf.format(result.eventsPerSecond)} events/s` +
        ` (cpu ${result.cpuSeconds} s); target: ${ok ? 'total balance and ledger as produced' : 'WRONG'}`,
    );
    await admin.query(`DROP SCHEMA "${db}" CASCADE`).catch(() => undefined);
  }
  await admin.end();
  process.stdout.write(`BENCH_JSON ${JSON.stringify({ bench: 'transactions-catchup', results })}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${(err as Error)?.stack ?? err}\n`);
    process.exit(1);
  },
);
