import type { Connection, RowDataPacket } from 'mysql2/promise';
import {
  type ChunkReader,
  type ChunkRequest,
  type ChunkResult,
  evenBounds,
  FerryError,
  integerKey,
  integerKeyColumn,
  type JsonValue,
  type TableId,
  type TableSchema,
  tableName,
} from '../../src/api/index.js';
import type { MysqlSourceConfig } from './config.js';
import { closeQuietly, connect, isMariaDb } from './connection.js';
import type { Placements } from './placements.js';
import { encodeRow } from './rows.js';
import { quoteId } from './schema.js';
import { chunkQuery, keysQuery } from './snapshot-sql.js';

type Rows = RowDataPacket[];

/**
 * Reads watermarked snapshot chunks (docs/snapshots.md), each in a short transaction of its own:
 * - MariaDB: START TRANSACTION WITH CONSISTENT SNAPSHOT gives the chunk's view its exact binlog
 *   position (Binlog_snapshot_file/position); nothing is written and no lock outlives the chunk
 *   query.
 * - MySQL 8 (no such status): the view is opened, the chunk read, then SHOW BINARY LOG STATUS
 *   gives a position after every transaction the view saw; the changes in between reach the
 *   stream inside the chunk's window and win over the chunk's rows. Transactions written to the
 *   binlog just before the view but committed in InnoDB after it are covered by taking the
 *   chunk's keys changed shortly before the request from the stream as well (`runningTx: ['*']`).
 * The chunk's position is handed to the stream (Placements), which yields its watermark once it
 * passed that position.
 */
export async function openMysqlChunkReader(cfg: MysqlSourceConfig, placements: Placements): Promise<ChunkReader> {
  const conn = await connect(cfg);
  let mariadb: boolean;
  try {
    await conn.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    mariadb = await isMariaDb(conn);
  } catch (err) {
    await closeQuietly(conn);
    throw readError(err, 'opening a snapshot chunk reader');
  }
  return {
    async estimateRows(t: TableId): Promise<number> {
      const [rows] = await conn.query<Rows>(
        'SELECT TABLE_ROWS AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
        [t.db, t.table],
      );
      return Number(rows[0]?.['n'] ?? 0) || 0;
    },
    async readChunk(req: ChunkRequest): Promise<ChunkResult> {
      const { sql, params } = req.keys
        ? keysQuery(req.table, req.keys)
        : chunkQuery(req.table, req.afterKey, req.limit, req.until);
      try {
        await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
        const at = mariadb ? await snapshotPosition(conn) : null;
        const [rows] = await conn.query<Rows>(sql, params);
        await conn.query('COMMIT');
        const position = at ?? (await binlogEnd(conn));
        const encoded = rows.map((r) => encodeRow(req.table, r));
        placements.add(req.id, position.file, position.pos);
        return mariadb ? { rows: encoded } : { rows: encoded, runningTx: ['*'] };
      } catch (err) {
        await conn.query('ROLLBACK').catch(() => undefined);
        throw readError(err, `reading a snapshot chunk of ${tableName(req.table)}`);
      }
    },
    async keyBounds(table: TableSchema, parts: number): Promise<JsonValue[][]> {
      const key = integerKeyColumn(table);
      if (!key) return [];
      const id = quoteId(key.name);
      const [rows] = await conn.query<Rows>(
        `SELECT CAST(MIN(${id}) AS CHAR) AS lo, CAST(MAX(${id}) AS CHAR) AS hi FROM ${quoteId(table.db)}.${quoteId(table.table)}`,
      );
      const lo = rows[0]?.['lo'];
      const hi = rows[0]?.['hi'];
      if (lo === null || lo === undefined || hi === null || hi === undefined) return [];
      return evenBounds(BigInt(String(lo)), BigInt(String(hi)), parts);
    },
    async maxKey(table: TableSchema): Promise<JsonValue[] | null> {
      const key = integerKeyColumn(table);
      if (!key) return null;
      const [rows] = await conn.query<Rows>(
        `SELECT CAST(MAX(${quoteId(key.name)}) AS CHAR) AS hi FROM ${quoteId(table.db)}.${quoteId(table.table)}`,
      );
      const hi = rows[0]?.['hi'];
      return hi === null || hi === undefined ? null : [integerKey(BigInt(String(hi)))];
    },
    forget(id: string): void {
      placements.remove(id);
    },
    async close(): Promise<void> {
      await closeQuietly(conn);
    },
  };
}

async function snapshotPosition(conn: Connection): Promise<{ file: string; pos: number }> {
  const [status] = await conn.query<Rows>("SHOW STATUS LIKE 'binlog_snapshot_%'");
  const get = (name: string) => status.find((r) => String(r['Variable_name']).toLowerCase() === name)?.['Value'];
  const file = String(get('binlog_snapshot_file') ?? '');
  const pos = Number(get('binlog_snapshot_position') ?? 0);
  if (!file) {
    throw new FerryError('FERRY_PREFLIGHT', 'the server reports no binlog snapshot position: is the binlog enabled?');
  }
  return { file, pos };
}

async function binlogEnd(conn: Connection): Promise<{ file: string; pos: number }> {
  let rows: Rows;
  try {
    [rows] = await conn.query<Rows>('SHOW BINARY LOG STATUS');
  } catch {
    [rows] = await conn.query<Rows>('SHOW MASTER STATUS');
  }
  const r = rows[0];
  if (!r) throw new FerryError('FERRY_PREFLIGHT', 'SHOW MASTER STATUS returned nothing: is the binlog enabled?');
  return { file: String(r['File']), pos: Number(r['Position']) };
}

function readError(err: unknown, what: string): FerryError {
  if (err instanceof FerryError) return err;
  const e = err as { errno?: number; message?: string };
  // A table dropped or altered under the chunk: the stream's schema change decides what follows.
  const retriable = e.errno !== 1142 && e.errno !== 1044 && e.errno !== 1045;
  return new FerryError(retriable ? 'FERRY_CONNECTION' : 'FERRY_AUTH', `${what} failed: ${e.message ?? String(err)}`, {
    cause: err,
    retriable,
  });
}
