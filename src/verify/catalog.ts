/**
 * Reading each side's catalog: the columns of a table with their types (classified by
 * native-types.ts), its primary key, and the list of tables (to resolve config patterns).
 * Names travel as parameters; nothing is pasted into SQL.
 */
import type { TableId } from '../api/schema.js';
import type { VerifyDb } from './db.js';
import { mysqlKind, type NativeColumn, parseFormatType, postgresKind } from './native-types.js';

export interface TableShape {
  columns: NativeColumn[];
  primaryKey: string[];
}

const num = (v: unknown): number | undefined => (v === null || v === undefined || v === '' ? undefined : Number(v));
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

async function mysqlShape(db: VerifyDb, t: TableId): Promise<TableShape | null> {
  const rows = await db.query(
    `SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION,
            NUMERIC_SCALE, CHARACTER_SET_NAME, COLLATION_NAME
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
    [t.db, t.table],
  );
  if (rows.length === 0) return null;
  const columns = rows.map((r): NativeColumn => {
    const dataType = String(r[1]).toLowerCase();
    const columnType = String(r[2]);
    const col: NativeColumn = {
      name: String(r[0]),
      engine: 'mysql',
      dataType,
      columnType,
      nullable: r[3] === 'YES',
      ...mysqlKind(dataType, columnType),
      charset: str(r[7]),
      collation: str(r[8]),
    };
    const length = dataType === 'bit' ? num(r[5]) : num(r[4]);
    if (length !== undefined) col.length = length;
    if (col.kind === 'decimal') {
      const precision = num(r[5]);
      const scale = num(r[6]);
      if (precision !== undefined) col.precision = precision;
      if (scale !== undefined) col.scale = scale;
    }
    return col;
  });
  const key = await db.query(
    `SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
      WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION`,
    [t.db, t.table],
  );
  return { columns, primaryKey: key.map((r) => String(r[0])) };
}

const BYTE_ORDER_COLLATIONS = new Set(['c', 'posix', 'c.utf8', 'c.utf-8', 'ucs_basic']);

/** True when a PostgreSQL collation orders text by bytes (= code points in UTF-8). */
export function isByteOrderCollation(name: string | null | undefined): boolean {
  return name !== null && name !== undefined && BYTE_ORDER_COLLATIONS.has(name.toLowerCase());
}

/** Domains are read as their base type (the sinks store their values as such). */
async function postgresShape(db: VerifyDb, t: TableId): Promise<TableShape | null> {
  const rows = await db.query(
    `SELECT a.attname,
            CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) ELSE format_type(a.atttypid, a.atttypmod) END,
            CASE WHEN t.typtype = 'd' THEN bt.typtype ELSE t.typtype END, NOT a.attnotnull,
            CASE WHEN co.collname = 'default' THEN (SELECT datcollate FROM pg_database WHERE datname = current_database())
                 ELSE co.collname END,
            format_type(et.oid, NULL), et.typtype
       FROM pg_attribute a
       JOIN pg_class c ON c.oid = a.attrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_type t ON t.oid = a.atttypid
       LEFT JOIN pg_type bt ON bt.oid = t.typbasetype
       LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
       LEFT JOIN pg_collation co ON co.oid = a.attcollation
      WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [t.db, t.table],
  );
  if (rows.length === 0) return null;
  const columns = rows.map((r): NativeColumn => {
    const columnType = String(r[1]);
    const parsed = parseFormatType(columnType);
    const isEnum = r[2] === 'e';
    const col: NativeColumn = {
      name: String(r[0]),
      engine: 'postgres',
      dataType: parsed.array ? `${parsed.base}[]` : parsed.base,
      columnType,
      nullable: r[3] === true || r[3] === 't',
      kind: parsed.array ? 'array' : postgresKind(parsed.base, isEnum),
      collation: str(r[4]),
    };
    if (isEnum) col.pgEnum = true;
    if (parsed.array) {
      const element = parseFormatType(String(r[5] ?? 'text'));
      col.elementKind = postgresKind(element.base, r[6] === 'e');
    }
    if (parsed.base === 'character' || parsed.base === 'bpchar') col.padded = true;
    if (parsed.base === 'json') col.jsonFlavor = 'text';
    if (parsed.base === 'jsonb') col.jsonFlavor = 'jsonb';
    if (parsed.base === 'numeric' && parsed.args.length > 0) {
      col.precision = parsed.args[0]!;
      col.scale = parsed.args[1] ?? 0;
    } else if (parsed.args.length > 0 && /^(bit|character)/.test(parsed.base)) {
      col.length = parsed.args[0]!;
    }
    return col;
  });
  const key = await db.query(
    `SELECT a.attname
       FROM pg_index i
       JOIN pg_class c ON c.oid = i.indrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
      WHERE n.nspname = $1 AND c.relname = $2 AND i.indisprimary
      ORDER BY array_position(i.indkey::int2[], a.attnum)`,
    [t.db, t.table],
  );
  return { columns, primaryKey: key.map((r) => String(r[0])) };
}

/** Columns and primary key of a table; null when the table does not exist. */
export function readTableShape(db: VerifyDb, table: TableId): Promise<TableShape | null> {
  return db.kind === 'mysql' ? mysqlShape(db, table) : postgresShape(db, table);
}

const MYSQL_SYSTEM = ['mysql', 'information_schema', 'performance_schema', 'sys'];

/** Every base table of the server (MySQL) or database (PostgreSQL), system schemas left out. */
export async function listTables(db: VerifyDb): Promise<TableId[]> {
  const rows =
    db.kind === 'mysql'
      ? await db.query(
          `SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES
            WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN (?, ?, ?, ?) ORDER BY 1, 2`,
          MYSQL_SYSTEM,
        )
      : await db.query(
          `SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
              AND n.nspname NOT IN ('pg_catalog', 'information_schema')
              AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
            ORDER BY 1, 2`,
        );
  return rows.map((r) => ({ db: String(r[0]), table: String(r[1]) }));
}
