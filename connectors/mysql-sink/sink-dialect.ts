/**
 * MySqlSinkDialect: what the MySQL/MariaDB sink does its own way (the shared flow is
 * SqlSinkCore, src/sql-sink/core.ts). DDL runs under GET_LOCK (MySQL DDL commits implicitly, so
 * no transaction holds the lock); ferry_offsets lives in the metadata database; rows go in
 * multi-row prepared statements cut to stay under the row, placeholder and byte budgets, of a
 * few bucketed row counts (buckets.ts).
 */
import type mysql from 'mysql2/promise';
import type { ColumnSchema, JsonValue, SinkContext, TableSchema } from '../../src/api/index.js';
import type {
  BarrierRow,
  BoundColumn,
  ColumnChange,
  ColumnRename,
  ColumnTypeComparison,
  OffsetsTableRow,
  SqlSession,
  SqlSinkDialect,
  TargetTable,
  TopicPartition,
} from '../../src/sql-sink/index.js';
import { padToBucket } from './buckets.js';
import {
  addColumnStatement,
  createDatabaseStatement,
  createTableStatement,
  deleteStatement,
  describeTableStatement,
  existsStatement,
  lockOffsetsStatement,
  MAX_PLACEHOLDERS,
  type MySqlStatement,
  modifyColumnStatement,
  primaryKeyStatement,
  readOffsetsStatement,
  renameColumnsStatement,
  renameTableStatement,
  truncateStatement,
  upsertStatement,
  writeBarriersStatement,
  writeOffsetsStatement,
} from './sql.js';
import {
  compareMysqlTypes,
  ddlOf,
  type MySqlColumnType,
  type MySqlTypeOptions,
  mysqlColumnType,
  normalizeMysqlType,
} from './types.js';
import { type MySqlParam, type MySqlTargetColumn, toMySqlParam } from './values.js';

type Conn = mysql.Connection;

export interface MySqlSinkDialectOptions {
  session: SqlSession<Conn>;
  /** Database holding ferry_offsets. */
  metadataDb: string;
  /** Most rows per INSERT/DELETE statement. */
  maxRows: number;
  /** Approximate byte budget of one statement's parameters. */
  maxBytes: number;
  /** Fill statements up to a few row counts (buckets.ts); false: every piece as it is. */
  buckets: boolean;
}

interface OffsetsResultRow {
  topic: string;
  partition: number;
  next_offset: string;
  truncate_barrier: string | null;
  leader_epoch: string | null;
}

export class MySqlSinkDialect implements SqlSinkDialect<Conn, MySqlTargetColumn, MySqlColumnType, MySqlParam> {
  private readonly o: MySqlSinkDialectOptions;
  /** Set from the server version whenever a connection opens. */
  typeOpts: MySqlTypeOptions = { binCollation: 'utf8mb4_bin', mariadb: false };
  /**
   * The server's max_allowed_packet, set whenever a connection opens: statements are cut to half
   * of it (the byte count below is approximate), so only a row that alone is too large fails.
   */
  maxPacket = Number.POSITIVE_INFINITY;

  constructor(opts: MySqlSinkDialectOptions) {
    this.o = opts;
  }

  // ---- tables ----

  withDdlLock<T>(what: string, fn: (c: Conn) => Promise<T>): Promise<T> {
    return this.o.session.run(what, async (c) => {
      await c.query('SELECT GET_LOCK(?, 60)', ['ferry_ddl']);
      try {
        return await fn(c);
      } finally {
        await c.query('SELECT RELEASE_LOCK(?)', ['ferry_ddl']).catch(() => undefined);
      }
    });
  }

  async describe(c: Conn, schema: TableSchema): Promise<TargetTable<MySqlTargetColumn> | null> {
    const d = describeTableStatement(schema.db, schema.table);
    const [rows] = await c.execute(d.sql, d.params);
    const list = rows as Array<{ name: string; type: string; nullable: string; has_default: number | string }>;
    if (list.length === 0) return null;
    const columns = new Map<string, MySqlTargetColumn>();
    for (const r of list) {
      const notNull = r.nullable === 'NO';
      columns.set(r.name, {
        name: r.name,
        type: normalizeMysqlType(String(r.type)),
        notNull,
        ...(notNull && Number(r.has_default) === 1 ? { hasDefault: true } : {}),
      });
    }
    const p = primaryKeyStatement(schema.db, schema.table);
    const [pkRows] = await c.execute(p.sql, p.params);
    return { columns, primaryKey: (pkRows as Array<{ name: string }>).map((r) => r.name) };
  }

  async createTable(c: Conn, schema: TableSchema): Promise<void> {
    await c.query(createDatabaseStatement(schema.db).sql);
    const pk = new Set(schema.primaryKey);
    const columns = schema.columns.map((col) => {
      const ddl = this.columnType(schema, col).ddl;
      const def = this.defaultParam(col, ddl);
      return {
        name: col.name,
        ddl,
        notNull: !col.nullable || pk.has(col.name),
        ...(def === null ? {} : { default: def }),
      };
    });
    await c.query(createTableStatement(schema.db, schema.table, columns, schema.primaryKey).sql);
  }

  columnType(schema: TableSchema, column: ColumnSchema): MySqlColumnType {
    return mysqlColumnType(column, schema.sourceKind, schema.primaryKey.includes(column.name), this.typeOpts);
  }

  compareTypes(existing: MySqlTargetColumn, wanted: MySqlColumnType): ColumnTypeComparison {
    return compareMysqlTypes(existing.type, wanted.type);
  }

  async addColumn(c: Conn, schema: TableSchema, column: ColumnSchema, wanted: MySqlColumnType): Promise<void> {
    const value = this.defaultParam(column, wanted.ddl);
    const notNull = value !== null && !column.nullable;
    const st = addColumnStatement(schema.db, schema.table, { name: column.name, ddl: wanted.ddl, notNull }, value);
    try {
      await c.query(st.sql);
    } catch (err) {
      if ((err as { errno?: number }).errno !== 1060) throw err; // added concurrently
    }
  }

  /** The parameter of a column's DEFAULT (docs/schema-changes.md), or null for none. */
  private defaultParam(column: ColumnSchema, ddl: string): MySqlParam {
    if (column.default === undefined || column.default === null) return null;
    return toMySqlParam(column, column.default, { name: column.name, type: normalizeMysqlType(ddl), notNull: false });
  }

  /** One ALTER TABLE with every RENAME COLUMN: MariaDB and MySQL apply them at once (a swap too). */
  async renameColumns(c: Conn, schema: TableSchema, renames: ColumnRename[]): Promise<void> {
    await c.query(renameColumnsStatement(schema.db, schema.table, renames).sql);
  }

  async renameTable(c: Conn, from: TableSchema, to: TableSchema): Promise<void> {
    await c.query(createDatabaseStatement(to.db).sql);
    await c.query(renameTableStatement(from, to).sql);
  }

  /** One MODIFY COLUMN: the widened (or the existing) type, NOT NULL kept unless dropped. */
  async alterColumn(
    c: Conn,
    schema: TableSchema,
    existing: MySqlTargetColumn,
    change: ColumnChange<MySqlColumnType>,
  ): Promise<string> {
    const { widen } = change;
    const ddl = widen
      ? widen.widenTo
        ? ddlOf(widen.widenTo, this.typeOpts)
        : widen.wanted.ddl
      : ddlOf(existing.type, this.typeOpts);
    const notNull = existing.notNull && !change.dropNotNull;
    await c.query(modifyColumnStatement(schema.db, schema.table, { name: existing.name, ddl, notNull }).sql);
    return ddl;
  }

  // ---- ferry_offsets ----

  async readOffsets(c: Conn, ctx: SinkContext, topics: string[]): Promise<OffsetsTableRow[]> {
    const s = readOffsetsStatement(this.o.metadataDb, ctx.pipeline, ctx.group, topics);
    return offsetRows(await c.execute(s.sql, s.params));
  }

  async lockOffsets(c: Conn, ctx: SinkContext, partitions: TopicPartition[]): Promise<OffsetsTableRow[]> {
    const s = lockOffsetsStatement(this.o.metadataDb, ctx.pipeline, ctx.group, partitions);
    return offsetRows(await c.execute(s.sql, s.params));
  }

  async writeOffsets(c: Conn, ctx: SinkContext, rows: OffsetsTableRow[]): Promise<void> {
    await exec(c, writeOffsetsStatement(this.o.metadataDb, ctx.pipeline, ctx.group, rows));
  }

  async writeBarriers(c: Conn, ctx: SinkContext, rows: BarrierRow[]): Promise<void> {
    await exec(c, writeBarriersStatement(this.o.metadataDb, ctx.pipeline, ctx.group, rows));
  }

  // ---- rows ----

  param(column: ColumnSchema, value: JsonValue, target: MySqlTargetColumn): MySqlParam {
    return toMySqlParam(column, value, target);
  }

  /**
   * innodb_lock_wait_timeout (whole seconds, at least 1) of the connection; it applies to the
   * statements that follow, and only parallel apply's own connections set it.
   */
  async limitLockWait(c: Conn, ms: number): Promise<void> {
    await c.query('SET SESSION innodb_lock_wait_timeout = ?', [Math.max(1, Math.ceil(ms / 1000))]);
  }

  /** DELETE, not TRUNCATE TABLE: that would commit the batch's transaction. */
  async truncate(c: Conn, schema: TableSchema): Promise<void> {
    await exec(c, truncateStatement(schema.db, schema.table));
  }

  async deleteRows(
    c: Conn,
    schema: TableSchema,
    key: BoundColumn<MySqlTargetColumn>[],
    keys: MySqlParam[][],
  ): Promise<void> {
    const names = key.map((b) => b.column.name);
    for (const chunk of this.chunks(keys, names.length)) {
      await exec(c, deleteStatement(schema.db, schema.table, names, chunk));
    }
  }

  async existingKeys(
    c: Conn,
    schema: TableSchema,
    key: BoundColumn<MySqlTargetColumn>[],
    keys: MySqlParam[][],
  ): Promise<boolean[]> {
    const names = key.map((b) => b.column.name);
    const out: boolean[] = [];
    for (const k of keys) {
      const s = existsStatement(schema.db, schema.table, names, k);
      const [rows] = await c.execute(s.sql, s.params);
      out.push((rows as unknown[]).length > 0);
    }
    return out;
  }

  async upsertRows(
    c: Conn,
    schema: TableSchema,
    columns: BoundColumn<MySqlTargetColumn>[],
    rows: MySqlParam[][],
  ): Promise<void> {
    const names = columns.map((b) => b.column.name);
    for (const chunk of this.chunks(rows, names.length)) {
      await exec(c, upsertStatement(schema.db, schema.table, names, schema.primaryKey, chunk));
    }
  }

  /**
   * Splits rows so that one statement stays under the row, placeholder and byte budgets, and
   * fills each piece up to its bucket size (buckets.ts) so that few distinct statements exist.
   */
  private *chunks(rows: MySqlParam[][], width: number): Generator<MySqlParam[][]> {
    const maxRows = Math.max(1, Math.min(this.o.maxRows, Math.floor(MAX_PLACEHOLDERS / Math.max(1, width))));
    const maxBytes = Math.min(this.o.maxBytes, this.maxPacket / 2);
    // A piece is padded only while it stays within the same byte budget.
    const pad = (piece: MySqlParam[][], bytes: number, last: number) =>
      this.o.buckets ? padToBucket(piece, maxRows, bytes, last, maxBytes) : piece;
    let chunk: MySqlParam[][] = [];
    let bytes = 0;
    let last = 0;
    for (const row of rows) {
      const size = row.reduce<number>((n, v) => n + (v === null ? 1 : typeof v === 'number' ? 8 : v.length), 0);
      if (chunk.length > 0 && (chunk.length >= maxRows || bytes + size > maxBytes)) {
        yield pad(chunk, bytes, last);
        chunk = [];
        bytes = 0;
      }
      chunk.push(row);
      bytes += size;
      last = size;
    }
    if (chunk.length > 0) yield pad(chunk, bytes, last);
  }
}

async function exec(c: Conn, s: MySqlStatement): Promise<void> {
  await c.execute(s.sql, s.params);
}

function offsetRows([rows]: [unknown, unknown]): OffsetsTableRow[] {
  return (rows as OffsetsResultRow[]).map((r) => ({
    topic: r.topic,
    partition: Number(r.partition),
    nextOffset: String(r.next_offset),
    truncateBarrier: r.truncate_barrier,
    leaderEpoch: r.leader_epoch === null || r.leader_epoch === undefined ? null : Number(r.leader_epoch),
  }));
}
