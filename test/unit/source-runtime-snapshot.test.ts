import { describe, expect, it } from 'vitest';
import { captureAll } from '../../src/api/index.js';
import { FerryMetrics } from '../../src/metrics/metrics.js';
import type { SourceProgress } from '../../src/runtime/source/items.js';
import { SourceRuntime, type SourceRuntimeOptions } from '../../src/runtime/source/runtime.js';
import { change, FakeConnector, FakeKafka, silentLogger, table, waitFor } from './source-runtime.fakes.js';

const A = table('a');
const B = table('b');
const E = table('empty');

function runtime(kafka: FakeKafka, connector: FakeConnector, extra: Partial<SourceRuntimeOptions> = {}) {
  return new SourceRuntime({
    pipeline: 'p',
    connector,
    transport: kafka,
    filter: captureAll(),
    logger: silentLogger,
    chunkSize: 10,
    offsetDelayMs: 5,
    reconnectMinMs: 5,
    reconnectMaxMs: 20,
    ...extra,
  });
}

function fill(src: FakeConnector, name: string, n: number): void {
  src.rows.set(
    name,
    Array.from({ length: n }, (_, i) => ({ id: i + 1, v: `${name}${i + 1}` })),
  );
}

const ids = (kafka: FakeKafka, t: string) =>
  kafka.envelopes(`p.app.${t}`).map((e) => (e.value['after'] as { id: number } | null)?.id ?? null);

const offsets = (kafka: FakeKafka) => (kafka.topics.get('p.__offsets')?.records ?? []).map((r) => JSON.parse(r.value!));

describe('SourceRuntime: snapshot', () => {
  it('reads every table in key order in chunks, marks the last row, then streams from the view position', async () => {
    const kafka = new FakeKafka();
    const src = new FakeConnector([A, E, B]);
    fill(src, 'a', 25);
    fill(src, 'b', 10);
    src.commit(change(A, 'u', 1, 'before-snapshot'));
    const metrics = new FerryMetrics('p');
    const rt = runtime(kafka, src, { metrics });
    const seen: SourceProgress[] = [];
    rt.on('progress', (p) => seen.push(p));
    const running = rt.run();
    await waitFor(() => rt.storedOffset()?.phase === 'stream');
    src.commit(change(B, 'c', 11, 'after'));
    await waitFor(() => rt.storedOffset()?.position['i'] === 4);
    await rt.stop();
    await running;

    expect(ids(kafka, 'a')).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(ids(kafka, 'b')).toEqual([...Array.from({ length: 10 }, (_, i) => i + 1), 11]);
    const all = [...kafka.envelopes('p.app.a'), ...kafka.envelopes('p.app.b')];
    const flags = all.map((e) => (e.value['source'] as { snapshot: unknown }).snapshot);
    expect(flags.filter((f) => f === 'last')).toHaveLength(1);
    const lastB = kafka.envelopes('p.app.b')[9]!.value;
    expect(lastB['op']).toBe('r');
    expect((lastB['source'] as { snapshot: unknown }).snapshot).toBe('last');
    expect(lastB['source']).toMatchObject({ connector: 'mysql', file: 'fake', pos: 2 });
    // Chunks use keyset pagination: afterKey is the previous chunk's last key.
    expect(src.chunkCalls.filter((c) => c.table === 'a').map((c) => c.afterKey)).toEqual([null, [10], [20]]);
    // Stream started at the view's position (after the one change made before the snapshot).
    expect(src.streamCalls).toEqual([{ i: 2 }]);
    // Progress was stored per chunk: phase snapshot with the original position.
    const snaps = offsets(kafka).filter((o) => o.phase === 'snapshot');
    expect(snaps[0]).toMatchObject({
      position: { i: 2 },
      snapshot: { done: [], current: { table: 'app.a', lastKey: [10] } },
    });
    expect(offsets(kafka).find((o) => o.phase === 'stream')).toMatchObject({ position: { i: 2 } });
    const final = seen.at(-1)!;
    expect(final.phase).toBe('stopped');
    expect(final.snapshot.find((t) => t.table === 'app.a')).toMatchObject({
      rowsDone: 25,
      rowsEstimated: 25,
      done: true,
    });
    expect(await metrics.registry.getSingleMetricAsString('ferry_snapshot_rows_total')).toMatch(
      /table="app\.a"[^}]*} 25/,
    );
    expect(await metrics.registry.getSingleMetricAsString('ferry_snapshot_rows_estimated')).toMatch(
      /table="app\.b"[^}]*} 10/,
    );
  });

  it('resumes after a crash mid-snapshot: new view, unfinished tables from their last key, stream from the ORIGINAL position', async () => {
    const kafka = new FakeKafka();
    const src = new FakeConnector([A, B]);
    fill(src, 'a', 30);
    fill(src, 'b', 30);
    kafka.crashAfter = 7; // 7 acknowledged sends, then the "process" dies
    const first = runtime(kafka, src, { maxBatchEvents: 7, queueSize: 10 });
    await expect(first.run()).rejects.toThrow('fake crash');
    const stored = offsets(kafka).at(-1);
    expect(stored.phase).toBe('snapshot');
    expect(stored.position).toEqual({ i: 0 });
    const resumeKey = stored.snapshot.current;

    // Meanwhile the source changes: the new view sees it, and the stream replays it too.
    src.commit(change(A, 'u', 1, 'changed'));
    src.rows.get('a')![0] = { id: 1, v: 'changed' };
    kafka.crashAfter = null;
    src.chunkCalls.length = 0;
    const second = runtime(kafka, src);
    const running = second.run();
    await waitFor(() => second.storedOffset()?.phase === 'stream' && src.streamCalls.length === 1);
    await waitFor(() => second.storedOffset()?.position['i'] === 2);
    await second.stop();
    await running;

    expect(src.chunkCalls[0]).toEqual({ table: resumeKey.table.split('.')[1], afterKey: resumeKey.lastKey });
    expect(src.streamCalls).toEqual([{ i: 0 }]);
    // Every row is in Kafka at least once; the last image of id 1 is the change.
    for (const t of ['a', 'b'])
      expect(new Set(ids(kafka, t))).toEqual(new Set(Array.from({ length: 30 }, (_, i) => i + 1)));
    const lastA1 = kafka
      .envelopes('p.app.a')
      .filter((e) => e.key === '{"id":1}')
      .at(-1)!;
    expect((lastA1.value['after'] as { v: string }).v).toBe('changed');
  });

  it('resumes a snapshot stopped gracefully, without reading finished tables again', async () => {
    const kafka = new FakeKafka();
    const src = new FakeConnector([A, B]);
    fill(src, 'a', 5);
    fill(src, 'b', 40);
    kafka.sendDelayMs = 5;
    const first = runtime(kafka, src, { maxBatchEvents: 5, queueSize: 10 });
    const running = first.run();
    await waitFor(() => (first.storedOffset()?.snapshot?.current?.table ?? '') === 'app.b');
    await first.stop();
    await running;
    const stored = offsets(kafka).at(-1);
    expect(stored.phase).toBe('snapshot');
    expect(stored.snapshot.done).toEqual(['app.a']);

    src.chunkCalls.length = 0;
    kafka.sendDelayMs = 0;
    const second = runtime(kafka, src);
    const again = second.run();
    await waitFor(() => second.storedOffset()?.phase === 'stream');
    await second.stop();
    await again;
    expect(src.chunkCalls.every((c) => c.table === 'b')).toBe(true);
    expect(src.chunkCalls[0]!.afterKey).toEqual(stored.snapshot.current.lastKey);
    expect(new Set(ids(kafka, 'b')).size).toBe(40);
  });

  it('snapshot never: streams from the current position without reading rows', async () => {
    const kafka = new FakeKafka();
    const src = new FakeConnector([A]);
    fill(src, 'a', 5);
    src.commit(change(A, 'c', 100));
    const rt = runtime(kafka, src, { snapshot: 'never' });
    const running = rt.run();
    await waitFor(() => src.streamCalls.length === 1);
    await rt.stop();
    await running;
    expect(src.streamCalls).toEqual([{ i: 2 }]);
    expect(src.chunkCalls).toHaveLength(0);
  });

  it('--resnapshot forgets the stored position', async () => {
    const kafka = new FakeKafka();
    const src = new FakeConnector([A]);
    fill(src, 'a', 3);
    const rt = runtime(kafka, src);
    const running = rt.run();
    await waitFor(() => rt.storedOffset()?.phase === 'stream');
    await rt.stop();
    await running;
    src.commit(change(A, 'c', 4));
    src.rows.get('a')!.push({ id: 4, v: 'a4' });
    src.chunkCalls.length = 0;
    const again = runtime(kafka, src, { resnapshot: true });
    const r2 = again.run();
    await waitFor(() => again.storedOffset()?.phase === 'stream');
    await again.stop();
    await r2;
    expect(src.chunkCalls.length).toBeGreaterThan(0);
    expect(src.streamCalls.at(-1)).toEqual({ i: 2 });
    expect(kafka.topics.get('p.__offsets')!.records.some((r) => r.value === null)).toBe(true);
  });
});
