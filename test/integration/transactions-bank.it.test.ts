/**
 * Transaction mode against row mode on a bank-transfer workload (docs/transactions.md):
 * concurrent MariaDB transactions move amounts between accounts and write a ledger row, while a
 * reader polls the PostgreSQL target in REPEATABLE READ. With sink.consistency: transaction no
 * read ever breaks the bank's rules; the same pipeline in row mode shows a read that does
 * (each event applied in its own target transaction, batchSize 1), so the check can fail.
 * Transaction mode runs with parallel apply (sink.applyParallelism: 4, units of one transaction).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type ChangeEvent, type SinkBatch, type SinkConnector, withVersion } from '../../src/api/index.js';
import { keyJson, toEnvelope } from '../../src/event/envelope.js';
import { ensureTopics, withAdmin } from '../../src/kafka/admin.js';
import { createKafka } from '../../src/kafka/client.js';
import { createRecordProducer, type OutMessage } from '../../src/kafka/producer.js';
import { dataTopic, schemasTopic, transactionsTopic } from '../../src/kafka/topics.js';
import { createLogger } from '../../src/log/index.js';
import { FerryMetrics } from '../../src/metrics/metrics.js';
import { createSinkConnector } from '../../src/runtime/sink/connectors.js';
import { TransactionSinkRuntime } from '../../src/runtime/sink/transactions/runtime.js';
import { TransactionMarks } from '../../src/runtime/source/transactions.js';
import {
  bankConfig,
  createBank,
  openAccounts,
  readTarget,
  sourceState,
  startReader,
  startRole,
  startTransfers,
} from '../helpers/bank.js';
import { ensureCliBuilt, pipelineEnv, runFerry, testDir } from '../helpers/cli.js';
import { pollUntil } from '../helpers/poll.js';
import { getSandbox, mysqlRoot, pgSuper, uniqueName } from '../helpers/sandbox.js';

async function runBank(consistency: 'row' | 'transaction') {
  const name = uniqueName(`bank_${consistency === 'row' ? 'row' : 'txn'}`);
  const db = `${name}_src`;
  const dir = testDir(name);
  const env = pipelineEnv();
  await createBank(db);
  const config = bankConfig(dir, {
    name,
    db,
    consistency,
    batchSize: 1,
    ...(consistency === 'transaction' ? { applyParallelism: 4 } : {}),
  });
  const source = startRole('source', config, env);
  const sink = startRole('sink', config, env);
  const reader = startReader(db);
  let result: Awaited<ReturnType<typeof reader.stop>>;
  try {
    // Both (empty) tables snapshotted: the stream captures everything from here on.
    await source.waitForOutput(/snapshot of a table done[\s\S]*snapshot of a table done/, 180_000);
    await openAccounts(db);
    const transfers = startTransfers(db, 4);
    // Enough transfers for many reads in between.
    await pollUntil('300 transfers at the source', async () => (await sourceState(db)).ledger >= 300, 120_000, 200);
    const made = await transfers.stop();
    expect(made).toBeGreaterThanOrEqual(300);
    const want = await sourceState(db);
    const pgc = await pgSuper();
    try {
      await pollUntil(
        'the target to hold every transfer',
        async () => {
          if (sink.child.exitCode !== null) throw new Error(`the sink exited: ${sink.stderr()}`);
          const r = await readTarget(pgc, db);
          return r !== null && r.ledger === want.ledger && r.touches === want.touches;
        },
        180_000,
        250,
        (err) => (err as Error).message.startsWith('the sink exited'),
      );
    } finally {
      await pgc.end();
    }
  } finally {
    result = await reader.stop();
    await Promise.all([source.stop('SIGTERM'), sink.stop('SIGTERM')]);
  }
  const verify = await runFerry(['verify', '-c', config], env, 120_000);
  // Transaction mode logs how it applied when it stops.
  const apply = /^.*"msg":"apply stopped".*$/m.exec(sink.stderr())?.[0] ?? null;
  process.stderr.write(
    `[bank ${consistency}] ${result.reads} reads of the target, ${result.bad.length} broke the rules` +
      `${apply ? `; ${apply}` : ''}\n`,
  );
  return { result, verify, apply };
}

describe('sink.consistency on a bank-transfer workload', () => {
  beforeAll(() => ensureCliBuilt(), 300_000);

  it('transaction: every consistent read of the target keeps the total balance and the ledger', async () => {
    const { result, verify, apply } = await runBank('transaction');
    expect(apply).toContain('"applyParallelism":4');
    expect(result.reads).toBeGreaterThan(20);
    expect(result.bad).toEqual([]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  }, 420_000);

  it('row: the same workload shows reads the source never had (the check can fail)', async () => {
    const { result, verify } = await runBank('row');
    expect(result.reads).toBeGreaterThan(20);
    expect(result.bad.length).toBeGreaterThan(0);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  }, 420_000);
});

/**
 * Parallel apply's serial fallback, in process: a bank backlog in Kafka (transactions of two
 * account updates and a ledger row, as the sources publish them) applied by the transaction-mode
 * runtime with 4 units in flight, on a PostgreSQL connector whose 5th parallel unit fails after
 * its writes. Every unit after it rolls back; they are applied again one at a time, then in
 * parallel again. The target ends as the source, and the commit orders stored with the offsets
 * only ever increase (nothing applied twice or out of order).
 */
describe('parallel apply in transaction mode', () => {
  it('rolls back the units after a failed one and applies them again serially', async () => {
    const s = getSandbox();
    const pipeline = uniqueName('par_fail');
    const db = pipeline;
    const col = (name: string, kind: 'int32' | 'int64') => ({ name, sourceType: 'bigint', kind, nullable: false });
    const accounts = withVersion({
      db,
      table: 'accounts',
      columns: [col('id', 'int32'), col('balance', 'int64'), col('touches', 'int32')],
      primaryKey: ['id'],
      sourceKind: 'mysql',
    });
    const ledger = withVersion({
      db,
      table: 'ledger',
      columns: [col('id', 'int64'), col('from_id', 'int32'), col('to_id', 'int32'), col('amount', 'int64')],
      primaryKey: ['id'],
      sourceKind: 'mysql',
    });
    const ACCOUNTS = 40;
    const TRANSFERS = 300;
    const txTopic = transactionsTopic(pipeline);
    const out: OutMessage[] = [];
    const marks = new TransactionMarks();
    const balance = new Array<number>(ACCOUNTS + 1).fill(1000);
    const touches = new Array<number>(ACCOUNTS + 1).fill(0);
    const txRecords = () => {
      for (const r of marks.close()) {
        out.push({ topic: txTopic, key: JSON.stringify({ id: r.id }), value: JSON.stringify(r), partition: 0 });
      }
    };
    const push = (
      schema: typeof accounts,
      op: 'c' | 'u',
      before: ChangeEvent['before'],
      after: ChangeEvent['after'],
      tx: number,
      n: number,
    ) => {
      const e: ChangeEvent = {
        op,
        db,
        table: schema.table,
        key: { id: after!['id']! },
        before,
        after,
        tsMs: Date.now(),
        schemaVersion: schema.version,
        snapshot: false,
        source: { connector: 'mysql', server_id: 1, file: 'bin.000001', pos: tx * 100, row: n },
        transaction: { id: `0-1-${tx}`, totalOrder: n, dataCollectionOrder: n, commitOrder: String(tx) },
      };
      for (const r of marks.beforeEvent(e)) {
        out.push({ topic: txTopic, key: JSON.stringify({ id: r.id }), value: JSON.stringify(r), partition: 0 });
      }
      out.push({
        topic: dataTopic(pipeline, db, schema.table),
        key: keyJson(e),
        value: JSON.stringify(toEnvelope(e, pipeline)),
      });
    };
    for (let id = 1; id <= ACCOUNTS; id++) push(accounts, 'c', null, { id, balance: 1000, touches: 0 }, 1, id);
    txRecords();
    let x = 7;
    for (let t = 1; t <= TRANSFERS; t++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const a = 1 + (x % ACCOUNTS);
      const b = 1 + ((a + 1 + (x % 37)) % ACCOUNTS);
      if (a === b) continue;
      const amount = 1 + (x % 50);
      const row = (id: number) => ({ id, balance: balance[id]!, touches: touches[id]! });
      const tx = t + 1;
      const beforeA = row(a);
      balance[a]! -= amount;
      touches[a]!++;
      push(accounts, 'u', beforeA, row(a), tx, 1);
      const beforeB = row(b);
      balance[b]! += amount;
      touches[b]!++;
      push(accounts, 'u', beforeB, row(b), tx, 2);
      push(ledger, 'c', null, { id: t, from_id: a, to_id: b, amount }, tx, 3);
      txRecords();
    }
    const logger = createLogger({ level: 'warn', format: 'json' });
    const kafka = createKafka({ brokers: s.kafka.brokers, clientId: 'ferry-test-par' }, logger);
    const topics = [dataTopic(pipeline, db, 'accounts'), dataTopic(pipeline, db, 'ledger')];
    await withAdmin(kafka, (a) =>
      ensureTopics(a, [
        { topic: schemasTopic(pipeline), partitions: 1, replicationFactor: 1, compacted: true },
        { topic: txTopic, partitions: 1, replicationFactor: 1 },
        ...topics.map((topic) => ({ topic, partitions: 3, replicationFactor: 1 })),
      ]),
    );
    const producer = await createRecordProducer(kafka);
    await producer.send(
      [accounts, ledger].map((schema) => ({
        topic: schemasTopic(pipeline),
        key: `${db}.${schema.table}@${schema.version}`,
        value: JSON.stringify(schema),
        partition: 0,
      })),
    );
    await producer.send(out);
    await producer.disconnect();

    // The real PostgreSQL connector; its 5th parallel unit fails after its writes.
    const inner = createSinkConnector({ kind: 'postgres', url: s.postgres.url });
    const committedOrders: bigint[] = [];
    let parallelUnits = 0;
    const connector: SinkConnector = {
      kind: inner.kind,
      parallelApply: true,
      start: (ctx) => inner.start(ctx),
      ensureTable: (schema) => inner.ensureTable(schema),
      readOffsets: (t) => inner.readOffsets(t),
      close: () => inner.close(),
      async apply(batch: SinkBatch) {
        let b = batch;
        if (batch.beforeCommit && ++parallelUnits === 5) {
          const beforeCommit = batch.beforeCommit.bind(batch);
          b = {
            ...batch,
            beforeCommit: async () => {
              await beforeCommit();
              throw new Error('injected failure after the writes');
            },
          };
        }
        await inner.apply(b);
        const applied = batch.offsets.find((o) => o.topic === `${txTopic}.applied`);
        if (applied) committedOrders.push(BigInt(applied.nextOffset));
      },
    };
    const metrics = new FerryMetrics(pipeline);
    const group = `${pipeline}-sink`;
    const runtime = new TransactionSinkRuntime({
      pipeline,
      group,
      connector,
      kafka,
      logger,
      metrics,
      batchSize: 6,
      topics,
      applyParallelism: 4,
      retryMinMs: 50,
    });
    const ends = new Map<string, bigint>();
    await withAdmin(kafka, async (a) => {
      for (const t of [...topics, txTopic])
        for (const o of await a.fetchTopicOffsets(t)) ends.set(`${t}#${o.partition}`, BigInt(o.high));
    });
    const running = runtime.run();
    const pgc = await pgSuper(s.postgres.database);
    try {
      await pollUntil(
        'the sink to store the end of every partition',
        async () => {
          const res = await pgc.query(
            'SELECT topic, "partition", next_offset::text AS n FROM public.ferry_offsets WHERE pipeline = $1 AND consumer_group = $2',
            [pipeline, group],
          );
          const stored = new Map(res.rows.map((r) => [`${r.topic}#${r.partition}`, BigInt(r.n)]));
          return [...ends].every(([tp, end]) => (stored.get(tp) ?? 0n) >= end);
        },
        120_000,
        100,
      );
      await runtime.stop();
      await running;
      const fallbacks = (await metrics.sinkApplySerialFallbacks.get()).values[0]?.value ?? 0;
      expect(fallbacks).toBe(1);
      expect(parallelUnits).toBeGreaterThan(5); // parallel again after the fallback
      for (let i = 1; i < committedOrders.length; i++) {
        expect(committedOrders[i]!, `commit ${i}`).toBeGreaterThan(committedOrders[i - 1]!);
      }
      const rows = await pgc.query(
        `SELECT id::int AS id, balance::int AS balance, touches::int AS touches FROM "${db}".accounts ORDER BY id`,
      );
      expect(rows.rows).toEqual(
        Array.from({ length: ACCOUNTS }, (_, i) => ({ id: i + 1, balance: balance[i + 1], touches: touches[i + 1] })),
      );
      const ledgerRows = await pgc.query(`SELECT count(*)::int AS n FROM "${db}".ledger`);
      expect(ledgerRows.rows[0].n).toBe(out.filter((m) => m.topic === topics[1]).length);
    } finally {
      await runtime.stop();
      await pgc.query(`DROP SCHEMA IF EXISTS "${db}" CASCADE`).catch(() => undefined);
      await pgc.end();
    }
  }, 180_000);
});

/**
 * The SQL sink toolkit's side of parallel apply, on both engines: a batch with beforeCommit
 * writes its rows, waits, and only then fences and stores its offsets; a later batch commits
 * after it; a statement waiting for a row lock of an open batch fails after lockWaitMs.
 */
describe('parallel apply in the SQL sinks', () => {
  for (const kind of ['postgres', 'mysql'] as const) {
    it(`${kind}: writes, waits in beforeCommit, then fences and commits; a lock wait ends at lockWaitMs`, async () => {
      const s = getSandbox();
      const db = uniqueName('par_sql');
      const connector = createSinkConnector({
        kind,
        url: kind === 'postgres' ? s.postgres.url : `${s.mysql.url}/${db}`,
      });
      const logger = createLogger({ level: 'error', format: 'json' });
      await connector.start({ pipeline: db, group: `${db}-g`, logger });
      const schema = withVersion({
        db,
        table: 't',
        columns: [
          { name: 'id', sourceType: 'int', kind: 'int32', nullable: false },
          { name: 'v', sourceType: 'int', kind: 'int32', nullable: false },
        ],
        primaryKey: ['id'],
        sourceKind: 'mysql',
      });
      await connector.ensureTable(schema);
      const topic = `${db}.t`;
      const rowsOf = (ids: number[], v: number) => [
        { schema, truncate: false, upserts: ids.map((id) => ({ id, v })), deletes: [] },
      ];
      const offsets = (next: string) => [{ topic, partition: 0, nextOffset: next, truncateBarrier: null }];
      const expected = (next: string | null) => [{ topic, partition: 0, nextOffset: next, truncateBarrier: null }];
      const pgc = kind === 'postgres' ? await pgSuper(s.postgres.database) : null;
      const my = kind === 'mysql' ? await mysqlRoot() : null;
      const read = async () => {
        const sql =
          kind === 'postgres'
            ? `SELECT id, v FROM "${db}"."t" ORDER BY id`
            : `SELECT id, v FROM \`${db}\`.\`t\` ORDER BY id`;
        if (pgc) return (await pgc.query(sql)).rows as Array<{ id: number; v: number }>;
        const [rows] = await my!.query(sql);
        return (rows as Array<{ id: number; v: number }>).map((r) => ({ id: Number(r.id), v: Number(r.v) }));
      };
      try {
        let release!: () => void;
        const gate = new Promise<void>((r) => {
          release = r;
        });
        let aWritten = false;
        const a = connector.apply({
          tables: rowsOf([1], 1),
          offsets: offsets('1'),
          expected: expected(null),
          lockWaitMs: 1000,
          beforeCommit: async () => {
            aWritten = true;
            await gate;
          },
        });
        await pollUntil('A to do its writes', async () => aWritten, 30_000, 20);
        let bWritten = false;
        const b = connector.apply({
          tables: rowsOf([2], 2),
          offsets: offsets('2'),
          expected: expected('1'), // what A stores: checked only after A committed
          lockWaitMs: 1000,
          beforeCommit: async () => {
            bWritten = true;
            await a;
          },
        });
        await pollUntil('B to do its writes', async () => bWritten, 30_000, 20);
        // A holds the lock of row 1 until it commits: a batch writing it waits at most lockWaitMs.
        const c = connector.apply({
          tables: rowsOf([1], 3),
          offsets: [],
          lockWaitMs: 1000,
          beforeCommit: async () => undefined,
        });
        await expect(c).rejects.toThrow();
        expect(await read()).toEqual([]); // nothing committed while A waits
        release();
        await a;
        await b;
        expect(await read()).toEqual([
          { id: 1, v: 1 },
          { id: 2, v: 2 },
        ]);
        expect((await connector.readOffsets([topic])).map((o) => o.nextOffset)).toEqual(['2']);
      } finally {
        await connector.close();
        if (pgc) {
          await pgc.query(`DROP SCHEMA IF EXISTS "${db}" CASCADE`).catch(() => undefined);
          await pgc.end();
        }
        if (my) {
          await my.query(`DROP DATABASE IF EXISTS \`${db}\``).catch(() => undefined);
          await my.end();
        }
      }
    }, 30_000);
  }
});
