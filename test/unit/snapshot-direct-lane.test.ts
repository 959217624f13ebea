import { describe, expect, it } from 'vitest';
import type {
  ChunkReader,
  ChunkRequest,
  ChunkResult,
  Row,
  SinkBatch,
  SinkConnector,
  SourceItem,
  TableSchema,
} from '../../src/api/index.js';
import { DirectLane, type DirectLoader } from '../../src/runtime/source/direct-lane.js';
import { SnapshotEngine, type StreamItem } from '../../src/runtime/source/snapshot-engine.js';
import { change, silentLogger, table, waitFor } from './source-runtime.fakes.js';

const A = table('a');

/** A chunk reader over fixed rows that records each request; the test places its watermark. */
class Reader implements ChunkReader {
  readonly requests: ChunkRequest[] = [];
  constructor(private readonly rows: Row[]) {}
  async estimateRows(): Promise<number> {
    return this.rows.length;
  }
  async readChunk(r: ChunkRequest): Promise<ChunkResult> {
    this.requests.push(r);
    const after = r.afterKey ? (r.afterKey[0] as number) : Number.NEGATIVE_INFINITY;
    return { rows: this.rows.filter((row) => (row['id'] as number) > after).slice(0, r.limit) };
  }
  async close(): Promise<void> {}
}

class Loader implements DirectLoader {
  readonly loads: Array<{ table: string; ids: number[] }> = [];
  readonly schemas: string[] = [];
  accept = true;
  async load(schema: TableSchema, rows: Row[]): Promise<boolean> {
    this.loads.push({ table: schema.table, ids: rows.map((r) => r['id'] as number) });
    return this.accept;
  }
  noteSchema(schema: TableSchema): void {
    this.schemas.push(`${schema.table}@${schema.version}`);
  }
  async close(): Promise<void> {}
}

/** An engine over table A with the lane; `snapshot`: whether it reads A from the start. */
function engineWith(
  reader: Reader,
  loader: Loader,
  counted: Array<[string, number]>,
  { chunkSize = 3, snapshot = true }: { chunkSize?: number; snapshot?: boolean } = {},
) {
  const abort = new AbortController();
  const engine = new SnapshotEngine({
    connectorKind: 'mysql',
    openReader: async () => reader,
    chunkSize,
    chunkBytes: 1 << 20,
    parallelism: 1,
    logger: silentLogger,
    signal: abort.signal,
    reconnectMinMs: 5,
    reconnectMaxMs: 20,
    isRetriable: () => false,
    onTableStart: () => undefined,
    onTableDone: () => undefined,
    onFatal: (err) => {
      throw err;
    },
    direct: loader,
    onDirectRows: (t, n) => counted.push([t, n]),
  });
  engine.init([A], null, snapshot);
  engine.start();
  return { engine, abort };
}

const rows = (n: number): Row[] => Array.from({ length: n }, (_, i) => ({ id: i + 1, v: `v${i + 1}` }));
/** The events of placed items, a gate's (a chunk the lane could not write) once it settled. */
async function events(items: StreamItem[]): Promise<SourceItem[]> {
  const out: SourceItem[] = [];
  for (const i of items) {
    if (i.type === 'gate') for (const event of await i.until) out.push({ type: 'event', event });
    else if (i.type === 'event') out.push(i);
  }
  return out;
}

describe('snapshot engine with the direct lane', () => {
  it('writes each chunk through the lane at its watermark instead of emitting its rows, minus keys changed in its window', async () => {
    const reader = new Reader(rows(5));
    const loader = new Loader();
    const counted: Array<[string, number]> = [];
    const { engine, abort } = engineWith(reader, loader, counted);
    await waitFor(() => reader.requests.length === 1);
    // The stream changed key 2 after the chunk was requested: its row comes from the stream.
    const streamed = await engine.transform({ type: 'event', event: change(A, 'u', 2, 'new') });
    expect(await events(streamed)).toHaveLength(1);
    const placed = await engine.transform({ type: 'watermark', id: reader.requests[0]!.id });
    expect(await events(placed)).toEqual([]);
    expect(loader.loads).toEqual([{ table: 'a', ids: [1, 3] }]);
    await waitFor(() => reader.requests.length === 2);
    const second = await engine.transform({ type: 'watermark', id: reader.requests[1]!.id });
    expect(await events(second)).toEqual([]);
    expect(loader.loads[1]).toEqual({ table: 'a', ids: [4, 5] });
    expect(counted).toEqual([
      ['app.a', 2],
      ['app.a', 2],
    ]);
    // Progress moved on as for published chunks: the table is done.
    expect(engine.progress().done).toContain('app.a');
    abort.abort();
    await engine.stopped();
  });

  it('emits the chunk as snapshot events when the lane could not write it', async () => {
    const reader = new Reader(rows(2));
    const loader = new Loader();
    loader.accept = false;
    const counted: Array<[string, number]> = [];
    const { engine, abort } = engineWith(reader, loader, counted);
    await waitFor(() => reader.requests.length === 1);
    const placed = await events(await engine.transform({ type: 'watermark', id: reader.requests[0]!.id }));
    expect(placed.map((i) => (i.type === 'event' ? [i.event.op, i.event.after?.['id']] : null))).toEqual([
      ['r', 1],
      ['r', 2],
    ]);
    expect(counted).toEqual([]);
    abort.abort();
    await engine.stopped();
  });

  it('reads repairs (rows asked for by key) through Kafka, not the lane', async () => {
    const reader = new Reader(rows(3));
    const loader = new Loader();
    const counted: Array<[string, number]> = [];
    const { engine, abort } = engineWith(reader, loader, counted, { chunkSize: 10, snapshot: false });
    engine.requestKeys('app.a', [[2]]);
    await waitFor(() => reader.requests.length === 1);
    expect(reader.requests[0]!.keys).toEqual([[2]]);
    const placed = await events(await engine.transform({ type: 'watermark', id: reader.requests[0]!.id }));
    expect(placed).toHaveLength(1);
    expect(loader.loads).toEqual([]);
    abort.abort();
    await engine.stopped();
  });
});

/** A target that records batches, or fails each apply with `fail`. */
class Target implements SinkConnector {
  readonly kind = 'postgres' as const;
  readonly batches: SinkBatch[] = [];
  readonly ensured: TableSchema[] = [];
  starts = 0;
  closes = 0;
  fail: Error | null = null;
  async start(): Promise<void> {
    this.starts++;
  }
  async ensureTable(schema: TableSchema): Promise<void> {
    this.ensured.push(schema);
  }
  async readOffsets() {
    return [];
  }
  async apply(batch: SinkBatch): Promise<void> {
    if (this.fail) throw this.fail;
    this.batches.push(batch);
  }
  async close(): Promise<void> {
    this.closes++;
  }
}

describe('DirectLane', () => {
  it('writes the rows as one batch without offsets, in the target namespace, with the renames seen so far', async () => {
    const target = new Target();
    const lane = new DirectLane({
      pipeline: 'p',
      group: 'g',
      sourceConnector: 'mysql',
      connector: () => target,
      targetNamespace: 'moved',
      logger: silentLogger,
    });
    const renamed: TableSchema = {
      ...A,
      version: 'v2',
      columns: [A.columns[0]!, { ...A.columns[1]!, name: 'w', renamedFrom: 'v' }],
    };
    lane.noteSchema(A);
    expect(await lane.load(renamed, [{ id: 1, w: 'x' }])).toBe(true);
    expect(target.starts).toBe(1);
    const schema = target.ensured[0]!;
    expect(schema).toMatchObject({ db: 'moved', table: 'a', origin: { db: 'app', table: 'a' }, sourceKind: 'mysql' });
    expect(schema.knownRenames?.columns).toEqual([{ table: { db: 'moved', table: 'a' }, from: 'v', to: 'w' }]);
    expect(target.batches).toHaveLength(1);
    expect(target.batches[0]!.offsets).toEqual([]);
    expect(target.batches[0]!.tables[0]).toMatchObject({ truncate: false, upserts: [{ id: 1, w: 'x' }], deletes: [] });
    await lane.close();
    expect(target.closes).toBe(1);
  });

  it('answers false when the target fails, reconnects later, and sends nothing meanwhile', async () => {
    const targets: Target[] = [];
    const lane = new DirectLane({
      pipeline: 'p',
      group: 'g',
      sourceConnector: 'postgresql',
      connector: () => {
        const t = new Target();
        if (targets.length === 0) t.fail = new Error('connection refused');
        targets.push(t);
        return t;
      },
      logger: silentLogger,
      pauseAfterFailureMs: 30,
    });
    expect(await lane.load(A, [{ id: 1, v: 'a' }])).toBe(false);
    expect(targets[0]!.closes).toBe(1);
    // Paused: not even a connection attempt.
    expect(await lane.load(A, [{ id: 2, v: 'b' }])).toBe(false);
    expect(targets).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 40));
    expect(await lane.load(A, [{ id: 3, v: 'c' }])).toBe(true);
    expect(targets).toHaveLength(2);
    expect(targets[1]!.batches[0]!.tables[0]!.upserts).toEqual([{ id: 3, v: 'c' }]);
  });
});
