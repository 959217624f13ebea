/**
 * SQL builders for the PostgreSQL sink. Pure: they return statement text and parameters. Names
 * are quoted by the dialect; values are always parameters: a text[] per column, expanded by
 * unnest() and cast to the target column's type, so one statement carries any number of rows
 * (the 65,535-parameter limit never applies).
 */
import { qualify, quoteIdent, quoteList, quoteLiteral } from './dialect.js';

export interface PgStatement {
  text: string;
  values: unknown[];
}

/** A column of a DML statement: its name and the type its text parameter is cast to. */
export interface PgCastColumn {
  name: string;
  /** format_type(type, -1) from the catalog: the type without modifiers (no silent truncation by the cast). */
  castType: string;
}

const alias = (i: number): string => `c${i + 1}`;

function unnestFrom(count: number, first = 1): string {
  const args = Array.from({ length: count }, (_, i) => `$${first + i}::text[]`).join(', ');
  const names = Array.from({ length: count }, (_, i) => alias(i)).join(', ');
  return `unnest(${args}) AS u(${names})`;
}

/**
 * Multi-row upsert: INSERT … SELECT … FROM unnest($1::text[], …) ON CONFLICT (key) DO UPDATE
 * SET c = EXCLUDED.c for the non-key columns given (DO NOTHING when there are none).
 * `columnValues[i]` holds the texts of column i for every row (column-major).
 */
export function upsertStatement(
  schema: string,
  table: string,
  columns: PgCastColumn[],
  key: string[],
  columnValues: Array<Array<string | null>>,
): PgStatement {
  const select = columns.map((c, i) => `u.${alias(i)}::${c.castType}`).join(', ');
  const keySet = new Set(key);
  const updates = columns
    .filter((c) => !keySet.has(c.name))
    .map((c) => `${quoteIdent(c.name)} = EXCLUDED.${quoteIdent(c.name)}`);
  const conflict = updates.length > 0 ? `DO UPDATE SET ${updates.join(', ')}` : 'DO NOTHING';
  const text =
    `INSERT INTO ${qualify(schema, table)} (${quoteList(columns.map((c) => c.name))}) ` +
    `SELECT ${select} FROM ${unnestFrom(columns.length)} ON CONFLICT (${quoteList(key)}) ${conflict}`;
  return { text, values: columnValues };
}

/** Batched delete by key: DELETE … USING unnest($1::text[], …) WHERE t.k = u.c1::type AND …. */
export function deleteStatement(
  schema: string,
  table: string,
  keyColumns: PgCastColumn[],
  columnValues: Array<Array<string | null>>,
): PgStatement {
  const where = keyColumns.map((c, i) => `t.${quoteIdent(c.name)} = u.${alias(i)}::${c.castType}`).join(' AND ');
  const text = `DELETE FROM ${qualify(schema, table)} AS t USING ${unnestFrom(keyColumns.length)} WHERE ${where}`;
  return { text, values: columnValues };
}

/** Whether a row with this key exists (one key: one parameter per key column). */
export function existsStatement(
  schema: string,
  table: string,
  keyColumns: PgCastColumn[],
  values: Array<string | null>,
): PgStatement {
  const where = keyColumns.map((c, i) => `${quoteIdent(c.name)} = $${i + 1}::${c.castType}`).join(' AND ');
  return { text: `SELECT 1 FROM ${qualify(schema, table)} WHERE ${where} LIMIT 1`, values };
}

export function truncateStatement(schema: string, table: string): PgStatement {
  return { text: `TRUNCATE TABLE ${qualify(schema, table)}`, values: [] };
}

/** A column definition of CREATE TABLE / ADD COLUMN. `type` comes from the type mapping, never from user text. */
export interface PgColumnDef {
  name: string;
  type: string;
  notNull: boolean;
  /** CREATE TABLE: the text of the column's DEFAULT (docs/schema-changes.md). */
  defaultText?: string;
}

export function createSchemaStatement(schema: string): PgStatement {
  return { text: `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`, values: [] };
}

export function createTableStatement(
  schema: string,
  table: string,
  columns: PgColumnDef[],
  key: string[],
): PgStatement {
  const defs = columns.map(
    (c) =>
      `${quoteIdent(c.name)} ${c.type}${c.defaultText === undefined ? '' : ` DEFAULT ${quoteLiteral(c.defaultText)}::${c.type}`}` +
      `${c.notNull ? ' NOT NULL' : ''}`,
  );
  defs.push(`PRIMARY KEY (${quoteList(key)})`);
  return { text: `CREATE TABLE IF NOT EXISTS ${qualify(schema, table)} (${defs.join(', ')})`, values: [] };
}

/**
 * ADD COLUMN, with a DEFAULT when `defaultText` is given (the value's text, written as a quoted
 * literal cast to the column type: DDL takes no parameters), so existing rows hold it.
 */
export function addColumnStatement(
  schema: string,
  table: string,
  column: PgColumnDef,
  defaultText?: string | null,
): PgStatement {
  const def =
    defaultText === undefined || defaultText === null ? '' : ` DEFAULT ${quoteLiteral(defaultText)}::${column.type}`;
  return {
    text:
      `ALTER TABLE ${qualify(schema, table)} ADD COLUMN IF NOT EXISTS ${quoteIdent(column.name)} ${column.type}` +
      `${def}${column.notNull ? ' NOT NULL' : ''}`,
    values: [],
  };
}

export function renameColumnStatement(schema: string, table: string, from: string, to: string): PgStatement {
  return {
    text: `ALTER TABLE ${qualify(schema, table)} RENAME COLUMN ${quoteIdent(from)} TO ${quoteIdent(to)}`,
    values: [],
  };
}

/** Moves a table to another schema (when `from` and `to` differ there) and renames it. */
export function renameTableStatements(
  from: { schema: string; table: string },
  to: { schema: string; table: string },
): PgStatement[] {
  const out: PgStatement[] = [];
  if (from.schema !== to.schema) {
    out.push({
      text: `ALTER TABLE ${qualify(from.schema, from.table)} SET SCHEMA ${quoteIdent(to.schema)}`,
      values: [],
    });
  }
  if (from.table !== to.table) {
    out.push({ text: `ALTER TABLE ${qualify(to.schema, from.table)} RENAME TO ${quoteIdent(to.table)}`, values: [] });
  }
  return out;
}

export function alterTypeStatement(schema: string, table: string, column: string, type: string): PgStatement {
  return { text: `ALTER TABLE ${qualify(schema, table)} ALTER COLUMN ${quoteIdent(column)} TYPE ${type}`, values: [] };
}

export function dropNotNullStatement(schema: string, table: string, column: string): PgStatement {
  return { text: `ALTER TABLE ${qualify(schema, table)} ALTER COLUMN ${quoteIdent(column)} DROP NOT NULL`, values: [] };
}

/** Columns, types and nullability of a table (none when it does not exist). */
export function describeTableStatement(schema: string, table: string): PgStatement {
  return {
    text:
      'SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, format_type(a.atttypid, -1) AS cast_type, ' +
      'a.attnotnull AS not_null FROM pg_catalog.pg_attribute a ' +
      'JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace ' +
      "WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped " +
      'ORDER BY a.attnum',
    values: [schema, table],
  };
}

/** Primary-key columns of a table, in key order. */
export function primaryKeyStatement(schema: string, table: string): PgStatement {
  return {
    text:
      'SELECT a.attname AS name FROM pg_catalog.pg_index i ' +
      'JOIN pg_catalog.pg_class c ON c.oid = i.indrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace ' +
      'CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ' +
      'JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum ' +
      'WHERE n.nspname = $1 AND c.relname = $2 AND i.indisprimary ORDER BY k.ord',
    values: [schema, table],
  };
}

// ---- offsets table (docs/sinks.md#offsets) ----

export const OFFSETS_TABLE = 'ferry_offsets';

export function createOffsetsTableStatement(schema: string): PgStatement {
  return {
    text:
      `CREATE TABLE IF NOT EXISTS ${qualify(schema, OFFSETS_TABLE)} (` +
      'pipeline text NOT NULL, consumer_group text NOT NULL, topic text NOT NULL, "partition" integer NOT NULL, ' +
      'next_offset bigint NOT NULL, truncate_barrier text, updated_at timestamptz NOT NULL DEFAULT now(), ' +
      'leader_epoch bigint, PRIMARY KEY (pipeline, consumer_group, topic, "partition"))',
    values: [],
  };
}

/** Whether a ferry_offsets table has the leader_epoch column (older ferry versions lack it). */
export function offsetsEpochColumnStatement(schema: string): PgStatement {
  return {
    text:
      'SELECT count(*)::int AS n FROM information_schema.columns ' +
      "WHERE table_schema = $1 AND table_name = $2 AND column_name = 'leader_epoch'",
    values: [schema, OFFSETS_TABLE],
  };
}

/**
 * Adds leader_epoch to a ferry_offsets table of an older ferry (idempotent; run only when the
 * column is missing, since ALTER TABLE locks the table even when there is nothing to add).
 */
export function migrateOffsetsTableStatement(schema: string): PgStatement {
  return {
    text: `ALTER TABLE ${qualify(schema, OFFSETS_TABLE)} ADD COLUMN IF NOT EXISTS leader_epoch bigint`,
    values: [],
  };
}

export interface OffsetRow {
  topic: string;
  partition: number;
  nextOffset: string;
  truncateBarrier: string | null;
  leaderEpoch: number | null;
}

export function readOffsetsStatement(schema: string, pipeline: string, group: string, topics: string[]): PgStatement {
  return {
    text:
      'SELECT topic, "partition", next_offset::text AS next_offset, truncate_barrier, leader_epoch::text AS leader_epoch ' +
      `FROM ${qualify(schema, OFFSETS_TABLE)} WHERE pipeline = $1 AND consumer_group = $2 AND topic = ANY($3::text[])`,
    values: [pipeline, group, topics],
  };
}

/** Locks and reads the offsets rows of some partitions (the optimistic fence). */
export function lockOffsetsStatement(
  schema: string,
  pipeline: string,
  group: string,
  partitions: Array<{ topic: string; partition: number }>,
): PgStatement {
  return {
    text:
      'SELECT topic, "partition", next_offset::text AS next_offset, truncate_barrier, leader_epoch::text AS leader_epoch ' +
      `FROM ${qualify(schema, OFFSETS_TABLE)} WHERE pipeline = $1 AND consumer_group = $2 ` +
      'AND (topic, "partition") IN (SELECT * FROM unnest($3::text[], $4::integer[])) FOR UPDATE',
    values: [pipeline, group, partitions.map((p) => p.topic), partitions.map((p) => p.partition)],
  };
}

export function writeOffsetsStatement(schema: string, pipeline: string, group: string, rows: OffsetRow[]): PgStatement {
  return {
    text:
      `INSERT INTO ${qualify(schema, OFFSETS_TABLE)} (pipeline, consumer_group, topic, "partition", next_offset, truncate_barrier, leader_epoch, updated_at) ` +
      'SELECT $1, $2, u.t, u.p, u.o, u.b, u.e, now() ' +
      'FROM unnest($3::text[], $4::integer[], $5::bigint[], $6::text[], $7::bigint[]) AS u(t, p, o, b, e) ' +
      'ON CONFLICT (pipeline, consumer_group, topic, "partition") DO UPDATE SET next_offset = EXCLUDED.next_offset, ' +
      'truncate_barrier = EXCLUDED.truncate_barrier, leader_epoch = EXCLUDED.leader_epoch, updated_at = EXCLUDED.updated_at',
    values: [
      pipeline,
      group,
      rows.map((r) => r.topic),
      rows.map((r) => r.partition),
      rows.map((r) => r.nextOffset),
      rows.map((r) => r.truncateBarrier),
      rows.map((r) => (r.leaderEpoch === null ? null : String(r.leaderEpoch))),
    ],
  };
}

/** Sets truncate barriers on partitions without touching their next offsets ("0" for a new row). */
export function writeBarriersStatement(
  schema: string,
  pipeline: string,
  group: string,
  rows: Array<{ topic: string; partition: number; truncateBarrier: string }>,
): PgStatement {
  return {
    text:
      `INSERT INTO ${qualify(schema, OFFSETS_TABLE)} (pipeline, consumer_group, topic, "partition", next_offset, truncate_barrier, updated_at) ` +
      'SELECT $1, $2, u.t, u.p, 0, u.b, now() FROM unnest($3::text[], $4::integer[], $5::text[]) AS u(t, p, b) ' +
      'ON CONFLICT (pipeline, consumer_group, topic, "partition") DO UPDATE SET ' +
      'truncate_barrier = EXCLUDED.truncate_barrier, updated_at = EXCLUDED.updated_at',
    values: [
      pipeline,
      group,
      rows.map((r) => r.topic),
      rows.map((r) => r.partition),
      rows.map((r) => r.truncateBarrier),
    ],
  };
}
