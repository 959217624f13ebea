import type { JsonObject, JsonValue } from './json.js';

/**
 * Marker carried instead of a value when the source does not know a column's value because it
 * did not change (PostgreSQL TOASTed columns in an UPDATE). Sinks keep the target's current value.
 * It is the same marker Debezium uses, so topics stay readable by tools written for Debezium.
 */
export const UNCHANGED = '__debezium_unavailable_value';

/** A row image: column name → canonical value (docs/values.md), or UNCHANGED. */
export type Row = { [column: string]: JsonValue };

/** r = snapshot read, c = create, u = update, d = delete, t = truncate. */
export type Op = 'r' | 'c' | 'u' | 'd' | 't';

export interface TransactionInfo {
  id: string;
  /** 1-based position of this event in its transaction. */
  totalOrder: number;
  /** 1-based position of this event among the transaction's events for the same table. */
  dataCollectionOrder: number;
  /**
   * Where the transaction sits in the source's commit order, as a decimal integer: larger is
   * later, the same on every re-read of the log (PostgreSQL: the commit LSN; MySQL/MariaDB:
   * binlog file number × 2^32 + position of the transaction's group). Sinks in transaction mode
   * use it to recognise transactions they applied already (docs/transactions.md).
   */
  commitOrder?: string;
}

/**
 * One row change, as a source connector emits it and a sink connector receives it.
 * The Kafka form (Debezium envelope) is produced by src/event/envelope.ts.
 */
export interface ChangeEvent {
  op: Op;
  db: string;
  table: string;
  /** Primary-key columns and values; null only for truncate. */
  key: Row | null;
  before: Row | null;
  after: Row | null;
  /** Commit time at the source, ms since the epoch. */
  tsMs: number;
  /** Version of the table schema the row images follow (TableSchema.version). */
  schemaVersion: string;
  /** true / 'last' for snapshot reads, false otherwise. */
  snapshot: boolean | 'last';
  /**
   * Engine position fields for the envelope's `source` block.
   * MySQL: server_id, gtid, file, pos, row. PostgreSQL: schema, txId, lsn.
   */
  source: JsonObject;
  transaction?: TransactionInfo;
}
