import type { Connection, RowDataPacket } from 'mysql2/promise';
import {
  type ColumnSchema,
  configuredKeyColumns,
  isColumnExcluded,
  isTableCaptured,
  literalDatabases,
  type TableFilter,
  type TableSchema,
  withVersion,
} from '../../src/api/index.js';
import { mysqlDefault } from './defaults.js';
import { type InfoColumn, mapMysqlColumn } from './types.js';

/** A captured table that cannot be captured as it is, with the fix. */
export interface TableProblem {
  table: string;
  reason: string;
  fix: string;
}

/** A captured table: its schema (excluded columns left out) and every column as the server has it. */
export interface CapturedTable {
  schema: TableSchema;
  info: InfoColumn[];
}

export interface SchemaRead {
  tables: CapturedTable[];
  problems: TableProblem[];
}

const SYSTEM_DBS = ['mysql', 'information_schema', 'performance_schema', 'sys'];

/**
 * Builds the TableSchema of one table from its information_schema columns (pure). Excluded
 * columns are left out (key columns never are); the key is the primary key, or the configured
 * key columns for a table without one.
 */
export function buildTableSchema(
  db: string,
  table: string,
  columns: InfoColumn[],
  primaryKey: string[],
  filter: TableFilter,
  uniqueIndexes: string[][] = [],
): { ok: true; schema: TableSchema } | { ok: false; problem: TableProblem } {
  const name = `${db}.${table}`;
  const configured = configuredKeyColumns(filter, { db, table });
  const notNull = (cols: string[]) => cols.every((k) => columns.some((c) => c.name === k && !c.nullable));
  const fallback = uniqueIndexes.find(notNull);
  const key = primaryKey.length > 0 ? primaryKey : (configured ?? fallback ?? []);
  const where = `${quoteId(db)}.${quoteId(table)}`;
  if (key.length === 0) {
    return {
      ok: false,
      problem: {
        table: name,
        reason: `${name} has no primary key and no unique index on NOT NULL columns`,
        fix: `add one (ALTER TABLE ${where} ADD PRIMARY KEY (...)), or make columns NOT NULL and UNIQUE and name them in source.keyColumns["${name}"], or exclude the table (source.exclude)`,
      },
    };
  }
  const missing = key.filter((k) => !columns.some((c) => c.name === k));
  if (missing.length > 0) {
    return {
      ok: false,
      problem: {
        table: name,
        reason: `key column(s) ${missing.join(', ')} of ${name} do not exist`,
        fix: `fix source.keyColumns["${name}"]`,
      },
    };
  }
  if (primaryKey.length === 0 && configured) {
    // Chunks and keys need values that are never NULL and never repeat: a NULL never compares
    // greater than a resume key (the rest of the table would be skipped), and two rows with one
    // key would collapse into one at the target.
    const nullable = configured.filter((k) => columns.some((c) => c.name === k && c.nullable));
    if (nullable.length > 0) {
      return {
        ok: false,
        problem: {
          table: name,
          reason: `source.keyColumns["${name}"] names nullable column(s) ${nullable.join(', ')}`,
          fix: `make them NOT NULL (ALTER TABLE ${where} MODIFY ... NOT NULL) or name other columns`,
        },
      };
    }
    if (!uniqueIndexes.some((cols) => cols.every((c) => configured.includes(c)))) {
      return {
        ok: false,
        problem: {
          table: name,
          reason: `source.keyColumns["${name}"] (${configured.join(', ')}) is not covered by a unique index, so two rows may share a key`,
          fix: `ALTER TABLE ${where} ADD UNIQUE (${configured.map(quoteId).join(', ')}), or name columns that have one`,
        },
      };
    }
  }
  const out: ColumnSchema[] = [];
  for (const c of columns) {
    if (!key.includes(c.name) && isColumnExcluded(filter, { db, table }, c.name)) continue;
    const mapped = mapMysqlColumn(c);
    if (!mapped.ok) {
      return {
        ok: false,
        problem: {
          table: name,
          reason: `column ${c.name} of ${name}: ${mapped.reason}`,
          fix: `exclude it with source.excludeColumns: ["${name}.${c.name}"]`,
        },
      };
    }
    const def = c.generated ? undefined : mysqlDefault(mapped.column, c.default);
    out.push(def === undefined ? mapped.column : { ...mapped.column, default: def });
  }
  return { ok: true, schema: withVersion({ db, table, columns: out, primaryKey: key }) };
}

export function quoteId(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

type Rows = RowDataPacket[];

/**
 * Reads the schemas of the captured tables (or of `only` among them) from information_schema.
 * Views and system databases are never captured.
 */
export async function readSchemas(conn: Connection, filter: TableFilter, only?: Set<string>): Promise<SchemaRead> {
  const dbs = literalDatabases(filter);
  const dbClause = dbs ? `AND TABLE_SCHEMA IN (${dbs.map(() => '?').join(',') || "''"})` : '';
  const params = dbs ?? [];
  const notSystem = `TABLE_SCHEMA NOT IN (${SYSTEM_DBS.map((d) => `'${d}'`).join(',')})`;
  const [tableRows] = await conn.query<Rows>(
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t FROM information_schema.TABLES
      WHERE TABLE_TYPE = 'BASE TABLE' AND ${notSystem} ${dbClause} ORDER BY TABLE_SCHEMA, TABLE_NAME`,
    params,
  );
  const captured = tableRows
    .map((r) => ({ db: String(r['db']), table: String(r['t']) }))
    .filter((t) => isTableCaptured(filter, t) && (!only || only.has(`${t.db}.${t.table}`)));
  if (captured.length === 0) return { tables: [], problems: [] };
  const wanted = new Set(captured.map((t) => `${t.db}.${t.table}`));
  const capturedDbs = [...new Set(captured.map((t) => t.db))];
  const inDbs = `TABLE_SCHEMA IN (${capturedDbs.map(() => '?').join(',')})`;

  const [colRows] = await conn.query<Rows>(
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t, COLUMN_NAME AS name, DATA_TYPE AS dataType,
            COLUMN_TYPE AS columnType, IS_NULLABLE AS nullable, CHARACTER_MAXIMUM_LENGTH AS charLen,
            NUMERIC_PRECISION AS nprec, NUMERIC_SCALE AS nscale, DATETIME_PRECISION AS dprec, EXTRA AS extra,
            COLUMN_DEFAULT AS def
       FROM information_schema.COLUMNS WHERE ${inDbs} ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`,
    capturedDbs,
  );
  const [indexRows] = await conn.query<Rows>(
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t, INDEX_NAME AS idx, COLUMN_NAME AS name, SUB_PART AS part
       FROM information_schema.STATISTICS
      WHERE ${inDbs} AND NON_UNIQUE = 0 ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX`,
    capturedDbs,
  );
  const jsonCols = await readJsonChecks(conn, capturedDbs);

  const columns = new Map<string, InfoColumn[]>();
  for (const r of colRows) {
    const t = `${r['db']}.${r['t']}`;
    if (!wanted.has(t)) continue;
    const name = String(r['name']);
    const list = columns.get(t) ?? [];
    list.push({
      name,
      dataType: String(r['dataType']),
      columnType: String(r['columnType']),
      nullable: r['nullable'] === 'YES',
      charMaxLength: num(r['charLen']),
      numericPrecision: num(r['nprec']),
      numericScale: num(r['nscale']),
      datetimePrecision: num(r['dprec']),
      generated: /GENERATED/i.test(String(r['extra'] ?? '')),
      json: jsonCols.has(`${t}.${name}`),
      default: r['def'] === null || r['def'] === undefined ? null : String(r['def']),
    });
    columns.set(t, list);
  }
  const pks = new Map<string, string[]>();
  const uniques = new Map<string, Map<string, string[]>>();
  for (const r of indexRows) {
    const t = `${r['db']}.${r['t']}`;
    const idx = String(r['idx']);
    if (idx === 'PRIMARY') {
      pks.set(t, [...(pks.get(t) ?? []), String(r['name'])]);
      continue;
    }
    const byName = uniques.get(t) ?? new Map<string, string[]>();
    // A prefix index (SUB_PART) is not unique on the whole column: a '' marks it unusable.
    byName.set(idx, [...(byName.get(idx) ?? []), r['part'] === null ? String(r['name']) : '']);
    uniques.set(t, byName);
  }
  const out: SchemaRead = { tables: [], problems: [] };
  for (const { db, table } of captured) {
    const name = `${db}.${table}`;
    const info = columns.get(name) ?? [];
    const unique = [...(uniques.get(name)?.values() ?? [])].filter((cols) => !cols.includes(''));
    const built = buildTableSchema(db, table, info, pks.get(name) ?? [], filter, unique);
    if (built.ok) out.tables.push({ schema: built.schema, info });
    else out.problems.push(built.problem);
  }
  return out;
}

/** MariaDB JSON columns: LONGTEXT with a `json_valid(col)` check constraint. */
async function readJsonChecks(conn: Connection, dbs: string[]): Promise<Set<string>> {
  const out = new Set<string>();
  try {
    const [rows] = await conn.query<Rows>(
      `SELECT CONSTRAINT_SCHEMA AS db, TABLE_NAME AS t, CHECK_CLAUSE AS clause FROM information_schema.CHECK_CONSTRAINTS
        WHERE CONSTRAINT_SCHEMA IN (${dbs.map(() => '?').join(',')})`,
      dbs,
    );
    for (const r of rows) {
      const m = /^json_valid\(`((?:[^`]|``)+)`\)$/i.exec(String(r['clause']).trim());
      if (m) out.add(`${r['db']}.${r['t']}.${m[1]!.replace(/``/g, '`')}`);
    }
  } catch {
    // MySQL's CHECK_CONSTRAINTS has no TABLE_NAME; MySQL has a real JSON type anyway.
  }
  return out;
}

function num(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}
