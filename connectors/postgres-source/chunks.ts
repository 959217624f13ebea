/**
 * Watermarked snapshot chunks (docs/snapshots.md). Each chunk is read in a short REPEATABLE READ
 * transaction of its own; then a transactional logical message with the chunk's id
 * (pg_logical_emit_message, executable by every role) commits, and the stream yields the chunk's
 * watermark where that message's commit sits in commit order: every transaction the chunk's
 * view saw committed before it. The view's running transactions (the snapshot's xip list) are
 * returned, so that rows they changed are taken from the stream rather than from the chunk.
 * Nothing is written to any table and no lock outlives the chunk query.
 */
import pg from 'pg';
import {
  type ChunkReader,
  type ChunkRequest,
  type ChunkResult,
  evenBounds,
  FerryError,
  integerKey,
  integerKeyColumn,
  type JsonValue,
  type Logger,
  type TableId,
  type TableSchema,
  tableName,
} from '../../src/api/index.js';
import { queryJson } from './catalog.js';
import { clientConfig, type ResolvedOptions } from './config.js';
import { WATERMARK_PREFIX } from './decode.js';
import { errorCode, pgError } from './errors.js';
import { chunkQuery, keysQuery, toRow } from './snapshot.js';
import { qualified, quoteIdent } from './sql.js';

export async function openPgChunkReader(opts: ResolvedOptions, logger: Logger): Promise<ChunkReader> {
  const client = new pg.Client(clientConfig(opts, 'snapshot-chunks'));
  client.on('error', (err) => logger.debug('snapshot chunk connection error', { error: err.message }));
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw pgError(err, 'connecting the snapshot chunk reader');
  }
  return {
    async estimateRows(table: TableId): Promise<number> {
      const rows = await queryJson<{ n: number }>(
        client,
        `SELECT greatest(c.reltuples, 0)::int8 AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relname = $2`,
        [table.db, table.table],
      );
      return rows[0]?.n ?? 0;
    },
    async readChunk(req: ChunkRequest): Promise<ChunkResult> {
      const { text, values } = req.keys
        ? keysQuery(req.table, req.keys)
        : chunkQuery(req.table, req.afterKey, req.limit);
      const what = `reading a snapshot chunk of ${tableName(req.table)}`;
      let result: ChunkResult;
      try {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        const snap = await client.query<{ s: string }>('SELECT pg_current_snapshot()::text AS s');
        const res = await client.query<(string | null)[]>({ text, values, rowMode: 'array' });
        await client.query('COMMIT');
        result = {
          rows: res.rows.map((r) => toRow(req.table.columns, r)),
          runningTx: runningXids(snap.rows[0]?.s ?? ''),
        };
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        if (errorCode(err) !== '42P01' || (await tableExists(client, req.table))) throw chunkReadError(err, what);
        // Renamed or dropped (while the source was stopped, or ahead of the stream): nothing is
        // left under this name, so the chunk is empty and the table's snapshot ends. A renamed
        // table is captured, and read, under its new name (the same oid).
        logger.warn('a table to snapshot no longer exists under this name; ending its snapshot', {
          table: tableName(req.table),
        });
        result = { rows: [] };
      }
      try {
        // The watermark's commit is flushed at once (whatever the server's synchronous_commit), so
        // the stream carries it now rather than at the next WAL writer round (up to 200 ms later).
        await client.query('BEGIN');
        await client.query('SET LOCAL synchronous_commit = on');
        await client.query('SELECT pg_logical_emit_message(true, $1::text, $2::text)', [WATERMARK_PREFIX, req.id]);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw chunkReadError(err, what);
      }
    },
    async keyBounds(table: TableSchema, parts: number): Promise<JsonValue[][]> {
      const key = integerKeyColumn(table);
      if (!key) return [];
      const id = quoteIdent(key.name);
      const res = await client
        .query<{ lo: string | null; hi: string | null }>(
          `SELECT min(${id})::text AS lo, max(${id})::text AS hi FROM ${qualified(table.db, table.table)}`,
        )
        .catch(async (err: unknown) => {
          // A table gone under this name is not split: its first chunk ends its snapshot.
          if (errorCode(err) === '42P01' && !(await tableExists(client, table))) return { rows: [] };
          throw chunkReadError(err, `reading the key range of ${tableName(table)}`);
        });
      const { lo, hi } = res.rows[0] ?? { lo: null, hi: null };
      if (lo === null || hi === null) return [];
      return evenBounds(BigInt(lo), BigInt(hi), parts);
    },
    async maxKey(table: TableSchema): Promise<JsonValue[] | null> {
      const key = integerKeyColumn(table);
      if (!key) return null;
      const res = await client
        .query<{ hi: string | null }>(
          `SELECT max(${quoteIdent(key.name)})::text AS hi FROM ${qualified(table.db, table.table)}`,
        )
        .catch(async (err: unknown) => {
          // A table gone under this name: read without an end, its first chunk ends its snapshot.
          if (errorCode(err) === '42P01' && !(await tableExists(client, table))) return { rows: [] };
          throw chunkReadError(err, `reading the highest key of ${tableName(table)}`);
        });
      const hi = res.rows[0]?.hi ?? null;
      return hi === null ? null : [integerKey(BigInt(hi))];
    },
    async close(): Promise<void> {
      await client.end().catch(() => undefined);
    },
  };
}

/** Whether a table of that name exists now (an error of the lookup counts as yes: read again). */
async function tableExists(client: pg.Client, table: TableId): Promise<boolean> {
  try {
    const res = await client.query(
      `SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
      [table.db, table.table],
    );
    return res.rows.length > 0;
  } catch {
    return true;
  }
}

/**
 * The xip list of a pg_snapshot text (`xmin:xmax:xip,…`), as the 32-bit transaction ids that
 * pgoutput's Begin messages (and so events' `source.txId`) carry.
 */
export function runningXids(snapshot: string): string[] {
  const xip = snapshot.split(':')[2] ?? '';
  return xip
    .split(',')
    .filter((x) => /^\d+$/.test(x))
    .map((x) => (BigInt(x) & 0xffffffffn).toString());
}

/**
 * A chunk read with a shape the table no longer has (a column or table dropped or renamed while
 * the stream has not yet reached that change) is read again: by then the stream's Relation
 * message has brought the new shape, and the next read uses it.
 */
function chunkReadError(err: unknown, what: string): FerryError {
  const code = errorCode(err);
  if (code === '42703' || code === '42P01') {
    return new FerryError(
      'FERRY_SCHEMA',
      `${what}: ${err instanceof Error ? err.message : String(err)}; the table changed under the read, reading it again with its new shape`,
      { cause: err, retriable: true, details: { sqlstate: code } },
    );
  }
  return pgError(err, what);
}
