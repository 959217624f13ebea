import type { Logger, SourceContext, SourcePosition, StoredSourceOffset, TableSchema } from '../../api/index.js';
import type { BoundedQueue } from '../../api/queue.js';
import { schemasTopic, signalsTopic } from '../../kafka/topics.js';
import type { DirectLoader } from './direct-lane.js';
import type { QueueItem } from './items.js';
import type { ResolvedSourceOptions } from './options.js';
import { SnapshotEngine } from './snapshot-engine.js';
import { pollSignals } from './snapshot-signals.js';
import type { SourceStatus } from './status.js';
import { isReconnectable } from './stream.js';
import type { SourceTransport } from './transport.js';

/** What the watermarked snapshot needs of the source runtime. */
export interface SnapshotHost {
  o: ResolvedSourceOptions;
  log: Logger;
  queue: BoundedQueue<QueueItem>;
  status: SourceStatus;
  transport: SourceTransport;
  /** The graceful stop. */
  stopSignal: AbortSignal;
  ctx(): SourceContext;
  currentPosition(): Promise<SourcePosition>;
  untilStopped<T>(p: Promise<T>): Promise<T>;
  /** A reader failed for good: the source stops (what is queued is still published). */
  fail(err: unknown): void;
  /** `source.snapshotTransport: direct`. */
  direct?: DirectLoader | undefined;
  streamFrom(from: SourcePosition, engine: SnapshotEngine): Promise<void>;
}

/**
 * Watermarked snapshots (docs/snapshots.md): the stream starts at once, from the stored position
 * or (a new pipeline) the current one, which is stored, with every table to snapshot, before any
 * chunk is read. Chunks are read beside the stream and placed in it; snapshot requests arrive
 * through `<pipeline>.__signals`.
 */
export async function streamWithSnapshots(
  h: SnapshotHost,
  tables: TableSchema[],
  stored: StoredSourceOffset | null,
  /** Captured names whose table is another one than before the stop (schema-history.ts reincarnatedTables). */
  reborn: readonly string[] = [],
): Promise<void> {
  const connector = h.o.connector;
  // The readers and the request poller end with the stop, or as soon as the stream ended (a
  // failure is recorded only after this method returns).
  const ended = new AbortController();
  const signal = AbortSignal.any([h.stopSignal, ended.signal]);
  const engine = new SnapshotEngine({
    connectorKind: connector.kind,
    openReader: () => connector.openChunkReader!(h.ctx()),
    chunkSize: h.o.chunkSize,
    chunkBytes: h.o.chunkBytes,
    parallelism: h.o.snapshotParallelism,
    logger: h.log,
    signal,
    reconnectMinMs: h.o.reconnectMinMs,
    reconnectMaxMs: h.o.reconnectMaxMs,
    isRetriable: isReconnectable,
    onTableStart: (table, estimated) => {
      h.status.setPhase('snapshot');
      h.status.tableStarted(table, estimated);
    },
    onTableDone: () => {
      if (!engine.active) h.status.setPhase('stream');
    },
    onFatal: (err) => h.fail(err),
    ...(h.direct
      ? { direct: h.direct, onDirectRows: (table: string, rows: number) => h.status.loadedDirectly(table, rows) }
      : {}),
  });
  engine.init(tables, stored, h.o.snapshot === 'initial', reborn);
  let from: SourcePosition;
  if (stored) {
    from = stored.position;
  } else {
    from = await h.currentPosition();
    if (h.stopSignal.aborted) return;
    // Stored before any chunk is read: a restart streams from here and resumes the chunks, so a
    // row deleted after a chunk was published always meets its delete.
    const first = engine.decorate({ phase: 'stream', position: from, writtenAt: Date.now() });
    await h.queue.put({ kind: 'offset', offset: first }, h.stopSignal);
    await h
      .untilStopped(
        new Promise<void>((done) => {
          h.queue.put({ kind: 'barrier', done }, h.stopSignal).catch(() => done());
        }),
      )
      .catch(() => undefined);
    if (h.stopSignal.aborted) return;
  }
  await seedSchemaHistory(h, engine, stored !== null);
  if (stored) {
    for (const r of connector.rowsToReadAtStart?.() ?? []) engine.requestKeys(r.table, r.keys);
  }
  h.status.setPhase(engine.active ? 'snapshot' : 'stream');
  engine.start();
  const polling = pollSignals({
    transport: h.transport,
    topic: signalsTopic(h.o.pipeline),
    engine,
    intervalMs: h.o.signalsIntervalMs,
    signal,
    logger: h.log,
  });
  try {
    await h.streamFrom(from, engine);
  } finally {
    ended.abort();
    await engine.stopped();
    await polling;
    await h.direct?.close();
  }
}

/**
 * Gives the engine the schema versions published so far, so that a column added back under the
 * name of a dropped one is backfilled even after a restart. Best effort: without the history, only
 * the versions this process sees count.
 */
async function seedSchemaHistory(h: SnapshotHost, engine: SnapshotEngine, resumed: boolean): Promise<void> {
  try {
    const records = await h.transport.readTopic(schemasTopic(h.o.pipeline));
    const schemas: TableSchema[] = [];
    for (const r of records) {
      if (r.value === null) continue;
      try {
        const s = JSON.parse(r.value) as Partial<TableSchema> | null;
        if (s && typeof s.db === 'string' && typeof s.table === 'string' && Array.isArray(s.columns))
          schemas.push(s as TableSchema);
      } catch {
        // not a table schema: nothing to learn from it
      }
    }
    engine.seedHistory(schemas, resumed);
  } catch (err) {
    h.log.warn(
      'could not read the schema history; a backfill after ADD COLUMN that a stop kept from being recorded is not queued: take `ferry snapshot --table` of tables altered while the source was stopped',
      {
        error: (err as Error).message,
      },
    );
  }
}
