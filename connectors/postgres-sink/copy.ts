/**
 * The COPY path of the PostgreSQL sink (docs/sinks.md#copy): a large batch of rows is streamed
 * with `COPY … FROM STDIN` (text format) into a temporary staging table of text columns, and
 * one statement moves it into the target (`INSERT … SELECT … ON CONFLICT DO UPDATE`, or
 * `DELETE … USING`), casting each text to the column's type exactly as the unnest path does.
 * The texts are the same toPgParam() texts; only their transport differs, so both paths store
 * the same values.
 */
import { once } from 'node:events';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { qualify, quoteIdent, quoteList } from './dialect.js';
import type { PgCastColumn, PgStatement } from './sql.js';

const SPECIAL = /[\\\t\n\r]/;
const SPECIAL_ALL = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * One field of COPY's text format: `\N` for SQL NULL; otherwise the text with backslash, tab,
 * newline and carriage return escaped (the only characters the format gives a meaning to, with
 * the tab delimiter and the newline row end). Every other character, U+0000 included, passes as
 * is: the server then judges it exactly as it judges the same text sent as a parameter.
 */
export function copyField(text: string | null): string {
  if (text === null) return '\\N';
  return SPECIAL.test(text) ? text.replace(SPECIAL_ALL, (c) => ESCAPES[c]!) : text;
}

/** One row of COPY's text format: fields joined by tabs, ended by a newline. */
export function copyRow(fields: Array<string | null>): string {
  let line = '';
  for (let i = 0; i < fields.length; i++) {
    if (i > 0) line += '\t';
    line += copyField(fields[i]!);
  }
  return `${line}\n`;
}

/** Rows in COPY text format, cut into pieces of about `pieceBytes` characters. */
export function* copyPieces(rows: Array<Array<string | null>>, pieceBytes = 256 * 1024): Generator<string> {
  let piece = '';
  for (const row of rows) {
    piece += copyRow(row);
    if (piece.length >= pieceBytes) {
      yield piece;
      piece = '';
    }
  }
  if (piece.length > 0) yield piece;
}

/** The staging table for `width` text columns: a temporary table of this connection, emptied at every commit. */
export function stageName(width: number): string {
  return `ferry_stage_${width}`;
}

const stageColumn = (i: number): string => `c${i + 1}`;

export function createStageStatement(width: number): PgStatement {
  const cols = Array.from({ length: width }, (_, i) => `${stageColumn(i)} text`).join(', ');
  return {
    text: `CREATE TEMPORARY TABLE IF NOT EXISTS ${quoteIdent(stageName(width))} (${cols}) ON COMMIT DELETE ROWS`,
    values: [],
  };
}

export function copyStageText(width: number): string {
  const cols = Array.from({ length: width }, (_, i) => stageColumn(i)).join(', ');
  return `COPY ${qualify('pg_temp', stageName(width))} (${cols}) FROM STDIN`;
}

/**
 * The staged rows taken out of the stage (so that it is empty for its next use in the same
 * transaction) as `s`, each column cast to its target type.
 */
function takeStage(width: number): string {
  return `WITH s AS (DELETE FROM ${qualify('pg_temp', stageName(width))} RETURNING *)`;
}

/** Upsert of the staged rows: INSERT … SELECT s.c1::type, … FROM s ON CONFLICT (key) DO UPDATE / DO NOTHING. */
export function upsertFromStageStatement(
  schema: string,
  table: string,
  columns: PgCastColumn[],
  key: string[],
): PgStatement {
  const select = columns.map((c, i) => `s.${stageColumn(i)}::${c.castType}`).join(', ');
  const keySet = new Set(key);
  const updates = columns
    .filter((c) => !keySet.has(c.name))
    .map((c) => `${quoteIdent(c.name)} = EXCLUDED.${quoteIdent(c.name)}`);
  const conflict = updates.length > 0 ? `DO UPDATE SET ${updates.join(', ')}` : 'DO NOTHING';
  return {
    text:
      `${takeStage(columns.length)} INSERT INTO ${qualify(schema, table)} (${quoteList(columns.map((c) => c.name))}) ` +
      `SELECT ${select} FROM s ON CONFLICT (${quoteList(key)}) ${conflict}`,
    values: [],
  };
}

/** Delete by the staged keys: DELETE … USING s WHERE t.k = s.c1::type AND …. */
export function deleteFromStageStatement(schema: string, table: string, keyColumns: PgCastColumn[]): PgStatement {
  const where = keyColumns.map((c, i) => `t.${quoteIdent(c.name)} = s.${stageColumn(i)}::${c.castType}`).join(' AND ');
  return {
    text: `${takeStage(keyColumns.length)} DELETE FROM ${qualify(schema, table)} AS t USING s WHERE ${where}`,
    values: [],
  };
}

/** Streams rows (row-major texts, `width` each) into the staging table of that width, creating it when missing. */
export async function copyIntoStage(c: pg.Client, width: number, rows: Array<Array<string | null>>): Promise<void> {
  await c.query(createStageStatement(width).text);
  await copyRows(c, copyStageText(width), rows);
}

/** `COPY schema.table (columns) FROM STDIN`: rows straight into the target table (a snapshot load). */
export function copyTableText(schema: string, table: string, columns: string[]): string {
  return `COPY ${qualify(schema, table)} (${quoteList(columns)}) FROM STDIN`;
}

/**
 * A snapshot load (TableChanges.load): the rows are copied straight into the target table, where
 * the server parses each text with the column's type, exactly as the staged `text::type` casts
 * do; a key that exists already fails the COPY (unique violation), and the savepoint lets the
 * caller upsert instead. Returns false in that case.
 */
export async function copyIntoTable(
  c: pg.Client,
  schema: string,
  table: string,
  columns: string[],
  rows: Array<Array<string | null>>,
): Promise<boolean> {
  await c.query('SAVEPOINT ferry_load');
  try {
    await copyRows(c, copyTableText(schema, table, columns), rows);
  } catch (err) {
    if ((err as { code?: unknown }).code !== UNIQUE_VIOLATION) throw err;
    await c.query('ROLLBACK TO SAVEPOINT ferry_load');
    return false;
  }
  await c.query('RELEASE SAVEPOINT ferry_load');
  return true;
}

const UNIQUE_VIOLATION = '23505';

async function copyRows(c: pg.Client, sql: string, rows: Array<Array<string | null>>): Promise<void> {
  const stream = c.query(copyFrom(sql));
  const done = new Promise<void>((resolve, reject) => {
    stream.on('finish', resolve);
    stream.on('error', reject);
  });
  done.catch(() => undefined);
  for (const piece of copyPieces(rows)) {
    if (!stream.write(piece)) await Promise.race([once(stream, 'drain'), done]);
  }
  stream.end();
  await done;
}
