/**
 * What a SQL sink does its own way per engine (docs/sinks.md): the SqlSinkCore (core.ts)
 * runs the flow that is the same for every target (the table cache, creating and evolving
 * tables, the order of a batch's statements, the fence) and asks the dialect for the rest.
 * Every name a dialect writes into SQL is quoted by it; every value is a parameter.
 */
import type { SinkContext } from '../api/connector.js';
import type { JsonValue } from '../api/json.js';
import type { ColumnSchema, TableSchema } from '../api/schema.js';
import type { ColumnRename } from './column-renames.js';
import type { BarrierRow, BoundColumn, OffsetsTableRow, TopicPartition } from './rows.js';

/** A column of a target table, as the catalog describes it. */
export interface TargetColumn {
  name: string;
  /** The engine's spelling of the type, comparable with WantedType.type. */
  type: string;
  notNull: boolean;
  /**
   * NOT NULL with a DEFAULT (set by dialects whose way to drop NOT NULL also drops the default):
   * rows inserted without the column get the default, so NOT NULL need not be dropped.
   */
  hasDefault?: boolean;
}

export interface TargetTable<Col extends TargetColumn = TargetColumn> {
  columns: Map<string, Col>;
  primaryKey: string[];
}

/** The target type the type mapping wants for a source column (docs/type-mapping.md). */
export interface WantedType {
  type: string;
}

/**
 * An existing target column against the wanted type: `same`; `keep` when it holds every wanted
 * value already; `widen` when the wanted type holds every existing value and more (`widenTo`:
 * the dialect's own wider type, when not simply the wanted one); `conflict` otherwise.
 */
export interface ColumnTypeComparison {
  result: 'same' | 'keep' | 'widen' | 'conflict';
  widenTo?: string;
}

/** What to change in an existing target column: widen its type, drop its NOT NULL, or both. */
export interface ColumnChange<W extends WantedType> {
  widen?: { wanted: W; widenTo?: string };
  dropNotNull: boolean;
}

export interface SqlSinkDialect<C, Col extends TargetColumn, W extends WantedType, P> {
  // ---- tables ----
  /** Runs `fn` holding the lock that keeps the sink processes of a group from racing on DDL. */
  withDdlLock<T>(what: string, fn: (c: C) => Promise<T>): Promise<T>;
  /** The target table of a schema, or null when it does not exist. */
  describe(c: C, schema: TableSchema): Promise<TargetTable<Col> | null>;
  /** Creates the table (and its database/schema) with the mapped types, nullability and key. */
  createTable(c: C, schema: TableSchema): Promise<void>;
  columnType(schema: TableSchema, column: ColumnSchema): W;
  compareTypes(existing: Col, wanted: W): ColumnTypeComparison;
  /**
   * Adds a column (a column added concurrently by another process is fine). With a
   * `column.default`, the column gets that DEFAULT, so the rows already there hold it (and NOT
   * NULL when the source column is NOT NULL); without one it is NULL-able.
   */
  addColumn(c: C, schema: TableSchema, column: ColumnSchema, wanted: W): Promise<void>;
  /**
   * RENAME COLUMN `from` TO `to` for every rename, all at once (names may be exchanged or passed
   * on: column-renames.ts), data kept; `existing`: the table's column names now.
   */
  renameColumns(c: C, schema: TableSchema, renames: ColumnRename[], existing: ReadonlySet<string>): Promise<void>;
  /** Renames the table `from` (db, table of the same target) to `to`'s name, data kept. */
  renameTable(c: C, from: TableSchema, to: TableSchema): Promise<void>;
  /** Changes a column; returns the type it was widened to (for the log). */
  alterColumn(c: C, schema: TableSchema, existing: Col, change: ColumnChange<W>): Promise<string>;
  /** Said in the log when a column is widened (e.g. that the table may be rewritten). */
  readonly widenNote?: string;

  // ---- ferry_offsets (of ctx.pipeline and ctx.group) ----
  readOffsets(c: C, ctx: SinkContext, topics: string[]): Promise<OffsetsTableRow[]>;
  /** Reads the rows of these partitions, locking them until the transaction ends (the fence). */
  lockOffsets(c: C, ctx: SinkContext, partitions: TopicPartition[]): Promise<OffsetsTableRow[]>;
  writeOffsets(c: C, ctx: SinkContext, rows: OffsetsTableRow[]): Promise<void>;
  /** Sets barriers without touching next offsets (a new row gets next offset 0). */
  writeBarriers(c: C, ctx: SinkContext, rows: BarrierRow[]): Promise<void>;

  // ---- rows (inside the batch's transaction) ----
  /**
   * Limits how long the statements of the open transaction wait for a row lock (parallel apply:
   * a wait the runtime cannot see turns into an error instead of a deadlock). Without it, parallel
   * apply relies on the engine's own lock wait timeout.
   */
  limitLockWait?(c: C, ms: number): Promise<void>;
  /** A canonical value as the driver's parameter for the target column; null is SQL NULL. */
  param(column: ColumnSchema, value: JsonValue, target: Col): P;
  /** Empties the table inside the transaction. */
  truncate(c: C, schema: TableSchema): Promise<void>;
  /** Deletes rows by key (`keys`: one parameter per key column, row by row). */
  deleteRows(c: C, schema: TableSchema, key: BoundColumn<Col>[], keys: P[][]): Promise<void>;
  /** For each key (one parameter per key column), whether the target holds a row with it. */
  existingKeys(c: C, schema: TableSchema, key: BoundColumn<Col>[], keys: P[][]): Promise<boolean[]>;
  /**
   * Inserts or updates rows carrying exactly `columns` (`rows`: row by row). `load`: the rows are
   * a snapshot load whose keys are mostly not in the table yet (TableChanges.load); a dialect may
   * try a plain bulk insert first, as long as the outcome is the upsert's.
   */
  upsertRows(c: C, schema: TableSchema, columns: BoundColumn<Col>[], rows: P[][], load?: boolean): Promise<void>;
}
