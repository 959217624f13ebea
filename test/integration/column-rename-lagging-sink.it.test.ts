/**
 * Regression "an exchange of column names while the sink lags" (docs/schema-changes.md#renames-on-the-sink):
 * the events written before `a ↔ b` sit in every partition of the table's topic, the first event
 * after it in a partition that holds nothing else. A sink started afterwards applies that
 * partition first; without a barrier it renamed the target columns at once and then applied the
 * other partitions' older events by name, into the exchanged columns. The source now puts a rename
 * marker with the topic's own end offsets into every partition at the exchange, and the sink holds
 * each partition there until all of them are applied up to it. MariaDB -> PostgreSQL and
 * PostgreSQL -> PostgreSQL: `verify` equal and each column's data where the source has it.
 * Found with it: MariaDB's one-statement exchange (`RENAME COLUMN a TO b, RENAME COLUMN b TO a`)
 * was not marked as renames at all, and PostgreSQL's was missed when the source decoded the
 * Relation before the exchange only after it (attribute numbers read from today's catalog).
 */
import { type Kafka, Partitioners } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import type { PipelineConfig } from '../../src/config/index.js';
import { createKafka } from '../../src/kafka/client.js';
import { dataTopic } from '../../src/kafka/topics.js';
import {
  deletePipelineTopics,
  dropPgSlot,
  type RunningPipeline,
  routeConfig,
  type SourceKind,
  startPipeline,
  summary,
  until,
  waitForConvergence,
} from '../helpers/e2e.js';
import { getSandbox, mysqlRoot, pgFerry, pgSuper, uniqueName } from '../helpers/sandbox.js';

const PARTITIONS = 3;
const NEW_ID = 100_000;

/** The partition a key lands in (the producer's murmur2 partitioner). */
function partitionOf(id: number): number {
  const partitioner = Partitioners.DefaultPartitioner();
  return partitioner({
    topic: 't',
    partitionMetadata: Array.from({ length: PARTITIONS }, (_, p) => ({
      partitionId: p,
      leader: 0,
      replicas: [0],
      isr: [0],
      partitionErrorCode: 0,
    })),
    message: { key: JSON.stringify({ id }), value: null },
  });
}

/** Rows whose keys share no partition with NEW_ID's: its partition holds only what follows the exchange. */
const IDS = Array.from({ length: 600 }, (_, i) => i + 1).filter((id) => partitionOf(id) !== partitionOf(NEW_ID));

interface Source {
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

const kafka: Kafka = createKafka({ brokers: getSandbox().kafka.brokers, clientId: 'ferry-column-rename-lag' });

async function topicTotal(topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) return 0;
    return (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Waits until the topic holds at least `min` records and has not grown for two seconds. */
async function topicSettled(topic: string, min: number): Promise<void> {
  let last = -1;
  let since = Date.now();
  await until(
    `${topic} to hold ${min} records and settle`,
    async () => {
      const n = await topicTotal(topic);
      if (n !== last) {
        last = n;
        since = Date.now();
      }
      return n >= min && Date.now() - since >= 2000 ? n : null;
    },
    90_000,
    [],
    300,
  );
}

describe.each<[string, SourceKind]>([
  ['MariaDB -> PostgreSQL', 'mysql'],
  ['PostgreSQL -> PostgreSQL', 'postgres'],
])('%s: an exchange of column names reaches a sink that lags', (_label, kind) => {
  const ns = uniqueName(kind === 'mysql' ? 'crl_my' : 'crl_pg');
  const target = `${ns}_tgt`;
  let config: PipelineConfig | undefined;
  const runs: RunningPipeline[] = [];
  let source: Source | undefined;

  afterAll(async () => {
    await Promise.all(runs.map((r) => r.stop()));
    if (config) {
      if (kind === 'postgres') await dropPgSlot(config).catch(() => undefined);
      await deletePipelineTopics(kafka, config.name);
    }
    await source?.close();
    const admin = await pgSuper();
    for (const s of [ns, target]) await admin.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`).catch(() => undefined);
    await admin.end();
    if (kind === 'mysql') {
      const my = await mysqlRoot();
      await my.query(`DROP DATABASE IF EXISTS \`${ns}\``).catch(() => undefined);
      await my.end();
    }
  });

  it('verify is equal and every column holds the data the source has under its name', async () => {
    if (kind === 'mysql') {
      const my = await mysqlRoot();
      await my.query(`CREATE DATABASE \`${ns}\``);
      await my.query(`USE \`${ns}\``);
      source = { exec: async (sql) => void (await my.query(sql)), close: () => my.end() };
    } else {
      const pgc = await pgFerry();
      await pgc.query(`CREATE SCHEMA "${ns}"`);
      await pgc.query(`SET search_path = "${ns}"`);
      source = { exec: async (sql) => void (await pgc.query(sql)), close: () => pgc.end() };
    }
    const concat = kind === 'mysql' ? "CONCAT(a, '+')" : "a || '+'";
    await source.exec('CREATE TABLE t (id int PRIMARY KEY, a varchar(20), b varchar(20))');
    await source.exec(`INSERT INTO t (id, a, b) VALUES ${IDS.map((id) => `(${id}, 'a${id}', 'b${id}')`).join(', ')}`);
    config = routeConfig({
      name: uniqueName('crl').replace(/_/g, '-'),
      source: kind,
      sourceNamespace: ns,
      sink: 'postgres',
      targetNamespace: target,
      partitions: PARTITIONS,
      batchSize: 5,
    });
    const topic = dataTopic(config.name, ns, 't');
    runs.push(startPipeline(config, { source: true, sink: false }));
    await topicSettled(topic, IDS.length);
    // Events of the version before the exchange, in every partition but NEW_ID's.
    await source.exec(`UPDATE t SET a = ${concat}`);
    if (kind === 'mysql') {
      await source.exec('ALTER TABLE t RENAME COLUMN a TO b, RENAME COLUMN b TO a');
    } else {
      await source.exec('BEGIN');
      await source.exec('ALTER TABLE t RENAME COLUMN a TO tmp');
      await source.exec('ALTER TABLE t RENAME COLUMN b TO a');
      await source.exec('ALTER TABLE t RENAME COLUMN tmp TO b');
      await source.exec('COMMIT');
    }
    await source.exec(`INSERT INTO t (id, a, b) VALUES (${NEW_ID}, 'new a', 'new b')`);
    await topicSettled(topic, 2 * IDS.length + 1);

    const sink = startPipeline(config, { source: false, sink: true });
    runs.push(sink);
    const { report } = await waitForConvergence(sink, kafka, { timeoutMs: 60_000 });
    expect(report.equal, JSON.stringify(summary(report))).toBe(true);
    const admin = await pgSuper();
    try {
      const rows = await admin.query(`SELECT id, a, b FROM "${target}".t WHERE id IN ($1, $2) ORDER BY id`, [
        IDS[0],
        NEW_ID,
      ]);
      expect(rows.rows).toEqual([
        { id: IDS[0], a: `b${IDS[0]}`, b: `a${IDS[0]}+` },
        { id: NEW_ID, a: 'new a', b: 'new b' },
      ]);
    } finally {
      await admin.end();
    }
    expect(runs.flatMap((r) => r.logs()).filter((l) => l.includes('"level":"error"'))).toEqual([]);
  }, 240_000);
});
