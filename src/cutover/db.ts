/**
 * The database sessions of a cutover: one connection per side (so session settings such as
 * `lock_wait_timeout` or `sql_mode` apply to every later statement), rows as arrays of raw
 * driver values, every value as text. It has the shape of verify's VerifyDb, so the catalog
 * helpers of src/verify (listTables, readTableShape, resolveTablePairs) work on it.
 *
 * Errors keep the driver's errno / SQLSTATE in `details`, so callers can tell "not allowed"
 * (isPrivilegeError) from any other failure.
 */
import mysql from 'mysql2/promise';
import pg from 'pg';
import { FerryError } from '../api/errors.js';
import { isTransientNetworkError } from '../api/network.js';
import {
  type Flavor,
  MYSQL_TEXT_OPTIONS,
  mysqlConnectionFields,
  PG_TEXT_TYPES,
  pgConnectionFields,
  type VerifyDb,
} from '../verify/db.js';
import type { VerifyEndpoint } from '../verify/types.js';

/** Where one side lives: the same shape as a verify endpoint. */
export type CutoverEndpoint = VerifyEndpoint;

export interface CutoverDb extends VerifyDb {
  readonly endpoint: CutoverEndpoint;
}

/** `mysql 127.0.0.1:3306` — for messages, never with credentials. */
export function describeEndpoint(e: CutoverEndpoint): string {
  return `${e.kind} ${e.user}@${e.host}:${e.port}${e.database ? `/${e.database}` : ''}`;
}

const MYSQL_PRIVILEGE = new Set([1044, 1045, 1142, 1143, 1227, 1370, 1698]);
const PG_PRIVILEGE = new Set(['42501', '28P01', '28000']);

/** True when the database refused a statement for lack of privileges (or refused the login). */
export function isPrivilegeError(err: unknown): boolean {
  const d = err instanceof FerryError ? err.details : ((err ?? {}) as Record<string, unknown>);
  const errno = d['errno'];
  const code = d['code'] ?? d['sqlState'];
  return (
    (typeof errno === 'number' && MYSQL_PRIVILEGE.has(errno)) || (typeof code === 'string' && PG_PRIVILEGE.has(code))
  );
}

function dbError(err: unknown, where: string, sql?: string): FerryError {
  if (err instanceof FerryError) return err;
  const e = err as { errno?: number; code?: string; message?: string };
  const message = e.message ?? String(err);
  const details: Record<string, unknown> = {};
  if (typeof e.errno === 'number') details['errno'] = e.errno;
  if (typeof e.code === 'string') details['code'] = e.code;
  if (sql !== undefined) details['sql'] = sql.slice(0, 300);
  if (isTransientNetworkError(e)) {
    return new FerryError('FERRY_CONNECTION', `cannot reach ${where}: ${message}`, {
      cause: err,
      retriable: true,
      details,
    });
  }
  const privilege =
    (typeof e.errno === 'number' && MYSQL_PRIVILEGE.has(e.errno)) ||
    (typeof e.code === 'string' && PG_PRIVILEGE.has(e.code));
  return new FerryError(privilege ? 'FERRY_AUTH' : 'FERRY_PREFLIGHT', `${where}: ${message}`, { cause: err, details });
}

async function connectMysql(e: CutoverEndpoint): Promise<CutoverDb> {
  const where = describeEndpoint(e);
  let conn: mysql.Connection;
  try {
    conn = await mysql.createConnection({
      ...mysqlConnectionFields(e),
      ...MYSQL_TEXT_OPTIONS,
      connectTimeout: 10_000,
    });
  } catch (err) {
    throw dbError(err, where);
  }
  conn.on('error', () => undefined);
  const run = async (sql: string, params: unknown[]): Promise<unknown[][]> => {
    try {
      const [rows] = await conn.query({ sql, rowsAsArray: true }, params);
      return Array.isArray(rows) ? (rows as unknown[][]) : [];
    } catch (err) {
      throw dbError(err, where, sql);
    }
  };
  let version = '';
  try {
    await run("SET SESSION time_zone = '+00:00'", []);
    version = String((await run('SELECT VERSION()', []))[0]?.[0] ?? '');
  } catch (err) {
    await conn.end().catch(() => conn.destroy());
    throw err;
  }
  const flavor: Flavor = /mariadb/i.test(version) ? 'mariadb' : 'mysql';
  return {
    kind: 'mysql',
    flavor,
    endpoint: e,
    describe: where,
    query: (sql, params = []) => run(sql, params),
    close: async () => {
      await conn.end().catch(() => conn.destroy());
    },
  };
}

async function connectPostgres(e: CutoverEndpoint): Promise<CutoverDb> {
  const where = describeEndpoint(e);
  const client = new pg.Client({
    ...pgConnectionFields(e),
    types: PG_TEXT_TYPES,
    application_name: 'ferry:cutover',
    connectionTimeoutMillis: 10_000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw dbError(err, where);
  }
  return {
    kind: 'postgres',
    flavor: 'postgres',
    endpoint: e,
    describe: where,
    query: async (sql, params = []) => {
      try {
        const result = await client.query({ text: sql, values: params, rowMode: 'array' });
        return (result.rows ?? []) as unknown[][];
      } catch (err) {
        throw dbError(err, where, sql);
      }
    },
    close: async () => {
      await client.end().catch(() => undefined);
    },
  };
}

/** Opens one session to a database. */
export function connectCutoverDb(endpoint: CutoverEndpoint): Promise<CutoverDb> {
  return endpoint.kind === 'mysql' ? connectMysql(endpoint) : connectPostgres(endpoint);
}

/** Runs `fn` inside a transaction on `db` (PostgreSQL DDL is transactional; MySQL's is not). */
export async function inTransaction<T>(db: CutoverDb, fn: () => Promise<T>): Promise<T> {
  await db.query('BEGIN');
  try {
    const result = await fn();
    await db.query('COMMIT');
    return result;
  } catch (err) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
