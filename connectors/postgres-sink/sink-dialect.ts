/**
 * PostgresSinkDialect: what the PostgreSQL sink does its own way (the shared flow is
 * SqlSinkCore, src/sql-sink/core.ts). DDL runs in a transaction under an advisory lock;
 * ferry_offsets lives in the metadata schema; rows go as one text[] parameter per column,
 * expanded by unnest() and cast to the column's type, `maxRows` rows per statement; from
 * `copyThreshold` rows on, through COPY into a staging table instead (copy.ts).
 */
import type pg from 'pg';
import type { ColumnSchema, JsonValue, SinkContext, TableSchema } from '../../src/api/index.js';
import {
  type BarrierRow,
  type BoundColumn,
  type ColumnChange,
  type ColumnRename,
  type ColumnTypeComparison,
  type OffsetsTableRow,
  renameSteps,
  type SqlSession,
  type SqlSinkDialect,
  type TargetTable,
  type TopicPartition,
  type WantedType,
} from '../../src/sql-sink/index.js';
import { copyIntoStage, copyIntoTable, deleteFromStageStatement, upsertFromStageStatement } from './copy.js';
import {
  addColumnStatement,
  alterTypeStatement,
  createSchemaStatement,
  createTableStatement,
  deleteStatement,
  describeTableStatement,
  dropNotNullStatement,
  existsStatement,
  lockOffsetsStatement,
  type PgCastColumn,
  type PgStatement,
  primaryKeyStatement,
  readOffsetsStatement,
  renameColumnStatement,
  renameTableStatements,
  truncateStatement,
  upsertStatement,
  writeBarriersStatement,
  writeOffsetsStatement,
} from './sql.js';
import { compareTypes, parsePgType, pgColumnType } from './types.js';
import { type PgTargetColumn, toPgParam } from './values.js';

/** Advisory lock taken around DDL so that sink processes of one group never race on CREATE/ALTER. */
export const DDL_LOCK_KEY = 7_233_004_771;

/** A target column with the type its parameters are cast to (format_type(type, -1)). */
export type PgSinkColumn = PgTargetColumn & { castType: string };
type PgParam = string | null;

export interface PostgresSinkDialectOptions {
  session: SqlSession<pg.Client>;
  /** Schema of ferry_offsets. */
  metadataSchema: string;
  /** Most rows per INSERT/DELETE statement. */
  maxRows: number;
  /** Rows from which an upsert or delete goes through COPY and a staging table (copy.ts); 0 = never. */
  copyThreshold: number;
}

interface OffsetsResultRow {
  topic: string;
  partition: number;
  next_offset: string;
  truncate_barrier: string | null;
  leader_epoch: string | null;
}

export class PostgresSinkDialect implements SqlSinkDialect<pg.Client, PgSinkColumn, WantedType, PgParam> {
  private readonly o: PostgresSinkDialectOptions;
  readonly widenNote = 'the table may be rewritten';

  constructor(opts: PostgresSinkDialectOptions) {
    this.o = opts;
  }

  // ---- tables ----

  withDdlLock<T>(what: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
    return this.o.session.transaction(what, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [DDL_LOCK_KEY]);
      return fn(c);
    });
  }

  async describe(c: pg.Client, schema: TableSchema): Promise<TargetTable<PgSinkColumn> | null> {
    const res = await exec(c, describeTableStatement(schema.db, schema.table));
    if (res.rows.length === 0) return null;
    const columns = new Map<string, PgSinkColumn>();
    for (const r of res.rows as Array<{ name: string; type: string; cast_type: string; not_null: boolean }>) {
      const parsed = parsePgType(r.type);
      columns.set(r.name, {
        name: r.name,
        type: r.type,
        castType: r.cast_type,
        notNull: r.not_null,
        ...(parsed ? { parsed } : {}),
      });
    }
    const pk = await exec(c, primaryKeyStatement(schema.db, schema.table));
    return { columns, primaryKey: pk.rows.map((r: { name: string }) => r.name) };
  }

  async createTable(c: pg.Client, schema: TableSchema): Promise<void> {
    await exec(c, createSchemaStatement(schema.db));
    const columns = schema.columns.map((col) => {
      const type = pgColumnType(col, schema.sourceKind);
      const text = this.defaultText(col, type);
      return {
        name: col.name,
        type,
        notNull: !col.nullable || schema.primaryKey.includes(col.name),
        ...(text === null ? {} : { defaultText: text }),
      };
    });
    await exec(c, createTableStatement(schema.db, schema.table, columns, schema.primaryKey));
  }

  columnType(schema: TableSchema, column: ColumnSchema): WantedType {
    return { type: pgColumnType(column, schema.sourceKind) };
  }

  compareTypes(existing: PgSinkColumn, wanted: WantedType): ColumnTypeComparison {
    return { result: compareTypes(existing.type, wanted.type) };
  }

  async addColumn(c: pg.Client, schema: TableSchema, column: ColumnSchema, wanted: WantedType): Promise<void> {
    const text = this.defaultText(column, wanted.type);
    const notNull = text !== null && !column.nullable;
    await exec(c, addColumnStatement(schema.db, schema.table, { name: column.name, type: wanted.type, notNull }, text));
  }

  /** The text of a column's DEFAULT (docs/schema-changes.md), or null for none. */
  private defaultText(column: ColumnSchema, type: string): string | null {
    if (column.default === undefined || column.default === null) return null;
    const parsed = parsePgType(type);
    return toPgParam(column, column.default, {
      name: column.name,
      type,
      notNull: false,
      ...(parsed ? { parsed } : {}),
    });
  }

  /** One RENAME COLUMN at a time, in the DDL transaction (withDdlLock), so the set applies at once. */
  async renameColumns(
    c: pg.Client,
    schema: TableSchema,
    renames: ColumnRename[],
    existing: ReadonlySet<string>,
  ): Promise<void> {
    for (const r of renameSteps(renames, existing)) {
      await exec(c, renameColumnStatement(schema.db, schema.table, r.from, r.to));
    }
  }

  async renameTable(c: pg.Client, from: TableSchema, to: TableSchema): Promise<void> {
    await exec(c, createSchemaStatement(to.db));
    for (const st of renameTableStatements(
      { schema: from.db, table: from.table },
      { schema: to.db, table: to.table },
    )) {
      await exec(c, st);
    }
  }

  /** ALTER COLUMN … TYPE (keeps NOT NULL), then DROP NOT NULL when asked. */
  async alterColumn(
    c: pg.Client,
    schema: TableSchema,
    existing: PgSinkColumn,
    change: ColumnChange<WantedType>,
  ): Promise<string> {
    const to = change.widen?.wanted.type ?? existing.type;
    if (change.widen) await exec(c, alterTypeStatement(schema.db, schema.table, existing.name, to));
    if (change.dropNotNull) await exec(c, dropNotNullStatement(schema.db, schema.table, existing.name));
    return to;
  }

  // ---- ferry_offsets ----

  async readOffsets(c: pg.Client, ctx: SinkContext, topics: string[]): Promise<OffsetsTableRow[]> {
    return offsetRows(await exec(c, readOffsetsStatement(this.o.metadataSchema, ctx.pipeline, ctx.group, topics)));
  }

  async lockOffsets(c: pg.Client, ctx: SinkContext, partitions: TopicPartition[]): Promise<OffsetsTableRow[]> {
    return offsetRows(await exec(c, lockOffsetsStatement(this.o.metadataSchema, ctx.pipeline, ctx.group, partitions)));
  }

  async writeOffsets(c: pg.Client, ctx: SinkContext, rows: OffsetsTableRow[]): Promise<void> {
    await exec(c, writeOffsetsStatement(this.o.metadataSchema, ctx.pipeline, ctx.group, rows));
  }

  async writeBarriers(c: pg.Client, ctx: SinkContext, rows: BarrierRow[]): Promise<void> {
    await exec(c, writeBarriersStatement(this.o.metadataSchema, ctx.pipeline, ctx.group, rows));
  }

  // ---- rows ----

  param(column: ColumnSchema, value: JsonValue, target: PgSinkColumn): PgParam {
    return toPgParam(column, value, target);
  }

  /** lock_timeout for the rest of the transaction only (set_config(..., true) is SET LOCAL). */
  async limitLockWait(c: pg.Client, ms: number): Promise<void> {
    await c.query("SELECT set_config('lock_timeout', $1, true)", [`${Math.max(1, Math.round(ms))}ms`]);
  }

  async truncate(c: pg.Client, schema: TableSchema): Promise<void> {
    await exec(c, truncateStatement(schema.db, schema.table));
  }

  async deleteRows(
    c: pg.Client,
    schema: TableSchema,
    key: BoundColumn<PgSinkColumn>[],
    keys: PgParam[][],
  ): Promise<void> {
    const cols = castColumns(key);
    if (this.useCopy(keys.length)) {
      await copyIntoStage(c, cols.length, keys);
      await exec(c, deleteFromStageStatement(schema.db, schema.table, cols));
      return;
    }
    for (const chunk of chunks(keys, this.o.maxRows)) {
      await exec(c, deleteStatement(schema.db, schema.table, cols, columnMajor(chunk, cols.length)));
    }
  }

  async existingKeys(
    c: pg.Client,
    schema: TableSchema,
    key: BoundColumn<PgSinkColumn>[],
    keys: PgParam[][],
  ): Promise<boolean[]> {
    const cols = castColumns(key);
    const out: boolean[] = [];
    for (const k of keys)
      out.push(((await exec(c, existsStatement(schema.db, schema.table, cols, k))).rowCount ?? 0) > 0);
    return out;
  }

  async upsertRows(
    c: pg.Client,
    schema: TableSchema,
    columns: BoundColumn<PgSinkColumn>[],
    rows: PgParam[][],
    load = false,
  ): Promise<void> {
    const cols = castColumns(columns);
    if (load && this.useCopy(rows.length)) {
      const names = cols.map((col) => col.name);
      if (await copyIntoTable(c, schema.db, schema.table, names, rows)) return;
    }
    if (this.useCopy(rows.length)) {
      await copyIntoStage(c, cols.length, rows);
      await exec(c, upsertFromStageStatement(schema.db, schema.table, cols, schema.primaryKey));
      return;
    }
    for (const chunk of chunks(rows, this.o.maxRows)) {
      await exec(c, upsertStatement(schema.db, schema.table, cols, schema.primaryKey, columnMajor(chunk, cols.length)));
    }
  }

  private useCopy(rows: number): boolean {
    return this.o.copyThreshold > 0 && rows >= this.o.copyThreshold;
  }
}

function exec(c: pg.Client, s: PgStatement): Promise<pg.QueryResult> {
  return c.query({ text: s.text, values: s.values });
}

function offsetRows(res: pg.QueryResult): OffsetsTableRow[] {
  return (res.rows as OffsetsResultRow[]).map((r) => ({
    topic: r.topic,
    partition: r.partition,
    nextOffset: r.next_offset,
    truncateBarrier: r.truncate_barrier,
    leaderEpoch: r.leader_epoch === null || r.leader_epoch === undefined ? null : Number(r.leader_epoch),
  }));
}

function castColumns(columns: BoundColumn<PgSinkColumn>[]): PgCastColumn[] {
  return columns.map((b) => ({ name: b.column.name, castType: b.target.castType }));
}

/** Row-major parameters as one array per column (one text[] parameter each). */
function columnMajor(rows: PgParam[][], width: number): PgParam[][] {
  return Array.from({ length: width }, (_, i) => rows.map((row) => row[i]!));
}

function* chunks<T>(items: T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
