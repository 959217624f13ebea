import type { ChangeEvent, SourcePosition, StoredSourceOffset, TableSchema } from '../../api/index.js';
import type { TransactionRecord } from './transactions.js';

/**
 * What travels through the source runtime's queue, between the reading side (snapshot reader,
 * connector stream) and the publishing side. Engine-neutral.
 */
export type QueueItem =
  | { kind: 'event'; event: ChangeEvent }
  | { kind: 'schema'; schema: TableSchema }
  /**
   * A position to store once Kafka acknowledged every item before it. `acknowledge` is handed
   * to connector.acknowledge() after the offset was stored (stream checkpoints).
   */
  | { kind: 'offset'; offset: StoredSourceOffset; acknowledge?: SourcePosition }
  /** Resolved once everything before it is acknowledged and the latest position is stored. */
  | { kind: 'barrier'; done: () => void }
  /** A BEGIN or END record for `<pipeline>.__transactions` (transactions.ts). */
  | { kind: 'transaction'; record: TransactionRecord }
  /**
   * A snapshot chunk the direct lane is writing into the target (direct-lane.ts): nothing after it
   * is published before `until` settles. Its events (the chunk, when the lane could not write it
   * after all) go out in its place.
   */
  | { kind: 'gate'; until: Promise<ChangeEvent[]> };

/** Per-table snapshot progress, for metrics, progress bars and `ferry status`. */
export interface TableSnapshotProgress {
  /** `db.table` */
  table: string;
  /** Rows of this table acknowledged by Kafka in this process. */
  rowsDone: number;
  /** Estimated rows (from the source's statistics; may be off). */
  rowsEstimated: number;
  /** Whether the table is completely read and acknowledged. */
  done: boolean;
}

/** `standby`: a source.failover instance waiting for the active one to fail (docs/failover.md). */
export type SourcePhase = 'standby' | 'starting' | 'snapshot' | 'stream' | 'stopping' | 'stopped' | 'failed';

export interface SourceProgress {
  phase: SourcePhase;
  /** Connected to the source's log (ferry_source_connected). */
  connected: boolean;
  /** Per-table progress of the initial snapshot; empty when no snapshot ran in this process. */
  snapshot: TableSnapshotProgress[];
  /** The last stored position (connector.describePosition), null before the first one. */
  storedPosition: string | null;
  storedPhase: StoredSourceOffset['phase'] | null;
  /** When the last position was stored (ms since the epoch). */
  storedAt: number | null;
  /** Events acknowledged by Kafka in this process (tombstones not counted). */
  eventsPublished: number;
  queueDepth: number;
  /** Since when (ms since the epoch) the source has been retrying Kafka; absent while Kafka answers. */
  kafkaWaitingSince?: number;
}

/** Rough size of one row image in bytes (string lengths, 8 per number), cheap enough per event. */
function rowBytes(row: Readonly<Record<string, unknown>> | null): number {
  if (row === null) return 0;
  let n = 2;
  for (const k in row) {
    const v = row[k];
    n += k.length + 4;
    if (typeof v === 'string') n += v.length;
    else if (v !== null && typeof v === 'object') n += (v as { length?: number }).length ?? 64;
    else n += 8;
  }
  return n;
}

/** Approximate bytes of a queue item, for the queue's byte bound (source.queueBytes). */
export function queueItemBytes(item: QueueItem): number {
  if (item.kind !== 'event') return 256;
  const e = item.event;
  return 200 + rowBytes(e.before) + rowBytes(e.after);
}
