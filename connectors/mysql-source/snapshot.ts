import type { Connection, RowDataPacket } from 'mysql2/promise';
import {
  FerryError,
  type Logger,
  type SnapshotSession,
  type SourceContext,
  type TableId,
  type TableSchema,
} from '../../src/api/index.js';
import type { MysqlSourceConfig } from './config.js';
import { closeQuietly, connect, isMariaDb } from './connection.js';
import { type MysqlPosition, toSourcePosition } from './position.js';
import { encodeRow } from './rows.js';
import { readSchemas } from './schema.js';
import { chunkQuery } from './snapshot-sql.js';

type Rows = RowDataPacket[];

/**
 * Opens one consistent view with its exact binlog position (docs/snapshots.md).
 * - MariaDB: START TRANSACTION WITH CONSISTENT SNAPSHOT, then Binlog_snapshot_file/position,
 *   which match the view exactly. No lock at all.
 * - MySQL 8: FLUSH TABLES WITH READ LOCK (needs RELOAD), START TRANSACTION WITH CONSISTENT
 *   SNAPSHOT, SHOW MASTER STATUS (8.4: SHOW BINARY LOG STATUS), UNLOCK TABLES: the global read
 *   lock is held only for those three statements.
 * Rows are read inside that transaction, chunk by chunk.
 */
export async function openMysqlSnapshot(
  cfg: MysqlSourceConfig,
  ctx: SourceContext,
  serverId: number,
): Promise<SnapshotSession> {
  const conn = await connect(cfg);
  try {
    await conn.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    const position = (await isMariaDb(conn))
      ? await mariadbView(conn, serverId)
      : await mysqlView(conn, serverId, ctx.logger);
    const read = await readSchemas(conn, ctx.filter);
    if (read.problems.length > 0) {
      throw new FerryError(
        'FERRY_PREFLIGHT',
        `cannot snapshot: ${read.problems.map((p) => `${p.reason} (${p.fix})`).join('; ')}`,
      );
    }
    const tables = read.tables.map((t) => t.schema);
    return session(conn, position, tables);
  } catch (err) {
    await closeQuietly(conn);
    throw err;
  }
}

async function mariadbView(conn: Connection, serverId: number): Promise<MysqlPosition> {
  await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
  const [status] = await conn.query<Rows>("SHOW STATUS LIKE 'binlog_snapshot_%'");
  const get = (name: string) => status.find((r) => String(r['Variable_name']).toLowerCase() === name)?.['Value'];
  const file = String(get('binlog_snapshot_file') ?? '');
  const pos = Number(get('binlog_snapshot_position') ?? 0);
  if (!file) {
    throw new FerryError('FERRY_PREFLIGHT', 'the server reports no binlog snapshot position: is the binlog enabled?');
  }
  let gtid: string | null = null;
  try {
    const [g] = await conn.query<Rows>('SELECT BINLOG_GTID_POS(?, ?) AS g', [file, pos]);
    gtid = g[0]?.['g'] ? String(g[0]['g']) : null;
  } catch {
    gtid = null;
  }
  return { file, pos, gtid, serverId };
}

async function mysqlView(conn: Connection, serverId: number, logger: Logger): Promise<MysqlPosition> {
  await conn.query('FLUSH TABLES WITH READ LOCK');
  try {
    await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
    let rows: Rows;
    try {
      [rows] = await conn.query<Rows>('SHOW BINARY LOG STATUS');
    } catch {
      [rows] = await conn.query<Rows>('SHOW MASTER STATUS');
    }
    const r = rows[0];
    if (!r) throw new FerryError('FERRY_PREFLIGHT', 'SHOW MASTER STATUS returned nothing: is the binlog enabled?');
    const gtid = r['Executed_Gtid_Set'] ? String(r['Executed_Gtid_Set']).replace(/\s/g, '') : null;
    return { file: String(r['File']), pos: Number(r['Position']), gtid, serverId };
  } finally {
    await conn.query('UNLOCK TABLES');
    logger.debug('released the global read lock of the snapshot');
  }
}

function session(conn: Connection, position: MysqlPosition, tables: TableSchema[]): SnapshotSession {
  return {
    position: toSourcePosition(position),
    tables,
    source: { server_id: position.serverId, gtid: position.gtid, file: position.file, pos: position.pos, row: 0 },
    async estimateRows(t: TableId) {
      const [rows] = await conn.query<Rows>(
        'SELECT TABLE_ROWS AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
        [t.db, t.table],
      );
      return Number(rows[0]?.['n'] ?? 0) || 0;
    },
    async readChunk(schema, afterKey, limit) {
      const { sql, params } = chunkQuery(schema, afterKey, limit);
      try {
        const [rows] = await conn.query<Rows>(sql, params);
        return rows.map((r) => encodeRow(schema, r));
      } catch (err) {
        if (err instanceof FerryError) throw err;
        throw new FerryError(
          'FERRY_CONNECTION',
          `snapshot read of ${schema.db}.${schema.table} failed: ${(err as Error).message}`,
          {
            cause: err,
            retriable: true,
          },
        );
      }
    },
    async close() {
      await conn.query('COMMIT').catch(() => undefined);
      await closeQuietly(conn);
    },
  };
}
