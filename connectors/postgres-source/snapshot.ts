/**
 * The initial snapshot. A new slot is created on a replication connection with EXPORT_SNAPSHOT;
 * a plain session imports that snapshot (REPEATABLE READ, SET TRANSACTION SNAPSHOT) and reads
 * every captured table in primary-key order, in keyset chunks. The view matches the slot's
 * consistent point exactly, so streaming starts there with nothing missed and nothing doubled.
 *
 * When the slot already exists (a restart in the middle of the snapshot, or --resnapshot), no
 * snapshot can be exported for it any more: the remaining tables are read in a fresh
 * REPEATABLE READ view, and streaming replays every change since the slot's position over them,
 * so the target converges (docs/postgres-source.md#snapshot).
 */
import pg from 'pg';
import {
  type ColumnSchema,
  encodeValue,
  FerryError,
  type JsonValue,
  type Logger,
  type Row,
  type SnapshotSession,
  type TableFilter,
  type TableId,
  type TableSchema,
  tableName,
  toPgDate,
  toPgTimestamp,
} from '../../src/api/index.js';
import { catalogSchema, queryJson, readTables } from './catalog.js';
import { clientConfig, type ResolvedOptions } from './config.js';
import { pgError } from './errors.js';
import { lsnNumber, parseLsn } from './lsn.js';
import { connectReplication, createSlot, readSlot } from './slot.js';
import { qualified, quoteIdent } from './sql.js';
import type { PgTypeInfo } from './types.js';

export interface SnapshotInput {
  opts: ResolvedOptions;
  slot: string;
  filter: TableFilter;
  logger: Logger;
  types: Map<number, PgTypeInfo>;
}

/** Opens the snapshot view (creating the slot when it does not exist yet). */
export async function openPgSnapshot(input: SnapshotInput): Promise<SnapshotSession> {
  const { opts, slot, logger } = input;
  const reader = new pg.Client(clientConfig(opts, 'snapshot'));
  reader.on('error', (err) => logger.warn('snapshot connection error', { error: err.message }));
  let replication: pg.Client | null = null;
  try {
    await reader.connect();
    const existing = await readSlot(reader, slot);
    let lsn: string;
    if (existing) {
      if (!existing.confirmedFlushLsn) {
        throw new FerryError(
          'FERRY_PREFLIGHT',
          `replication slot "${slot}" has no confirmed position; is it a logical slot?`,
        );
      }
      await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      lsn = existing.confirmedFlushLsn;
      logger.info(
        'the slot exists already: reading a fresh view; streaming replays the changes since the slot position',
        {
          slot,
          position: lsn,
        },
      );
    } else {
      replication = await connectReplication(opts, 'snapshot-slot');
      const created = await createSlot(replication, slot, true);
      await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await reader.query(`SET TRANSACTION SNAPSHOT '${created.snapshotName!.replace(/'/g, "''")}'`);
      // The snapshot is imported: the exporting connection is not needed any more.
      await replication.end().catch(() => undefined);
      replication = null;
      lsn = created.consistentPoint;
      logger.info('created the replication slot with an exported snapshot', { slot, position: lsn });
    }
    // Table shapes as of the view (catalog reads inside the snapshot transaction).
    const tables: TableSchema[] = [];
    for (const t of await readTables(reader, input.filter))
      tables.push(await catalogSchema(reader, t, input.filter, input.types));
    return new PgSnapshotSession(reader, { lsn }, tables);
  } catch (err) {
    await replication?.end().catch(() => undefined);
    await reader.end().catch(() => undefined);
    throw pgError(err, 'opening the snapshot');
  }
}

class PgSnapshotSession implements SnapshotSession {
  readonly source: { lsn: number };
  constructor(
    private readonly client: pg.Client,
    readonly position: { lsn: string },
    readonly tables: TableSchema[],
  ) {
    this.source = { lsn: lsnNumber(parseLsn(position.lsn)) };
  }

  async estimateRows(table: TableId): Promise<number> {
    const rows = await queryJson<{ n: number }>(
      this.client,
      `SELECT greatest(c.reltuples, 0)::int8 AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2`,
      [table.db, table.table],
    );
    return rows[0]?.n ?? 0;
  }

  async readChunk(table: TableSchema, afterKey: JsonValue[] | null, limit: number): Promise<Row[]> {
    const { text, values } = chunkQuery(table, afterKey, limit);
    try {
      const res = await this.client.query<(string | null)[]>({ text, values, rowMode: 'array' });
      return res.rows.map((r) => toRow(table.columns, r));
    } catch (err) {
      throw pgError(err, `reading a snapshot chunk of ${tableName(table)}`);
    }
  }

  async close(): Promise<void> {
    await this.client.query('COMMIT').catch(() => undefined);
    await this.client.end().catch(() => undefined);
  }
}

/** SELECT of the next chunk: key columns compared as a row (keyset pagination), in key order. */
export function chunkQuery(
  table: TableSchema,
  afterKey: JsonValue[] | null,
  limit: number,
  until?: JsonValue[],
): { text: string; values: (string | null)[] } {
  const cols = table.columns.map((c) => quoteIdent(c.name)).join(', ');
  const keyCols = table.primaryKey.map((k) => quoteIdent(k));
  const order = keyCols.join(', ');
  const values: (string | null)[] = [];
  let where = '';
  if (afterKey) {
    if (afterKey.length !== keyCols.length) {
      throw new FerryError(
        'FERRY_INTERNAL',
        `${tableName(table)}: resume key has ${afterKey.length} values, the key ${keyCols.length}`,
      );
    }
    const params = table.primaryKey.map((k, i) => {
      const column = table.columns.find((c) => c.name === k);
      if (!column) throw new FerryError('FERRY_INTERNAL', `${tableName(table)}: key column ${k} is not a column`);
      values.push(keyParam(column, afterKey[i]!));
      return column.kind === 'bytes' ? `decode($${i + 1}, 'base64')` : `$${i + 1}`;
    });
    where = ` WHERE (${order}) > (${params.join(', ')})`;
  }
  if (until) {
    // Ranges are cut on single-column keys only (keyBounds).
    const column = table.columns.find((c) => c.name === table.primaryKey[0]);
    if (table.primaryKey.length !== 1 || until.length !== 1 || !column) {
      throw new FerryError('FERRY_INTERNAL', `${tableName(table)}: a key range end needs a single-column key`);
    }
    values.push(keyParam(column, until[0]!));
    where += `${where ? ' AND' : ' WHERE'} ${order} <= $${values.length}`;
  }
  values.push(String(limit));
  const text = `SELECT ${cols} FROM ${qualified(table.db, table.table)}${where} ORDER BY ${order} LIMIT $${values.length}`;
  return { text, values };
}

/** SELECT of a repair read: exactly the rows with these keys (canonical values, key order). */
export function keysQuery(table: TableSchema, keys: JsonValue[][]): { text: string; values: (string | null)[] } {
  const cols = table.columns.map((c) => quoteIdent(c.name)).join(', ');
  const keyColumns = table.primaryKey.map((k) => {
    const column = table.columns.find((c) => c.name === k);
    if (!column) throw new FerryError('FERRY_INTERNAL', `${tableName(table)}: key column ${k} is not a column`);
    return column;
  });
  const values: (string | null)[] = [];
  const tuples = keys.map((key) => {
    const params = keyColumns.map((column, i) => {
      values.push(keyParam(column, key[i] ?? null));
      return column.kind === 'bytes' ? `decode($${values.length}, 'base64')` : `$${values.length}`;
    });
    return `(${params.join(', ')})`;
  });
  const order = keyColumns.map((c) => quoteIdent(c.name)).join(', ');
  const where = tuples.length > 0 ? `(${order}) IN (${tuples.join(', ')})` : 'false';
  return { text: `SELECT ${cols} FROM ${qualified(table.db, table.table)} WHERE ${where}`, values };
}

/** A canonical key value back into PostgreSQL input text (the parameter's type is inferred from its column). */
export function keyParam(column: ColumnSchema, value: JsonValue): string {
  if (value === null) throw new FerryError('FERRY_INTERNAL', `key column ${column.name} is NULL in a resume key`);
  if (typeof value === 'string') {
    if (column.kind === 'date') return toPgDate(value);
    if (column.kind === 'timestamp' || column.kind === 'timestamptz') return toPgTimestamp(value);
    return value;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return pgArrayLiteral(value);
  return JSON.stringify(value);
}

function pgArrayLiteral(items: JsonValue[]): string {
  return `{${items
    .map((v) => {
      if (v === null) return 'NULL';
      if (Array.isArray(v)) return pgArrayLiteral(v);
      return `"${String(v).replace(/[\\"]/g, '\\$&')}"`;
    })
    .join(',')}}`;
}

/** A result row (text values, in column order) as a canonical row. */
export function toRow(columns: ColumnSchema[], values: (string | null)[]): Row {
  const row: Row = {};
  columns.forEach((c, i) => {
    row[c.name] = encodeValue(c, values[i] ?? null);
  });
  return row;
}

/**
 * The key of the table's first row (null: the table is empty). Read again at start, that row
 * carries the version with the renames to the sink, which renames the target columns before it
 * applies the row, also when the table does not change after the start.
 */
export async function firstKey(client: pg.Client, schema: TableSchema): Promise<JsonValue[] | null> {
  const { text, values } = chunkQuery(schema, null, 1);
  const res = await client.query<(string | null)[]>({ text, values, rowMode: 'array' });
  const first = res.rows[0];
  if (!first) return null;
  const row = toRow(schema.columns, first);
  return schema.primaryKey.map((k) => row[k] ?? null);
}
