/**
 * Kafka down for longer than a source used to wait: the source keeps waiting (retrying with a
 * bounded backoff), stays up, and once Kafka is back every change written meanwhile reaches Kafka
 * in order. The publisher's backoff is shortened (kafkaRetryMaxDelayMs) and the Kafka client
 * retries little inside one attempt, so the outage spans many more attempts than the 8 after
 * which the source used to give up. Meanwhile /readyz answers 503 (waiting for Kafka) and
 * ferry_source_kafka_waiting_seconds grows; once Kafka is back, /readyz answers 200 again.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/kafka/client.js';
import { startMetricsServer } from '../../src/metrics/server.js';
import { sourceReadiness } from '../../src/pipeline/pipeline.js';
import { startServer, stopServer } from '../../src/sandbox/index.js';
import { events, sandboxKafka, waitForRecords } from '../helpers/kafka.js';
import { getSandbox, mysqlRoot, sandboxDir, uniqueName } from '../helpers/sandbox.js';
import { filterFor, freshDatabase, startSource, until } from '../integration/mysql-source.helpers.js';

describe('MySQL source: Kafka stopped for longer than the old give-up time', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  it('keeps waiting for Kafka, then publishes everything written meanwhile', async () => {
    const db = uniqueName('ferry_kafka_out');
    const pipeline = uniqueName('p');
    const { conn, sql } = await freshDatabase(db);
    await sql('CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL)');
    await sql('INSERT INTO t VALUES (1, 0)');
    await conn.end();
    // Few retries inside one Kafka call: each failing attempt ends quickly.
    const kafka = createKafka({ brokers: getSandbox().kafka.brokers, clientId: 'ferry-outage', retries: 1 });
    const source = startSource(kafka, pipeline, filterFor(db), { kafkaRetryMaxDelayMs: 500, offsetDelayMs: 20 });
    cleanups.push(() => source.stop());
    // The /readyz a pipeline serves, for this source.
    const server = await startMetricsServer('127.0.0.1:0', source.metrics, {
      ready: () => sourceReadiness(source.runtime.progress()),
    });
    cleanups.push(() => server.close());
    const readyz = async () => {
      const res = await fetch(`http://${server.address}/readyz`);
      return { status: res.status, body: (await res.json()) as { status: string; reason?: string } };
    };
    await until(() => source.runtime.storedOffset()?.phase === 'stream', 60_000, 'the snapshot');
    await until(async () => (await readyz()).status === 200, 60_000, '/readyz 200 before the outage');

    const write = async (from: number, to: number) => {
      const c = await mysqlRoot(db);
      try {
        for (let id = from; id <= to; id++) {
          await c.query('INSERT INTO t VALUES (?, ?)', [id, id]);
          await c.query('UPDATE t SET v = v + 1 WHERE id = ?', [id - 1]);
        }
      } finally {
        await c.end();
      }
    };
    let failedAttempts = 0;
    await stopServer('kafka', { dir: sandboxDir() });
    try {
      await write(2, 40);
      const errorsBefore = await failures(source);
      // Wait until the source has retried far more often than the 8 times it used to allow.
      await until(
        async () => {
          failedAttempts = (await failures(source)) - errorsBefore;
          return failedAttempts >= 20;
        },
        120_000,
        'twenty failed attempts to publish',
      );
      // Still running: run() has not settled.
      const settled = await Promise.race([
        source.done.then(
          () => 'ended',
          () => 'failed',
        ),
        sleep(100).then(() => 'running'),
      ]);
      expect(settled).toBe('running');
      // Not ready while it waits, with the reason; the gauge says for how long.
      const during = await readyz();
      expect(during.status).toBe(503);
      expect(during.body.reason).toMatch(/waiting for Kafka/);
      expect(await waitingSeconds(source)).toBeGreaterThan(0);
    } finally {
      await startServer('kafka', { dir: sandboxDir() });
    }
    expect(failedAttempts).toBeGreaterThanOrEqual(20);
    await write(41, 60);

    const check = await mysqlRoot(db);
    const [rows] = (await check.query('SELECT id, v FROM t')) as unknown as [Array<{ id: number; v: number }>];
    await check.end();
    const expected = new Map(rows.map((r) => [`{"id":${r.id}}`, r.v]));
    expect(expected.size).toBe(60);
    const recs = await waitForRecords(
      sandboxKafka(),
      `${pipeline}.${db}.t`,
      (r) => {
        const last = new Map(events(r).map((e) => [e.key, (e.value.after as { v: number }).v]));
        return [...expected].every(([k, v]) => last.get(k) === v);
      },
      120_000,
    );
    const last = new Map<string, number>();
    for (const e of events(recs)) last.set(e.key!, (e.value.after as { v: number }).v);
    expect(last).toEqual(expected);
    await until(async () => (await readyz()).status === 200, 60_000, '/readyz 200 after the outage');
    expect(await waitingSeconds(source)).toBe(0);
    await source.stop();
    await source.done;
  });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Failed attempts to reach Kafka so far, from the source's ferry_errors_total. */
async function failures(source: ReturnType<typeof startSource>): Promise<number> {
  const metric = await source.metrics.errors.get();
  return metric.values.filter((v) => v.labels['component'] === 'source').reduce((n, v) => n + v.value, 0);
}

async function waitingSeconds(source: ReturnType<typeof startSource>): Promise<number> {
  const metric = await source.metrics.sourceKafkaWaitingSeconds.get();
  return metric.values[0]?.value ?? 0;
}
