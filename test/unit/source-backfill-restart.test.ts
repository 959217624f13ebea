import { describe, expect, it } from 'vitest';
import { captureAll, type TableSchema, withVersion } from '../../src/api/index.js';
import { backfillKey, missedBackfills } from '../../src/runtime/source/backfill-history.js';
import { SourceRuntime } from '../../src/runtime/source/runtime.js';
import { FakeKafka, silentLogger, table, waitFor } from './source-runtime.fakes.js';
import { FakeChunkConnector } from './source-runtime-chunks.fakes.js';

const A = table('a');
const W = { name: 'w', kind: 'string' as const, sourceType: 'varchar(10)', nullable: true };
/** `a` after ADD COLUMN w with an expression default (old rows hold a value the schema cannot state). */
const { version: _v, ...shape } = A;
const A2: TableSchema = withVersion({ ...shape, columns: [...A.columns, W] });

function runtime(kafka: FakeKafka, connector: FakeChunkConnector) {
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
  });
}

function fill(src: FakeChunkConnector, n: number): void {
  src.rows.set(
    'a',
    Array.from({ length: n }, (_, i) => ({ id: i + 1, v: `a${i + 1}` })),
  );
}

const readsOfA = (src: FakeChunkConnector) => src.chunkReads.filter((r) => r.table.table === 'a').length;
const backfilled = (rt: SourceRuntime) => rt.storedOffset()?.snapshot?.backfilled ?? [];

/** Runs a source until `until` holds and everything up to the end of the log is stored, then stops it. */
async function runUntil(kafka: FakeKafka, src: FakeChunkConnector, until: (rt: SourceRuntime) => boolean) {
  const rt = runtime(kafka, src);
  const running = rt.run();
  await waitFor(
    () =>
      until(rt) &&
      rt.storedOffset()?.phase === 'stream' &&
      (rt.storedOffset()?.position['i'] as number) >= src.log.length,
  );
  await rt.stop();
  await running;
  return rt;
}

/** A first run: the initial snapshot of `a` is read and stored. */
async function snapshotted(kafka: FakeKafka, src: FakeChunkConnector): Promise<void> {
  fill(src, 3);
  src.commit(); // a position to store after the snapshot
  await runUntil(kafka, src, (rt) => (rt.storedOffset()?.snapshot?.done ?? []).includes('app.a'));
}

describe('backfill after ADD COLUMN survives a restart', () => {
  it('MySQL: a restart from before the DDL, after its version was published but before the position after it was stored, still reads the table again', async () => {
    const kafka = new FakeKafka();
    const src = new FakeChunkConnector([A]);
    await snapshotted(kafka, src);
    const offsets = kafka.topics.get('p.__offsets')!.records;
    const beforeDdl = offsets.at(-1)!;

    // The DDL: the connector yields the new version with the columns whose old rows need a read.
    const ddlAt = src.log.length;
    src.tables[0] = A2;
    src.append({ type: 'schema', schema: A2, backfill: ['w'] });
    src.commit();
    await runUntil(kafka, src, (rt) => backfilled(rt).includes(backfillKey(A2)));
    const published = kafka.topics
      .get('p.__schemas')!
      .records.map((r) => JSON.parse(r.value!) as TableSchema)
      .find((s) => s.version === A2.version && s.backfill);
    expect(published?.backfill).toEqual(['w']);

    // The position after the DDL never made it to the offsets topic: the restart is from before it,
    // and the replayed DDL shows no added column any more (the table has it already).
    offsets.push({ ...beforeDdl, offset: String(offsets.length) });
    src.log[ddlAt] = { type: 'schema', schema: A2 };
    const reads = readsOfA(src);
    await runUntil(kafka, src, (rt) => readsOfA(src) > reads && backfilled(rt).includes(backfillKey(A2)));
    expect(readsOfA(src)).toBeGreaterThan(reads);

    // Recorded now: the next start reads nothing again.
    const settled = readsOfA(src);
    src.apply(A2, 'u', 1, 'x');
    await runUntil(kafka, src, () => true);
    expect(readsOfA(src)).toBe(settled);
  });

  it('PostgreSQL: a restart between the ALTER and the table next row change still reads the table again', async () => {
    const kafka = new FakeKafka();
    const src = new FakeChunkConnector([A]);
    await snapshotted(kafka, src);

    // ALTER TABLE a ADD COLUMN w ... DEFAULT <expression> while the source is stopped: no item in
    // the log (PostgreSQL learns it from the next row change), the catalog shows the column.
    src.tables[0] = { ...A2, unstatedDefaults: ['w'] };
    const reads = readsOfA(src);
    await runUntil(kafka, src, (rt) => readsOfA(src) > reads && backfilled(rt).includes(backfillKey(A2)));
    expect(readsOfA(src)).toBeGreaterThan(reads);

    const settled = readsOfA(src);
    src.apply(A2, 'u', 2, 'y');
    await runUntil(kafka, src, () => true);
    expect(readsOfA(src)).toBe(settled);
  });

  it('a restart after an ADD COLUMN whose old rows the schema states reads nothing again', async () => {
    const kafka = new FakeKafka();
    const src = new FakeChunkConnector([A]);
    await snapshotted(kafka, src);
    // A nullable column without a default: old rows hold NULL, the target derives it.
    src.tables[0] = A2;
    const reads = readsOfA(src);
    src.apply(A2, 'u', 1, 'x');
    await runUntil(kafka, src, () => true);
    expect(readsOfA(src)).toBe(reads);
  });
});

describe('missedBackfills', () => {
  const recorded = new Set<string>();
  it('queues a published backfill not recorded, once per version', () => {
    const flagged = { ...A2, backfill: ['w'] };
    expect(missedBackfills([A, flagged, A2], [A2], recorded)).toEqual([
      { table: 'app.a', key: backfillKey(A2), columns: ['w'] },
    ]);
    expect(missedBackfills([A, flagged], [A2], new Set([backfillKey(A2)]))).toEqual([]);
  });

  it('compares the table as it is now with the version published before it', () => {
    const now = { ...A2, unstatedDefaults: ['w'] };
    expect(missedBackfills([A], [now], recorded).map((b) => b.columns)).toEqual([['w']]);
    // Already published (by this start): the version before its first record counts.
    expect(missedBackfills([A, A2], [now], recorded).map((b) => b.columns)).toEqual([['w']]);
    // A column with a default the schema does not state, that the table always had: nothing.
    const always = { ...A, unstatedDefaults: ['v'] };
    expect(missedBackfills([A], [always], recorded)).toEqual([]);
    // A table new to the history: the snapshot reads it anyway.
    expect(missedBackfills([], [now], recorded)).toEqual([]);
  });

  it('a renamed column is not an added one', () => {
    const renamed = withVersion({
      ...shape,
      columns: [A.columns[0]!, { ...A.columns[1]!, name: 'w', renamedFrom: 'v' }],
    });
    expect(missedBackfills([A], [{ ...renamed, unstatedDefaults: ['w'] }], recorded)).toEqual([]);
  });

  it('a column under a new name with the id of a column of the version before was renamed unseen: read again', () => {
    const before = { ...A, columnIds: { id: 1, v: 2 } };
    const { version: _x, ...rest } = A;
    const after = withVersion({ ...rest, columns: [A.columns[0]!, { ...A.columns[1]!, name: 'w' }] });
    expect(
      missedBackfills([before], [{ ...after, columnIds: { id: 1, w: 2 } }], recorded).map((b) => b.columns),
    ).toEqual([['w']]);
    // A dropped column and an added one (a new attribute number): the added one holds NULL, nothing to read.
    expect(missedBackfills([before], [{ ...after, columnIds: { id: 1, w: 3 } }], recorded)).toEqual([]);
  });
});
