import type { ErrorCode } from './errors.js';
import type { ChangeEvent, Row } from './event.js';
import type { JsonObject, JsonValue } from './json.js';
import type { PartitionOffset, SourcePosition, StoredSourceOffset } from './position.js';
import type { TableId, TableSchema } from './schema.js';

/** Structured logger handed to connectors. Never pass secrets in fields. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

/** One preflight check: what was checked, whether it holds, and how to fix it when it does not. */
export interface CheckResult {
  name: string;
  ok: boolean;
  /** What was found, e.g. `binlog_format is STATEMENT`. */
  detail?: string;
  /** What the user should do, e.g. `SET GLOBAL binlog_format = 'ROW'`. */
  fix?: string;
}

/** Table filters from the config: `db.table` glob patterns, plus excluded columns (`db.table.column`). */
export interface TableFilter {
  include: string[];
  exclude: string[];
  excludeColumns: string[];
  /** Key columns for tables without a primary key: `db.table` → columns. */
  keyColumns: Record<string, string[]>;
}

/** An open consistent view of the source for the initial snapshot. */
export interface SnapshotSession {
  /** The log position exactly matching this view; streaming starts here. */
  readonly position: SourcePosition;
  readonly tables: TableSchema[];
  /**
   * Engine position fields for the `source` block of snapshot events (MySQL: server_id, file,
   * pos, gtid; PostgreSQL: lsn). Optional; the runtime adds `connector` itself.
   */
  readonly source?: JsonObject;
  /** Estimated rows of a table (for progress; need not be exact). */
  estimateRows(table: TableId): Promise<number>;
  /**
   * Reads up to `limit` rows in primary-key order with key greater than `afterKey`
   * (null: from the start). Values are canonical (docs/values.md).
   */
  readChunk(table: TableSchema, afterKey: JsonValue[] | null, limit: number): Promise<Row[]>;
  close(): Promise<void>;
}

/**
 * What a source stream yields, in log order.
 * - `event`: a row change.
 * - `schema`: a table's schema changed (DDL); events after it use the new version. `backfill`
 *   names columns this change added whose values in the rows that existed before it the schema
 *   cannot state (an expression default, MySQL's implicit value of a NOT NULL column, a
 *   generated column): the runtime reads the table again (docs/schema-changes.md).
 * - `checkpoint`: a transaction boundary (or heartbeat). Once Kafka acknowledged every event
 *   before it, the runtime stores this position and calls `acknowledge` with it.
 */
export type SourceItem =
  | { type: 'event'; event: ChangeEvent }
  | { type: 'schema'; schema: TableSchema; backfill?: string[] }
  | { type: 'checkpoint'; position: SourcePosition; commitTsMs?: number }
  /**
   * The high watermark of snapshot chunk `id` (ChunkReader.readChunk): every change committed
   * before the chunk's view was read has been yielded before this item. Yielded at a transaction
   * boundary.
   */
  | { type: 'watermark'; id: string };

/** One chunk to read: up to `limit` rows of `table` in key order with key greater than `afterKey`. */
export interface ChunkRequest {
  /** Unique id; the stream yields `{type: 'watermark', id}` once it passed the chunk's view. */
  id: string;
  table: TableSchema;
  afterKey: JsonValue[] | null;
  limit: number;
  /** Instead of a key range: exactly the rows with these keys (values of the key columns, in order). */
  keys?: JsonValue[][];
  /** End of the key range, inclusive (from keyBounds; single-column keys only). */
  until?: JsonValue[];
}

export interface ChunkResult {
  /** Rows in key order, canonical values (docs/values.md), with the columns of `table`. */
  rows: Row[];
  /**
   * Transactions that were still running when the view was taken (PostgreSQL: the snapshot's
   * xip list), as the `source.txId` their events carry. Rows those transactions touched are
   * taken from the stream instead of the chunk.
   */
  runningTx?: string[];
}

/**
 * Reads snapshot chunks in short, separate views (no transaction or lock outlives one chunk
 * query), each placed in the stream by a watermark (docs/snapshots.md). Several readers may run
 * at once.
 */
export interface ChunkReader {
  /** Estimated rows of a table (for progress; need not be exact). */
  estimateRows(table: TableId): Promise<number>;
  /**
   * Reads one chunk in a view of its own, then makes the stream yield the chunk's watermark once
   * the stream has passed that view. Throws retriable FerryErrors on connection trouble.
   */
  readChunk(request: ChunkRequest): Promise<ChunkResult>;
  /**
   * Up to `parts - 1` keys that cut the table into `parts` ranges of about equal size, ascending,
   * so that several readers read one table at once; empty when the connector cannot tell (only a
   * single integer key column is cut).
   */
  keyBounds?(table: TableSchema, parts: number): Promise<JsonValue[][]>;
  /**
   * The highest key of a table right now, or null when it is empty or the connector cannot tell
   * (only a single integer key column). A table's snapshot reads up to this key only: rows inserted
   * with higher keys afterwards reach the target through the stream, so a writer appending at the
   * end of the key range cannot keep the snapshot from finishing.
   */
  maxKey?(table: TableSchema): Promise<JsonValue[] | null>;
  /** Gives up a chunk whose watermark is no longer awaited (a failed or abandoned read). */
  forget?(id: string): void;
  close(): Promise<void>;
}

export interface SourceContext {
  pipeline: string;
  logger: Logger;
  filter: TableFilter;
  signal: AbortSignal;
  /**
   * Reports something the user must hear about without stopping (logged as a warning and counted
   * in ferry_errors_total{component="source",code}). Optional: without it, connectors log only.
   */
  warn?(code: ErrorCode, message: string, fields?: Record<string, unknown>): void;
  /**
   * The table schemas published so far (`<pipeline>.__schemas`, in topic order), read at start;
   * absent when it could not be read. Connectors learn from it what a log position before their
   * start decided (e.g. which table a name held, docs/schema-changes.md).
   */
  schemaHistory?: readonly TableSchema[];
}

/**
 * A source connector knows one database engine. It does not know Kafka: the source runtime
 * (src/runtime) drives it, publishes what it yields and stores positions after Kafka acks.
 */
export interface SourceConnector {
  /** `mysql` or `postgresql`, as written in the envelope's source.connector. */
  readonly kind: 'mysql' | 'postgresql';
  /**
   * Checks everything needed before anything is published (settings, privileges, keys).
   * `stored` is the offset to resume from, if any, so the connector can check it still exists.
   */
  preflight(ctx: SourceContext, stored: StoredSourceOffset | null): Promise<CheckResult[]>;
  /** Captured tables and their current schemas. */
  discover(ctx: SourceContext): Promise<TableSchema[]>;
  /**
   * Rows to read again once the source resumes a stored position, known after discover(): each
   * table's rows with these keys (canonical values, key order) are read and placed like a repair.
   * PostgreSQL: one row of a table whose columns were renamed while the source was stopped, so the
   * renamed version reaches the target without waiting for the table's next change.
   */
  rowsToReadAtStart?(): Array<{ table: string; keys: JsonValue[][] }>;
  /** Opens a consistent view with its exact log position (MariaDB consistent snapshot, PG exported snapshot). */
  openSnapshot(ctx: SourceContext): Promise<SnapshotSession>;
  /**
   * Opens a reader of watermarked snapshot chunks. A connector with a chunk reader takes every
   * snapshot (initial and on demand) while it streams; one without is snapshotted from one view.
   */
  openChunkReader?(ctx: SourceContext): Promise<ChunkReader>;
  /**
   * Streams changes from `from` (exclusive of what was already checkpointed there) until
   * `ctx.signal` aborts or the connection fails (throws; the runtime reconnects with backoff
   * by calling stream() again from the last stored position).
   */
  stream(ctx: SourceContext, from: SourcePosition): AsyncIterable<SourceItem>;
  /** Kafka holds every event up to this checkpoint (e.g. PostgreSQL advances the slot here). */
  acknowledge?(position: SourcePosition): Promise<void>;
  /** Human-readable position, for logs and status: `binlog.000003:1234`, `0/16B3748`. */
  describePosition(position: SourcePosition): string;
  close(): Promise<void>;
}

/** Changes for one table in one sink batch, already reduced per key. */
export interface TableChanges {
  schema: TableSchema;
  /** Empty the table before applying the rest (a TRUNCATE came last before these rows). */
  truncate: boolean;
  /** Full or partial row images to insert-or-update; partial rows carry UNCHANGED for some columns. */
  upserts: Row[];
  /** Primary keys of rows to delete. */
  deletes: Row[];
  /**
   * The upserts are a snapshot chunk of the direct lane (full rows, distinct keys, most of them
   * not in the target yet): a sink may load them with a plain bulk insert and fall back to its
   * upsert when a key exists.
   */
  load?: boolean;
  /**
   * Every change of the table in the batch, in log order, before reduction (truncates included);
   * set on the table's first TableChanges only. For sinks that also keep a change log (Redis streams).
   */
  changes?: TableChange[];
}

/** One change of a table as it came, unreduced. */
export interface TableChange {
  op: 'r' | 'c' | 'u' | 'd' | 't';
  before: Row | null;
  after: Row | null;
  /** Commit time at the source, ms (0 when unknown). */
  tsMs: number;
}

/** One unit of work for a sink: applied, with its offsets, in ONE target transaction. */
export interface SinkBatch {
  tables: TableChanges[];
  /** Next offsets (and truncate barriers, written as given: null clears) of the partitions the batch consumed. */
  offsets: PartitionOffset[];
  /**
   * Truncate barriers to set on other partitions of a truncated table's topic (only the barrier
   * is written; a partition without a stored offset gets next offset "0", i.e. from the start).
   */
  barriers?: Array<{ topic: string; partition: number; truncateBarrier: string }>;
  /**
   * Optimistic fence: what the runtime believes is stored for `offsets`' partitions (nextOffset
   * null: no row). If the stored state differs (another sink process of the group applied them
   * meanwhile, or an earlier commit's outcome was unknown), apply() changes nothing and throws a
   * FerryError FERRY_APPLY with `retriable: true` and `details.fenced === true`.
   */
  expected?: Array<{ topic: string; partition: number; nextOffset: string | null; truncateBarrier: string | null }>;
  /**
   * Asks the source to read these rows again (a repair, docs/snapshots.md#repair): an update
   * carried UNCHANGED columns for rows the target does not hold, whose values only the source
   * has. The sink writes nothing for such rows; the re-read rows follow in the topic. Resolves
   * once the request is in Kafka (called inside the batch's transaction, before it commits).
   */
  repair?(schema: TableSchema, keys: Row[]): Promise<void>;
  /**
   * Parallel apply (transaction mode, docs/transactions.md#parallel-apply), only given to a
   * connector with `parallelApply`: apply() writes the rows, then awaits this inside the open
   * transaction, and only then checks the fence, writes the offsets and commits. A rejection
   * rolls the transaction back and apply() throws. Such batches may be applied concurrently, each
   * on its own connection of the target, with a short lock wait (`lockWaitMs`).
   */
  beforeCommit?(): Promise<void>;
  /** With `beforeCommit`: the longest a statement of the batch may wait for a row lock, ms. */
  lockWaitMs?: number;
}

export interface SinkContext {
  pipeline: string;
  /** Consumer group; offsets in the target are kept per group. */
  group: string;
  logger: Logger;
}

/** A sink connector knows one target engine. The sink runtime drives it. */
export interface SinkConnector {
  readonly kind: 'postgres' | 'mysql' | 'redis';
  /** true: batches carry every change unreduced too (TableChanges.changes). */
  readonly keepsChanges?: boolean;
  /**
   * true: apply() honours SinkBatch.beforeCommit and may be called again before an earlier call
   * returned (each batch on its own connection). Without it, transaction mode applies serially.
   */
  readonly parallelApply?: boolean;
  /** Connects and creates the offsets table if needed; auth/privilege problems throw non-retriable FerryErrors. */
  start(ctx: SinkContext): Promise<void>;
  /** Creates the target table when missing, or evolves it to the given schema (add column at least). */
  ensureTable(schema: TableSchema): Promise<void>;
  /** Stored next offsets for the group's partitions of these topics. */
  readOffsets(topics: string[]): Promise<PartitionOffset[]>;
  /** Extra checks for `ferry validate` once started (e.g. persistence of a Redis target). */
  checks?(): Promise<CheckResult[]>;
  /** Applies the batch and stores its offsets in one transaction. */
  apply(batch: SinkBatch): Promise<void>;
  close(): Promise<void>;
}
