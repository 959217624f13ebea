import type { Row } from './event.js';
import type { JsonObject, JsonValue } from './json.js';

/**
 * A source position is opaque JSON to everything but its connector: MySQL keeps binlog file,
 * position and GTID set; PostgreSQL keeps an LSN. The runtime stores it, compares nothing, and
 * hands it back to the connector on restart.
 */
export type SourcePosition = JsonObject;

/** Progress of an initial snapshot, stored with the position so a crash mid-snapshot resumes. */
export interface SnapshotProgress {
  /** Tables (`db.table`) fully read and acknowledged by Kafka. */
  done: string[];
  /** The table being read and the last primary key whose row Kafka acknowledged. */
  current?: { table: string; lastKey: JsonValue[] };
  /**
   * Watermarked snapshots: every table still to read, in order, with the last key whose chunk
   * is in Kafka (null: from the start). Absent in offsets written before chunked snapshots:
   * then every captured table not in `done` is pending (`current` gives its resume key).
   */
  pending?: Array<{ table: string; lastKey: JsonValue[] | null; until?: JsonValue[]; keys?: JsonValue[][] }>;
  /**
   * The backfills after ADD COLUMN already queued (`db.table@version` of the version that needs
   * one): a restart queues those of `<pipeline>.__schemas` not listed here (docs/schema-changes.md).
   */
  backfilled?: string[];
}

/**
 * What the source offset store keeps per source. `position` is where streaming (re)starts:
 * during the snapshot it is the snapshot's own position, so changes made while the snapshot ran
 * are replayed over it after a crash and the target converges (docs/snapshots.md).
 */
export interface StoredSourceOffset {
  phase: 'snapshot' | 'stream';
  position: SourcePosition;
  snapshot?: SnapshotProgress;
  /** Captured tables (`db.table`) whose rows are in Kafka; a table outside it is snapshotted when it appears. */
  tables?: string[];
  /** Next offset of `<pipeline>.__signals` to read (snapshot requests). */
  signals?: string;
  /** ms since epoch when this offset was written. */
  writtenAt: number;
}

/** Per-partition position of a sink: the next Kafka offset to apply. */
export interface PartitionOffset {
  topic: string;
  partition: number;
  /** Next offset to consume (last applied + 1), as a decimal string (Kafka offsets are int64). */
  nextOffset: string;
  /**
   * Sinks only: a truncate barrier. A source publishes a TRUNCATE to every partition of the table's
   * topic; the sink applies the first copy it meets and marks every other partition of the topic
   * with the truncate's id, so that their events up to their own copy (all older than the
   * truncate) are skipped. null or absent: no barrier. Stored with the offset (docs/sinks.md).
   */
  truncateBarrier?: string | null;
  /**
   * Sinks only: the highest source leader epoch (`ferry-leader-epoch` header, docs/failover.md)
   * among the partition's records before `nextOffset`; a later record with a lower epoch is a
   * re-ordered copy from a former active source instance and is skipped. null or absent: no
   * record carried an epoch. Stored with the offset, in the same transaction.
   */
  leaderEpoch?: number | null;
}

export type { Row };
