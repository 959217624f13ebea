import type {
  ChangeEvent,
  JsonObject,
  JsonValue,
  Logger,
  Row,
  SnapshotProgress,
  SnapshotSession,
  SourcePosition,
  TableSchema,
} from '../../api/index.js';
import { FerryError, tableName } from '../../api/index.js';
import type { BoundedQueue } from '../../api/queue.js';
import { abortable } from '../retry.js';
import type { QueueItem } from './items.js';
import { keyOf, snapshotEvent } from './snapshot-chunk.js';

export interface SnapshotRunOptions {
  session: SnapshotSession;
  connectorKind: string;
  /**
   * Where streaming starts after the snapshot: the position of the FIRST view. When resuming a
   * snapshot after a crash, the session is a new view but this stays the original position, so
   * every change made since the first view is replayed over the rows read (docs/snapshots.md).
   */
  streamFrom: SourcePosition;
  /** Progress stored by an interrupted run, if any. */
  resume?: SnapshotProgress;
  chunkSize: number;
  queue: BoundedQueue<QueueItem>;
  logger: Logger;
  /**
   * Aborted once the runtime is stopping: the reader returns 'interrupted' at the next chunk
   * boundary, or when it waits for room in the queue. A query still running is not waited for:
   * the reader then rejects with the signal's reason (its rows are read again on the next start).
   */
  signal: AbortSignal;
  onTableStart(table: string, estimatedRows: number): void;
}

/** True when the whole snapshot was read (false: interrupted by a stop). */
export type SnapshotOutcome = 'complete' | 'interrupted';

/**
 * Reads every table of a snapshot view in primary-key order, `chunkSize` rows at a time (keyset
 * pagination, so memory stays flat and a chunk never depends on an offset), and queues them as
 * op `r` events. After each chunk it queues the progress to store once Kafka acknowledged the
 * chunk: `{phase: 'snapshot', position: streamFrom, snapshot: {done, current: {table, lastKey}}}`.
 * The very last row of the snapshot is marked `snapshot: 'last'`; to know which row that is, the
 * last row of each finished table is held back until a later row (or the end) is seen. At the end
 * it queues `{phase: 'stream', position: streamFrom}`.
 */
export async function readSnapshot(opts: SnapshotRunOptions): Promise<SnapshotOutcome> {
  try {
    return await read(opts);
  } catch (err) {
    // Waiting for room in the queue when the stop came: stopped at a clean point.
    if (err === QUEUE_STOPPED) return 'interrupted';
    throw err;
  }
}

const QUEUE_STOPPED = Symbol('stopped while queueing');

async function read(opts: SnapshotRunOptions): Promise<SnapshotOutcome> {
  const { session, chunkSize, signal } = opts;
  const queue = {
    put: (item: QueueItem) =>
      opts.queue.put(item, signal).catch((err: unknown) => {
        throw signal.aborted ? QUEUE_STOPPED : err;
      }),
  };
  const stopping = () => signal.aborted;
  const done = new Set(opts.resume?.done ?? []);
  const startedAt = Date.now();
  const source: JsonObject = { connector: opts.connectorKind, ...(session.source ?? {}) };
  let held: { event: ChangeEvent; table: string; final: boolean } | null = null;

  const push = async (event: ChangeEvent): Promise<void> => {
    await queue.put({ kind: 'event', event });
  };
  const releaseHeld = async (last: boolean): Promise<void> => {
    if (!held) return;
    await push({ ...held.event, snapshot: last ? 'last' : true });
    if (held.final) done.add(held.table);
    held = null;
  };
  const progress = async (current?: SnapshotProgress['current']): Promise<void> => {
    const snapshot: SnapshotProgress = { done: [...done] };
    if (current) snapshot.current = current;
    await queue.put({
      kind: 'offset',
      offset: { phase: 'snapshot', position: opts.streamFrom, snapshot, writtenAt: Date.now() },
    });
  };

  for (const schema of session.tables) await queue.put({ kind: 'schema', schema });

  for (const schema of session.tables) {
    const name = tableName(schema);
    if (done.has(name)) continue;
    if (stopping()) return 'interrupted';
    const estimated = await abortable(session.estimateRows(schema), [signal]).catch(() => {
      if (stopping()) throw signal.reason;
      return 0;
    });
    opts.onTableStart(name, estimated);
    let after: JsonValue[] | null = opts.resume?.current?.table === name ? opts.resume.current.lastKey : null;
    if (after) opts.logger.info('resuming the snapshot of a table', { table: name, afterKey: after });
    else opts.logger.info('snapshotting a table', { table: name, estimatedRows: estimated });
    let tableRows = 0;
    for (;;) {
      const rows = await abortable(session.readChunk(schema, after, chunkSize + 1), [signal]);
      const more = rows.length > chunkSize;
      if (more) rows.length = chunkSize;
      for (const row of rows) {
        const event = snapshotEvent(schema, row, keyOf(schema, row), source, startedAt);
        await releaseHeld(false);
        held = { event, table: name, final: false };
        tableRows++;
      }
      const lastRow = rows.at(-1);
      if (lastRow) after = keyValues(schema, lastRow);
      if (!more) break;
      // More rows follow, so the held row is not the last one: publish it and record progress.
      await releaseHeld(false);
      await progress({ table: name, lastKey: after! });
      if (stopping()) return 'interrupted';
    }
    if (held?.table === name) held.final = true;
    else done.add(name);
    opts.logger.info('snapshot of a table read', { table: name, rows: tableRows });
  }
  await releaseHeld(true);
  await queue.put({ kind: 'offset', offset: { phase: 'stream', position: opts.streamFrom, writtenAt: Date.now() } });
  return 'complete';
}

function keyValues(schema: TableSchema, row: Row): JsonValue[] {
  return schema.primaryKey.map((col) => {
    const v = row[col];
    if (v === undefined) {
      throw new FerryError(
        'FERRY_INTERNAL',
        `snapshot row of ${tableName(schema)} lacks its key column ${col}; the connector must return key columns`,
      );
    }
    return v;
  });
}
