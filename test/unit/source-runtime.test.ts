import { describe, expect, it } from 'vitest';
import { FerryError } from '../../src/api/index.js';
import { FerryMetrics } from '../../src/metrics/metrics.js';
import { change, FakeConnector, FakeKafka, fakeSourceRuntime, table, waitFor } from './source-runtime.fakes.js';

const T = table('t');
const TOPIC = 'p.app.t';

const runtime = fakeSourceRuntime;

function storedOffsets(kafka: FakeKafka) {
  return (kafka.topics.get('p.__offsets')?.records ?? []).map((r) => JSON.parse(r.value!));
}

/** Index of the send that holds a message matching `pred`, or -1. */
function sendIndex(kafka: FakeKafka, pred: (m: { topic: string }) => boolean): number {
  return kafka.sends.findIndex((batch) => batch.some(pred));
}

describe('SourceRuntime: streaming', () => {
  it('publishes events in log order with the key as Kafka key, schemas first, and stores the position', async () => {
    const kafka = new FakeKafka();
    const src = new FakeConnector([T]);
    const rt = runtime(kafka, src, { snapshot: 'never' });
    const running = rt.run();
    src.commit(change(T, 'c', 1, 'a'), change(T, 'c', 2, 'b'));
    src.commit(change(T, 'u', 1, 'a2'));
    await waitFor(() => rt.storedOffset()?.position['i'] === 5);
    await rt.stop();
    await running;
    const events = kafka.envelopes(TOPIC);
    expect(events.map((e) => [e.key, e.value['op']])).toEqual([
      ['{"id":1}', 'c'],
      ['{"id":2}', 'c'],
      ['{"id":1}', 'u'],
    ]);
    expect(events[0]!.value['source']).toMatchObject({
      connector: 'mysql',
      db: 'app',
      table: 't',
      schema_version: T.version,
    });
    const schemaSend = sendIndex(kafka, (m) => m.topic === 'p.__schemas');
    const firstEvent = sendIndex(kafka, (m) => m.topic === TOPIC);
    expect(schemaSend).toBeGreaterThanOrEqual(0);
    expect(schemaSend).toBeLessThan(firstEvent);
    expect(kafka.topics.get('p.__schemas')!.records[0]!.key).toBe(`app.t@${T.version}`);
    const last = storedOffsets(kafka).at(-1);
    expect(last).toMatchObject({
      format: 1,
      connector: 'mysql',
      phase: 'stream',
      position: { i: 5 },
      describe: 'fake:5',
    });
    expect(src.acknowledged.at(-1)).toEqual({ i: 5 });
    expect(src.closed).toBe(true);
  });

  it('makes the transactions topic with the others at start, not when the first transaction comes', async () => {
    for (const transactions of [true, false]) {
      const kafka = new FakeKafka();
      const src = new FakeConnector([T]);
      const rt = runtime(kafka, src, { snapshot: 'never', transactions });
      const running = rt.run();
      await waitFor(() => kafka.topics.has(TOPIC));
      expect(kafka.topics.has('p.__transactions')).toBe(transactions);
      await rt.stop();
      await running;
    }
  });

  it('stores a position only after Kafka acknowledged every event before it', async () => {
    const kafka = new FakeKafka();
    kafka.sendDelayMs = 2;
    const src = new FakeConnector([T]);
    const rt = runtime(kafka, src, { snapshot: 'never', maxBatchEvents: 3 });
    const running = rt.run();
    for (let i = 0; i < 40; i++) src.commit(change(T, 'c', i), change(T, 'u', i, 'x'));
    await waitFor(() => rt.storedOffset()?.position['i'] === src.log.length);
    await rt.stop();
    await running;
    // For every stored offset {i}, all events at log index < i were in EARLIER (acknowledged) sends.
    const eventSend = new Map<string, number>();
    kafka.sends.forEach((batch, s) => {
      for (const m of batch) {
        if (m.topic === TOPIC && m.value) {
          const v = JSON.parse(m.value.toString());
          const id = `${v.op}:${v.after?.id ?? v.before?.id}`;
          if (!eventSend.has(id)) eventSend.set(id, s);
        }
      }
    });
    let checked = 0;
    kafka.sends.forEach((batch, s) => {
      for (const m of batch) {
        if (m.topic !== 'p.__offsets') continue;
        const upTo = JSON.parse(m.value!.toString()).position.i as number;
        for (const item of src.log.slice(0, upTo)) {
          if (item.type !== 'event') continue;
          const id = `${item.event.op}:${item.event.key!['id']}`;
          expect(eventSend.get(id)).toBeLessThan(s);
          checked++;
        }
      }
    });
    expect(checked).toBeGreaterThan(0);
  });

  it('follows deletes with a tombstone, and sends a truncate to every partition', async () => {
    const kafka = new FakeKafka();
    const src = new FakeConnector([T]);
    const rt = runtime(kafka, src, { snapshot: 'never', partitions: 3 });
    const running = rt.run();
    src.commit(change(T, 'c', 1), change(T, 'd', 1));
    src.commit({ ...change(T, 'c', 0), op: 't', key: null, before: null, after: null });
    await waitFor(() => rt.storedOffset()?.position['i'] === 5);
    await rt.stop();
    await running;
    const recs = kafka.topics.get(TOPIC)!.records;
    expect(recs.map((r) => [r.key, r.value === null ? null : JSON.parse(r.value).op, r.partition])).toEqual([
      ['{"id":1}', 'c', 0],
      ['{"id":1}', 'd', 0],
      ['{"id":1}', null, 0],
      [null, 't', 0],
      [null, 't', 1],
      [null, 't', 2],
    ]);
  });

  it('holds the reader back when Kafka is slow (bounded queue)', async () => {
    const kafka = new FakeKafka();
    let open!: () => void;
    kafka.gate = new Promise((r) => {
      open = r;
    });
    const src = new FakeConnector([T]);
    for (let i = 0; i < 500; i++) src.commit(change(T, 'c', i));
    const rt = runtime(kafka, src, { snapshot: 'never', queueSize: 20, maxBatchEvents: 10 });
    const running = rt.run();
    await new Promise((r) => setTimeout(r, 100));
    // queue (20) + one batch taken by the publisher (10) + the item waiting in put()
    expect(src.yielded).toBeLessThanOrEqual(31);
    expect(rt.progress().queueDepth).toBeLessThanOrEqual(20);
    kafka.gate = null;
    open();
    await waitFor(() => rt.storedOffset()?.position['i'] === 1000);
    await rt.stop();
    await running;
    expect(kafka.envelopes(TOPIC)).toHaveLength(500);
  });

  it('reconnects after a retriable stream error, from the last stored position', async () => {
    const kafka = new FakeKafka();
    const src = new FakeConnector([T]);
    const metrics = new FerryMetrics('p');
    const rt = runtime(kafka, src, { snapshot: 'never', metrics });
    const running = rt.run();
    src.commit(change(T, 'c', 1));
    src.commit(change(T, 'c', 2));
    await waitFor(() => rt.storedOffset()?.position['i'] === 4);
    src.failWith = new FerryError('FERRY_CONNECTION', 'connection lost', { retriable: true });
    src.failAfter = 5; // fails after yielding c3, before its checkpoint
    src.commit(change(T, 'c', 3));
    src.commit(change(T, 'c', 4));
    await waitFor(() => rt.storedOffset()?.position['i'] === 8);
    expect(src.streamCalls.length).toBe(2);
    // The first event after {i:4} was queued before the failure, so it was flushed and its
    // transaction was not yet complete: the stream resumes from the last stored position.
    expect(src.streamCalls[1]).toEqual({ i: 4 });
    expect((await metrics.registry.getSingleMetricAsString('ferry_source_connected')).trim()).toMatch(/ 1$/);
    await rt.stop();
    await running;
    const ids = kafka.envelopes(TOPIC).map((e) => (e.value['after'] as { id: number }).id);
    expect(ids).toEqual([1, 2, 3, 3, 4]);
    const errors = await metrics.registry.getSingleMetricAsString('ferry_errors_total');
    expect(errors).toContain('code="FERRY_CONNECTION"');
  });

  it('stops with a non-retriable stream error and keeps what was stored', async () => {
    const kafka = new FakeKafka();
    const src = new FakeConnector([T]);
    const rt = runtime(kafka, src, { snapshot: 'never' });
    src.commit(change(T, 'c', 1));
    src.failWith = new FerryError('FERRY_AUTH', 'access denied');
    src.failAfter = 2;
    src.commit(change(T, 'c', 2));
    await expect(rt.run()).rejects.toMatchObject({ code: 'FERRY_AUTH' });
    expect(storedOffsets(kafka).at(-1)?.position).toEqual({ i: 2 });
    expect(rt.progress().phase).toBe('failed');
  });

  it('retries a failed Kafka send and keeps the order', async () => {
    const kafka = new FakeKafka();
    const src = new FakeConnector([T]);
    const rt = runtime(kafka, src, { snapshot: 'never', maxBatchEvents: 2 });
    const running = rt.run();
    await waitFor(() => kafka.sends.length > 0);
    kafka.failRetriable = 2;
    for (let i = 0; i < 6; i++) src.commit(change(T, 'c', i));
    await waitFor(() => rt.storedOffset()?.position['i'] === 12, 10_000);
    await rt.stop();
    await running;
    expect(kafka.envelopes(TOPIC).map((e) => (e.value['after'] as { id: number }).id)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('stops on failing preflight checks with every fix listed, and publishes nothing', async () => {
    const kafka = new FakeKafka();
    const src = new FakeConnector([T]);
    src.preflightResults = [
      {
        name: 'binlog_format',
        ok: false,
        detail: 'binlog_format is STATEMENT',
        fix: "SET GLOBAL binlog_format = 'ROW'",
      },
      { name: 'log_bin', ok: true },
      { name: 'primary keys', ok: false, detail: 'app.nopk has no primary key', fix: 'add one' },
    ];
    const err = await runtime(kafka, src)
      .run()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FerryError);
    expect((err as FerryError).code).toBe('FERRY_PREFLIGHT');
    expect((err as FerryError).message).toContain("SET GLOBAL binlog_format = 'ROW'");
    expect((err as FerryError).message).toContain('app.nopk has no primary key');
    expect((err as FerryError).message).not.toContain('log_bin');
    expect(kafka.sends).toHaveLength(0);
    expect(kafka.topics.size).toBe(0);
  });

  it('refuses events whose schema version was never published', async () => {
    const kafka = new FakeKafka();
    const src = new FakeConnector([T]);
    const rt = runtime(kafka, src, { snapshot: 'never' });
    src.commit({ ...change(T, 'c', 1), schemaVersion: 'unknown' });
    await expect(rt.run()).rejects.toMatchObject({ code: 'FERRY_INTERNAL' });
    expect(kafka.envelopes(TOPIC)).toHaveLength(0);
  });

  it('stops when its signal aborts', async () => {
    const kafka = new FakeKafka();
    const src = new FakeConnector([T]);
    const ac = new AbortController();
    const rt = runtime(kafka, src, { snapshot: 'never', signal: ac.signal });
    const running = rt.run();
    src.commit(change(T, 'c', 1));
    await waitFor(() => kafka.envelopes(TOPIC).length === 1);
    ac.abort();
    await running;
    expect(rt.progress().phase).toBe('stopped');
    expect(storedOffsets(kafka).at(-1)?.position).toEqual({ i: 2 });
  });
});
