/**
 * Graceful stop of the source runtime while something keeps failing or does not answer: stop()
 * ends waits and retries at once (docs/delivery.md#graceful-stop) instead of running out the
 * retries (~30 s), and still publishes what Kafka takes. Also: the last stored position reaches
 * the connector (acknowledge) before its stream is closed.
 */
import { describe, expect, it } from 'vitest';
import { captureAll, FerryError } from '../../src/api/index.js';
import type { OutMessage } from '../../src/kafka/producer.js';
import { SourceRuntime, type SourceRuntimeOptions } from '../../src/runtime/source/runtime.js';
import { change, FakeConnector, FakeKafka, silentLogger, table, waitFor } from './source-runtime.fakes.js';

const T = table('t');
const TOPIC = 'p.app.t';
/** A promise that never settles: a peer that does not answer. */
const never = () => new Promise<void>(() => undefined);

/** Default stop timeout (30 s) and the publisher's default Kafka backoff: only the stop ends the waits. */
function runtime(kafka: FakeKafka, connector: FakeConnector, extra: Partial<SourceRuntimeOptions> = {}) {
  connector.viewAt = 0;
  return new SourceRuntime({
    pipeline: 'p',
    connector,
    transport: kafka,
    filter: captureAll(),
    logger: silentLogger,
    snapshot: 'never',
    offsetDelayMs: 5,
    reconnectMinMs: 5,
    reconnectMaxMs: 20,
    ...extra,
  });
}

/** How long stop() took, ms. */
async function timeStop(rt: SourceRuntime): Promise<number> {
  const t0 = performance.now();
  await rt.stop();
  return performance.now() - t0;
}

/** Sends fail or hang as scripted, one entry per send; then they work. */
class ScriptedKafka extends FakeKafka {
  script: Array<'fail' | 'hang'> = [];

  override async send(messages: OutMessage[]): Promise<void> {
    const next = this.script.shift();
    if (next === 'fail') {
      this.sendCalls++;
      throw new FerryError('FERRY_CONNECTION', 'fake broker unavailable', { retriable: true });
    }
    if (next === 'hang') {
      this.sendCalls++;
      await never();
    }
    await super.send(messages);
  }
}

const STOP_MS = 1000;

describe('SourceRuntime: stop while something keeps failing', () => {
  it('Kafka keeps failing: stop() ends the retries at once; nothing is stored beyond what Kafka took', async () => {
    const kafka = new FakeKafka();
    const src = new FakeConnector([T]);
    const rt = runtime(kafka, src);
    const running = rt.run();
    running.catch(() => undefined);
    src.commit(change(T, 'c', 1));
    await waitFor(() => rt.storedOffset()?.position['i'] === 2);
    kafka.failRetriable = Number.POSITIVE_INFINITY;
    const calls = kafka.sendCalls;
    src.commit(change(T, 'c', 2));
    await waitFor(() => kafka.sendCalls >= calls + 2); // failed, and now retrying with backoff
    expect(await timeStop(rt)).toBeLessThan(STOP_MS);
    const err = await running.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'FERRY_CONNECTION' });
    expect((err as Error).message).toMatch(/stopped before Kafka acknowledged everything .*read again/);
    expect(rt.storedOffset()?.position).toEqual({ i: 2 });
    expect(kafka.envelopes(TOPIC)).toHaveLength(1);
    expect(src.closed).toBe(true);
  }, 10_000);

  it('a retry under way that does not answer (kafkajs retrying inside) is given up at once', async () => {
    const kafka = new ScriptedKafka();
    const src = new FakeConnector([T]);
    const rt = runtime(kafka, src);
    const running = rt.run();
    running.catch(() => undefined);
    src.commit(change(T, 'c', 1));
    await waitFor(() => rt.storedOffset()?.position['i'] === 2);
    const calls = kafka.sendCalls;
    kafka.script = ['fail', 'hang'];
    src.commit(change(T, 'c', 2));
    await waitFor(() => kafka.sendCalls >= calls + 2);
    expect(await timeStop(rt)).toBeLessThan(STOP_MS);
    await expect(running).rejects.toMatchObject({ code: 'FERRY_CONNECTION' });
    expect(rt.storedOffset()?.position).toEqual({ i: 2 });
  }, 10_000);

  it('Kafka unreachable at start-up: stop() does not wait for the position to load, and is a clean stop', async () => {
    const kafka = new FakeKafka();
    kafka.adminGate = never();
    const src = new FakeConnector([T]);
    const rt = runtime(kafka, src);
    const running = rt.run();
    await new Promise((r) => setTimeout(r, 50));
    expect(await timeStop(rt)).toBeLessThan(STOP_MS);
    await running;
    expect(rt.progress().phase).toBe('stopped');
    expect(kafka.sends).toHaveLength(0);
    expect(src.closed).toBe(true);
  }, 10_000);

  it('the database does not answer a reconnect: stop() does not wait for the connection attempt', async () => {
    const kafka = new FakeKafka();
    const src = new FakeConnector([T]);
    const rt = runtime(kafka, src);
    const running = rt.run();
    src.commit(change(T, 'c', 1));
    await waitFor(() => rt.storedOffset()?.position['i'] === 2);
    src.connectGate = never();
    src.failWith = new FerryError('FERRY_CONNECTION', 'connection lost', { retriable: true });
    src.commit(change(T, 'c', 2));
    await waitFor(() => src.streamCalls.length === 2); // reconnecting, stuck connecting
    expect(rt.progress().connected).toBe(false);
    expect(await timeStop(rt)).toBeLessThan(STOP_MS);
    await running;
    expect(rt.progress().phase).toBe('stopped');
    expect(rt.storedOffset()?.position).toEqual({ i: 2 });
  }, 10_000);

  it('the database keeps failing: stop() ends the reconnect backoff at once', async () => {
    const kafka = new FakeKafka();
    const src = new FakeConnector([T]);
    const rt = runtime(kafka, src, { reconnectMinMs: 20_000, reconnectMaxMs: 30_000 });
    src.failAlways = new FerryError('FERRY_CONNECTION', 'connection refused', { retriable: true });
    const running = rt.run();
    await waitFor(() => src.streamCalls.length === 1);
    await new Promise((r) => setTimeout(r, 50)); // in the backoff now
    expect(await timeStop(rt)).toBeLessThan(STOP_MS);
    await running;
    expect(src.streamCalls).toHaveLength(1);
  }, 10_000);

  it('a snapshot query that does not answer: stop() does not wait for it', async () => {
    const kafka = new FakeKafka();
    const src = new FakeConnector([T]);
    src.rows.set(
      't',
      Array.from({ length: 30 }, (_, i) => ({ id: i + 1, v: null })),
    );
    const rt = runtime(kafka, src, { snapshot: 'initial', chunkSize: 10 });
    src.viewAt = null;
    src.chunkGate = never();
    src.chunkGateFrom = 2;
    const running = rt.run();
    await waitFor(() => rt.storedOffset()?.phase === 'snapshot' && src.chunkCalls.length === 2);
    expect(await timeStop(rt)).toBeLessThan(STOP_MS);
    await running;
    expect(rt.storedOffset()).toMatchObject({
      phase: 'snapshot',
      snapshot: { current: { table: 'app.t', lastKey: [10] } },
    });
  }, 10_000);

  it('a slow but working Kafka still gets what is queued, and the last position is stored', async () => {
    const kafka = new FakeKafka();
    kafka.sendDelayMs = 100;
    const src = new FakeConnector([T]);
    const rt = runtime(kafka, src, { maxBatchEvents: 2 });
    const running = rt.run();
    await waitFor(() => kafka.sends.length > 0);
    for (let i = 1; i <= 4; i++) src.commit(change(T, 'c', i));
    await waitFor(() => src.yielded === 8);
    await rt.stop();
    await running;
    expect(kafka.envelopes(TOPIC)).toHaveLength(4);
    expect(rt.storedOffset()?.position).toEqual({ i: 8 });
  }, 10_000);
});

describe('SourceRuntime: the last position at a graceful stop', () => {
  it('is stored and acknowledged to the connector before its stream is closed', async () => {
    const kafka = new FakeKafka();
    kafka.sendDelayMs = 20;
    const src = new FakeConnector([T]);
    const rt = runtime(kafka, src);
    const running = rt.run();
    src.commit(change(T, 'c', 1));
    await waitFor(() => rt.storedOffset()?.position['i'] === 2);
    src.commit(change(T, 'c', 2), change(T, 'c', 3));
    await waitFor(() => src.yielded === 5); // read, not yet stored
    await rt.stop();
    await running;
    expect(rt.storedOffset()?.position).toEqual({ i: 5 });
    expect(src.acknowledged.at(-1)).toEqual({ i: 5 });
    // The final acknowledgement happened while the stream was still open.
    expect(src.trace.indexOf('ack:5')).toBeGreaterThanOrEqual(0);
    expect(src.trace.indexOf('ack:5')).toBeLessThan(src.trace.indexOf('stream-closed'));
    expect(src.trace.at(-1)).toBe('stream-closed');
    expect(src.closed).toBe(true);
  });
});
