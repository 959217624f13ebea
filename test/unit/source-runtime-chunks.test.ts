import { describe, expect, it } from 'vitest';
import { captureAll, evenBounds, FerryError, type StoredSourceOffset } from '../../src/api/index.js';
import type { DirectLoader } from '../../src/runtime/source/direct-lane.js';
import { SourceRuntime, type SourceRuntimeOptions } from '../../src/runtime/source/runtime.js';
import { FakeKafka, silentLogger, table, waitFor } from './source-runtime.fakes.js';
import { FakeChunkConnector, replay, rowsOf } from './source-runtime-chunks.fakes.js';

const A = table('a');
const B = table('b');

function runtime(kafka: FakeKafka, connector: FakeChunkConnector, extra: Partial<SourceRuntimeOptions> = {}) {
  return new SourceRuntime({
    pipeline: 'p',
    connector,
    transport: kafka,
    filter: captureAll(),
    logger: silentLogger,
    chunkSize: 2,
    chunkBytes: 1 << 20,
    offsetDelayMs: 5,
    reconnectMinMs: 5,
    reconnectMaxMs: 20,
    signalsIntervalMs: 20,
    ...extra,
  });
}

function fill(src: FakeChunkConnector, name: string, n: number): void {
  src.rows.set(
    name,
    Array.from({ length: n }, (_, i) => ({ id: i + 1, v: `${name}${i + 1}` })),
  );
}

const offsets = (kafka: FakeKafka) =>
  (kafka.topics.get('p.__offsets')?.records ?? []).map((r) => JSON.parse(r.value!) as Record<string, unknown>);

/** Per key, the log index of each event's state must never go down (replayed duplicates aside). */
function opsOf(kafka: FakeKafka, t: string, id: number): string[] {
  return kafka
    .envelopes(`p.app.${t}`)
    .filter((e) => ((e.value['after'] ?? e.value['before']) as { id: number }).id === id)
    .map((e) => `${String(e.value['op'])}:${String(((e.value['after'] ?? {}) as { v?: string }).v ?? '')}`);
}

describe('SourceRuntime: watermarked snapshot chunks', () => {
  it('stores the stream position with every table pending before the first chunk, then reads tables while streaming', async () => {
    const kafka = new FakeKafka();
    const src = new FakeChunkConnector([A, B]);
    fill(src, 'a', 5);
    fill(src, 'b', 3);
    const rt = runtime(kafka, src);
    const running = rt.run();
    await waitFor(() => rt.storedOffset()?.phase === 'stream');
    await rt.stop();
    await running;

    const first = offsets(kafka)[0]!;
    expect(first['phase']).toBe('snapshot');
    expect(first['snapshot']).toMatchObject({
      pending: [
        { table: 'app.a', lastKey: null },
        { table: 'app.b', lastKey: null },
      ],
    });
    expect(src.chunkReads.length).toBeGreaterThan(0);
    // The stream ran from the start: it was opened once, before the first chunk was placed.
    expect(src.streamCalls).toEqual([{ i: 0 }]);
    expect(replay(kafka.envelopes('p.app.a'))).toEqual(rowsOf(src, 'a'));
    expect(replay(kafka.envelopes('p.app.b'))).toEqual(rowsOf(src, 'b'));
    const last = offsets(kafka).at(-1)!;
    expect(last['tables']).toEqual(['app.a', 'app.b']);
    expect((last['snapshot'] as { done: string[] }).done.sort()).toEqual(['app.a', 'app.b']);
  });

  it('a row changed between a chunk read and its watermark comes from the stream, never older after newer', async () => {
    const kafka = new FakeKafka();
    const src = new FakeChunkConnector([A]);
    fill(src, 'a', 4);
    let done = false;
    src.betweenReadAndWatermark = (req) => {
      if (done || req.afterKey !== null) return;
      done = true;
      src.apply(A, 'u', 2, 'changed');
      src.apply(A, 'd', 1);
    };
    const rt = runtime(kafka, src);
    const running = rt.run();
    await waitFor(() => rt.storedOffset()?.phase === 'stream');
    await rt.stop();
    await running;
    // Row 2's chunk copy (the older 'a2') is dropped: only the stream's update is in Kafka.
    expect(opsOf(kafka, 'a', 2)).toEqual(['u:changed']);
    // Row 1 was deleted inside the window: its chunk copy is dropped, no resurrection.
    expect(opsOf(kafka, 'a', 1)).toEqual(['d:']);
    expect(replay(kafka.envelopes('p.app.a'))).toEqual(rowsOf(src, 'a'));
  });

  it('a crash after the first chunk, then a delete: the restart streams from the stored position and the delete arrives', async () => {
    const kafka = new FakeKafka();
    const src = new FakeChunkConnector([A]);
    fill(src, 'a', 4);
    src.readGate = null;
    const first = runtime(kafka, src, { chunkSize: 2 });
    let stored: StoredSourceOffset | null = null;
    first.on('stored', (o) => {
      stored = o;
    });
    // Let one chunk reach Kafka, then make every later send fail for good (a crash).
    const running = first.run();
    await waitFor(() => kafka.envelopes('p.app.a').length >= 1);
    kafka.crashAfter = 0;
    await running.catch(() => undefined);
    kafka.crashAfter = null;
    const before = kafka.envelopes('p.app.a').length;
    expect(before).toBeGreaterThan(0);
    // Row 1 is deleted while the source is down.
    src.apply(A, 'd', 1);
    src.apply(A, 'c', 5, 'a5');
    const second = runtime(kafka, src, { chunkSize: 2 });
    const again = second.run();
    await waitFor(() => second.storedOffset()?.phase === 'stream');
    await second.stop();
    await again;
    // Whatever the first run published, the delete of row 1 follows it: the topic replays to the source.
    expect(replay(kafka.envelopes('p.app.a'))).toEqual(rowsOf(src, 'a'));
    expect(src.streamCalls[1]).toEqual((stored as StoredSourceOffset | null)?.position);
  });

  it('resumes chunk by chunk from the stored progress', async () => {
    const kafka = new FakeKafka();
    const src = new FakeChunkConnector([A]);
    fill(src, 'a', 10);
    const first = runtime(kafka, src, { chunkSize: 2, snapshotParallelism: 1 });
    // Reads after the chunk that ends at key 6 hang (a database that stopped answering).
    src.betweenReadAndWatermark = (req) => {
      if ((req.afterKey?.[0] as number | undefined) === 4) src.readGate = new Promise(() => undefined);
    };
    const running = first.run();
    await waitFor(() => first.storedOffset()?.snapshot?.pending?.[0]?.lastKey?.[0] === 6);
    await first.stop();
    await running;
    const stored = first.storedOffset()!;
    expect(stored.phase).toBe('snapshot');
    const resumeKey = stored.snapshot!.pending![0]!.lastKey;
    expect(resumeKey).toEqual([6]);
    src.readGate = null;
    src.betweenReadAndWatermark = null;
    const reads = src.chunkReads.length;
    const second = runtime(kafka, src, { chunkSize: 2, snapshotParallelism: 1 });
    const again = second.run();
    await waitFor(() => second.storedOffset()?.phase === 'stream');
    await second.stop();
    await again;
    expect(src.chunkReads[reads]!.afterKey).toEqual(resumeKey);
    expect(replay(kafka.envelopes('p.app.a'))).toEqual(rowsOf(src, 'a'));
  });

  it('a table created at the source while streaming is snapshotted without a restart', async () => {
    const kafka = new FakeKafka();
    const src = new FakeChunkConnector([A]);
    fill(src, 'a', 2);
    const rt = runtime(kafka, src);
    const running = rt.run();
    await waitFor(() => rt.storedOffset()?.phase === 'stream');
    fill(src, 'b', 3);
    src.append({ type: 'schema', schema: B });
    src.append({ type: 'checkpoint', position: { i: src.log.length + 1 } });
    await waitFor(() => (rt.storedOffset()?.tables ?? []).includes('app.b') && rt.storedOffset()?.phase === 'stream');
    await rt.stop();
    await running;
    expect(replay(kafka.envelopes('p.app.b'))).toEqual(rowsOf(src, 'b'));
  });

  it('a snapshot request on the signals topic re-reads a table while streaming', async () => {
    const kafka = new FakeKafka();
    const src = new FakeChunkConnector([A]);
    fill(src, 'a', 3);
    const rt = runtime(kafka, src);
    const running = rt.run();
    await waitFor(() => rt.storedOffset()?.phase === 'stream');
    const readsBefore = src.chunkReads.length;
    await kafka.send([
      {
        topic: 'p.__signals',
        key: 'r1',
        value: JSON.stringify({ type: 'snapshot', tables: ['app.a'], requestedAt: 1 }),
      },
    ]);
    await waitFor(() => rt.storedOffset()?.signals === '1' && rt.storedOffset()?.phase === 'stream');
    await rt.stop();
    await running;
    expect(src.chunkReads.length).toBeGreaterThan(readsBefore);
    expect(src.chunkReads[readsBefore]!.afterKey).toBeNull();
    expect(kafka.envelopes('p.app.a').filter((e) => e.value['op'] === 'r')).toHaveLength(6);
  });

  it('several readers read one large table in key ranges at once, every row once', async () => {
    const kafka = new FakeKafka();
    const src = new FakeChunkConnector([A]);
    fill(src, 'a', 40);
    const rt = runtime(kafka, src, { chunkSize: 5, snapshotParallelism: 3 });
    const running = rt.run();
    await waitFor(() => rt.storedOffset()?.phase === 'stream');
    await rt.stop();
    await running;
    const ranges = new Set(src.chunkReads.map((r) => JSON.stringify(r.until ?? null)));
    expect(ranges.size).toBe(3);
    const ids = kafka.envelopes('p.app.a').map((e) => (e.value['after'] as { id: number }).id);
    expect([...ids].sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    const last = offsets(kafka).at(-1)!;
    expect((last['snapshot'] as { done: string[] }).done).toEqual(['app.a']);
  });

  it('a writer appending at the end of the key range faster than chunks are read cannot keep the snapshot from finishing', async () => {
    const kafka = new FakeKafka();
    const src = new FakeChunkConnector([A]);
    fill(src, 'a', 6);
    // Three new rows above the highest key after every chunk read of two rows.
    let next = 7;
    src.betweenReadAndWatermark = () => {
      for (let i = 0; i < 3; i++, next++) src.apply(A, 'c', next, `a${next}`);
    };
    const rt = runtime(kafka, src, { chunkSize: 2 });
    const running = rt.run();
    await waitFor(() => rt.storedOffset()?.phase === 'stream');
    src.betweenReadAndWatermark = null;
    await rt.stop();
    await running;
    // The table was read up to its highest key when its snapshot started (6), in ranges that stop
    // there; every later row came through the stream.
    expect(src.chunkReads.every((r) => r.until !== undefined && (r.until[0] as number) <= 6)).toBe(true);
    expect(src.chunkReads.map((r) => r.until![0]).at(-1)).toBe(6);
    expect(src.chunkReads.length).toBeLessThanOrEqual(5);
    expect(replay(kafka.envelopes('p.app.a'))).toEqual(rowsOf(src, 'a'));
    expect(rowsOf(src, 'a').size).toBeGreaterThan(6);
  });

  it('a stream that fails for good ends the run with its error, while chunks are still to read', async () => {
    const kafka = new FakeKafka();
    const src = new FakeChunkConnector([A]);
    fill(src, 'a', 10);
    src.readGate = new Promise(() => undefined); // the readers are busy when the stream fails
    src.failAlways = new FerryError('FERRY_DECODE', 'a statement the source cannot follow');
    const rt = runtime(kafka, src);
    await expect(rt.run()).rejects.toThrow('a statement the source cannot follow');
  });

  it('a table without key columns stops the source with a fix, nothing published for it', async () => {
    const kafka = new FakeKafka();
    const keyless = { ...table('k'), primaryKey: [] };
    const src = new FakeChunkConnector([keyless]);
    src.rows.set('k', [{ id: 1, v: 'x' }]);
    const rt = runtime(kafka, src);
    await expect(rt.run()).rejects.toThrow(/app\.k.*no primary key.*source\.keyColumns/);
  });
});

describe('SourceRuntime: direct-lane chunks', () => {
  it('holds what the stream read after a chunk until its write settled, writes the next chunk beside it, and publishes a chunk it could not write in its place', async () => {
    const kafka = new FakeKafka();
    const src = new FakeChunkConnector([A]);
    fill(src, 'a', 4);
    const loads: Array<{ ids: number[]; settle: (written: boolean) => void }> = [];
    const lane: DirectLoader = {
      load: (_schema, rows) =>
        new Promise<boolean>((settle) => loads.push({ ids: rows.map((r) => r['id'] as number), settle })),
      noteSchema: () => undefined,
      close: async () => undefined,
    };
    const rt = runtime(kafka, src, { directLane: lane, snapshotParallelism: 2 });
    const running = rt.run();
    // Both chunks are being written at once.
    await waitFor(() => loads.length === 2);
    expect(loads.map((l) => l.ids).sort()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    src.apply(A, 'u', 1, 'changed');
    const data = () =>
      kafka.envelopes('p.app.a').map((e) => `${String(e.value['op'])}:${JSON.stringify(e.value['after'])}`);
    await new Promise((r) => setTimeout(r, 100));
    expect(data()).toEqual([]);
    const first = loads.find((l) => l.ids[0] === 1)!;
    const second = loads.find((l) => l.ids[0] === 3)!;
    second.settle(false);
    await new Promise((r) => setTimeout(r, 100));
    // The second chunk's write may finish first; the first chunk still holds the change.
    expect(data()).not.toContain('u:{"id":1,"v":"changed"}');
    first.settle(true);
    await waitFor(() => data().includes('u:{"id":1,"v":"changed"}'));
    // The chunk that went through Kafka after all came before the change that followed it.
    expect(data()).toEqual(['r:{"id":3,"v":"a3"}', 'r:{"id":4,"v":"a4"}', 'u:{"id":1,"v":"changed"}']);
    await rt.stop();
    await running;
  }, 20_000);
});

describe('evenBounds', () => {
  it('cuts an integer key range into equal parts, exact beyond 2^53', () => {
    expect(evenBounds(1n, 100n, 4)).toEqual([[25], [50], [75]]);
    expect(evenBounds(5n, 6n, 4)).toEqual([]);
    expect(evenBounds(0n, 18446744073709551614n, 2)).toEqual([['9223372036854775807']]);
  });
});
