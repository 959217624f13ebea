/**
 * Reads whole tables from PostgreSQL or MySQL/MariaDB as canonical rows (src/api/values
 * encoders, driven by the SOURCE table schema) and compares source with target row by row.
 * Used by the sink integration and fault tests, and to turn source rows into event images.
 */
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { qualify as myQualify, quoteIdent as myQuote } from '../../connectors/mysql-sink/dialect.js';
import { qualify as pgQualify, quoteIdent as pgQuote } from '../../connectors/postgres-sink/dialect.js';
import {
  type ColumnSchema,
  encodeValue,
  isZeroDate,
  type JsonValue,
  parsePgArray,
  type Row,
  type TableSchema,
} from '../../src/api/index.js';

export type Engine = 'mysql' | 'postgresql';

/**
 * A connection to read from. MySQL connections must be made with MYSQL_READ_OPTIONS (exact
 * strings for dates, DECIMAL and BIGINT) and a '+00:00' session time zone; PostgreSQL ones read
 * everything as text (PG_TEXT_TYPES is applied per query).
 */
export type DbConn = { engine: 'mysql'; conn: mysql.Connection } | { engine: 'postgresql'; conn: pg.Client };

export const MYSQL_READ_OPTIONS = {
  dateStrings: true,
  supportBigNumbers: true,
  bigNumberStrings: true,
  decimalNumbers: false,
  timezone: 'Z',
  charset: 'utf8mb4_unicode_ci',
} as const;

export interface CanonicalOptions {
  /** MySQL zero dates become null (what a PostgreSQL target stores). */
  zeroDateAsNull?: boolean;
}

/** pg: every value as the server's text. */
export const PG_TEXT_TYPES = { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig;

function stableJson(text: string): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v as Record<string, unknown>)
          .sort()
          .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  try {
    return JSON.stringify(sort(JSON.parse(text)));
  } catch {
    return text;
  }
}

/** One driver value of a column -> canonical value. */
export function canonicalValue(
  engine: Engine,
  col: ColumnSchema,
  raw: unknown,
  opts: CanonicalOptions = {},
): JsonValue {
  if (raw === null || raw === undefined) return null;
  let value: unknown = raw;
  if (engine === 'postgresql' && typeof raw === 'string') {
    if (col.kind === 'set' && raw.startsWith('{')) value = parsePgArray(raw);
  }
  if (engine === 'mysql' && col.kind === 'array' && typeof raw === 'string') return JSON.parse(raw) as JsonValue;
  if (engine === 'mysql' && col.kind === 'set' && typeof raw === 'string' && raw.startsWith('['))
    value = JSON.parse(raw);
  const out = encodeValue(col, value, { sourceTimeZoneOffsetMinutes: 0 });
  if (col.kind === 'json' && typeof out === 'string') return stableJson(out);
  if (
    opts.zeroDateAsNull &&
    typeof out === 'string' &&
    ['date', 'timestamp', 'timestamptz'].includes(col.kind) &&
    isZeroDate(out)
  ) {
    return null;
  }
  return out;
}

export function canonicalRow(
  engine: Engine,
  schema: TableSchema,
  raw: Record<string, unknown>,
  opts: CanonicalOptions = {},
): Row {
  const row: Row = {};
  for (const col of schema.columns) {
    if (!Object.hasOwn(raw, col.name)) continue;
    row[col.name] = canonicalValue(engine, col, raw[col.name], opts);
  }
  return row;
}

export function keyOf(schema: TableSchema, row: Row): string {
  return JSON.stringify(schema.primaryKey.map((k) => row[k] ?? null));
}

async function selectAll(
  db: DbConn,
  namespace: string,
  table: string,
  where?: { schema: TableSchema; key: Row },
): Promise<Array<Record<string, unknown>>> {
  if (db.engine === 'postgresql') {
    let text = `SELECT * FROM ${pgQualify(namespace, table)}`;
    const values: unknown[] = [];
    if (where) {
      text += ` WHERE ${where.schema.primaryKey.map((k, i) => `${pgQuote(k)}::text = $${i + 1}`).join(' AND ')}`;
      for (const k of where.schema.primaryKey) values.push(String(where.key[k]));
    }
    const res = await db.conn.query({ text, values, types: PG_TEXT_TYPES });
    return res.rows as Array<Record<string, unknown>>;
  }
  let sql = `SELECT * FROM ${myQualify(namespace, table)}`;
  const params: unknown[] = [];
  if (where) {
    sql += ` WHERE ${where.schema.primaryKey.map((k) => `${myQuote(k)} = ?`).join(' AND ')}`;
    for (const k of where.schema.primaryKey) params.push(where.key[k]);
  }
  const [rows] = await db.conn.query(sql, params);
  return rows as Array<Record<string, unknown>>;
}

/** All rows of a table, canonical, by key. */
export async function readTable(
  db: DbConn,
  namespace: string,
  table: string,
  schema: TableSchema,
  opts: CanonicalOptions = {},
): Promise<Map<string, Row>> {
  const rows = await selectAll(db, namespace, table);
  const out = new Map<string, Row>();
  for (const raw of rows) {
    const row = canonicalRow(db.engine, schema, raw, opts);
    out.set(keyOf(schema, row), row);
  }
  return out;
}

/** One row by key (key values as the driver takes them), canonical; null when absent. */
export async function readRow(
  db: DbConn,
  namespace: string,
  table: string,
  schema: TableSchema,
  key: Row,
): Promise<Row | null> {
  const rows = await selectAll(db, namespace, table, { schema, key });
  return rows[0] ? canonicalRow(db.engine, schema, rows[0]) : null;
}

export interface TableDiff {
  equal: boolean;
  sourceRows: number;
  targetRows: number;
  missing: string[];
  extra: string[];
  different: Array<{ key: string; column: string; source: JsonValue; target: JsonValue }>;
}

/** Compares source and target canonically (columns of the source schema only). */
export async function compareTables(args: {
  schema: TableSchema;
  source: DbConn;
  sourceNamespace: string;
  target: DbConn;
  targetNamespace: string;
  targetTable?: string;
  zeroDateAsNull?: boolean;
}): Promise<TableDiff> {
  const opts = { zeroDateAsNull: args.zeroDateAsNull ?? false };
  const src = await readTable(args.source, args.sourceNamespace, args.schema.table, args.schema, opts);
  const dst = await readTable(
    args.target,
    args.targetNamespace,
    args.targetTable ?? args.schema.table,
    args.schema,
    opts,
  );
  const diff: TableDiff = {
    equal: true,
    sourceRows: src.size,
    targetRows: dst.size,
    missing: [],
    extra: [],
    different: [],
  };
  for (const [key, row] of src) {
    const other = dst.get(key);
    if (!other) {
      diff.missing.push(key);
      continue;
    }
    for (const col of args.schema.columns) {
      const a = JSON.stringify(row[col.name] ?? null);
      const b = JSON.stringify(other[col.name] ?? null);
      if (a !== b)
        diff.different.push({ key, column: col.name, source: row[col.name] ?? null, target: other[col.name] ?? null });
    }
  }
  for (const key of dst.keys()) if (!src.has(key)) diff.extra.push(key);
  diff.equal = diff.missing.length === 0 && diff.extra.length === 0 && diff.different.length === 0;
  return diff;
}
