import type { Connection, RowDataPacket } from 'mysql2/promise';
import { FerryError, tlsFailure } from '../../src/api/index.js';
import { connectionOptions, describeServer, type MysqlSourceConfig } from './config.js';

/**
 * A query connection with the session settings every read of the connector relies on:
 * TIMESTAMP rendered in UTC, utf8mb4, exact strings for dates, big integers, decimals and JSON.
 * Connection failures become FerryErrors: auth problems stop, network problems are retriable.
 */
export async function connect(cfg: MysqlSourceConfig): Promise<Connection> {
  let conn: Connection;
  try {
    // mysql2 is loaded on first use: a thread without a MySQL endpoint does not hold it.
    const { default: mysql } = await import('mysql2/promise');
    conn = await mysql.createConnection(connectionOptions(cfg));
  } catch (err) {
    throw connectError(err, cfg);
  }
  conn.on('error', () => undefined);
  await conn.query("SET SESSION time_zone = '+00:00'");
  return conn;
}

export function connectError(err: unknown, cfg: MysqlSourceConfig): FerryError {
  if (err instanceof FerryError) return err;
  const tls = tlsFailure(err, `source MySQL ${describeServer(cfg)}`, cfg.tls, 'source.tls');
  if (tls) return tls;
  const e = err as { errno?: number; code?: string; message?: string };
  const msg = e.message ?? String(err);
  if (e.errno === 1045 || e.errno === 1044 || e.errno === 1698) {
    return new FerryError('FERRY_AUTH', `MySQL ${describeServer(cfg)} refused the login: ${msg}`, { cause: err });
  }
  return new FerryError('FERRY_CONNECTION', `cannot connect to MySQL ${describeServer(cfg)}: ${msg}`, {
    cause: err,
    retriable: true,
  });
}

export async function isMariaDb(conn: Connection): Promise<boolean> {
  const [rows] = await conn.query<RowDataPacket[]>('SELECT VERSION() AS v');
  return /mariadb/i.test(String(rows[0]?.['v'] ?? ''));
}

export async function closeQuietly(conn: Connection | null | undefined): Promise<void> {
  if (!conn) return;
  await conn.end().catch(() => conn.destroy());
}
