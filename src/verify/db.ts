/**
 * The two database connections of a verify run, behind one small interface: a query returns
 * rows as arrays of raw driver values. Every session is set up so that the canonical SQL
 * expressions (canonical-sql.ts) and the client-side encoders see the same text:
 * - MySQL/MariaDB: time_zone '+00:00' (TIMESTAMP in UTC), utf8mb4, dates, big integers,
 *   decimals and JSON as strings (never JS Dates or rounded numbers).
 * - PostgreSQL: TimeZone UTC, DateStyle ISO, IntervalStyle iso_8601, extra_float_digits 1
 *   (shortest round-trip floats), every value returned as its text form.
 */
import mysql from 'mysql2/promise';
import pg from 'pg';
import { FerryError } from '../api/errors.js';
import { isTransientNetworkError } from '../api/network.js';
import { mysqlSslOptions, tlsConnectOptions, tlsFailure } from '../api/tls.js';
import type { EngineKind, VerifyEndpoint } from './types.js';

export type Flavor = 'mariadb' | 'mysql' | 'postgres';

export interface VerifyDb {
  readonly kind: EngineKind;
  readonly flavor: Flavor;
  /** `mysql 127.0.0.1:3306` — for messages, never with credentials. */
  readonly describe: string;
  /** Runs one statement with positional parameters; rows as arrays of raw values. */
  query(sql: string, params?: unknown[]): Promise<unknown[][]>;
  close(): Promise<void>;
}

function describeEndpoint(e: VerifyEndpoint): string {
  return `${e.kind} ${e.host}:${e.port}${e.database ? `/${e.database}` : ''}`;
}

const MYSQL_AUTH = new Set([1044, 1045, 1142, 1143, 1227, 1698]);
const PG_AUTH = new Set(['28P01', '28000', '42501']);

/** mysql2 options shared with cutover: utf8mb4; dates, big integers, decimals and JSON as strings. */
export const MYSQL_TEXT_OPTIONS = {
  charset: 'utf8mb4',
  dateStrings: true,
  supportBigNumbers: true,
  bigNumberStrings: true,
  decimalNumbers: false,
  jsonStrings: true,
} as const satisfies mysql.ConnectionOptions;

/** An endpoint's connection fields, as both drivers name them. Shared with cutover. */
export function connectionFields(e: VerifyEndpoint) {
  return { host: e.host, port: e.port, user: e.user, password: e.password, database: e.database };
}

/** mysql2's connection fields of an endpoint, TLS included. */
export function mysqlConnectionFields(e: VerifyEndpoint): mysql.ConnectionOptions {
  const ssl = mysqlSslOptions(e.tls);
  return { ...connectionFields(e), ...(ssl ? { ssl: ssl as mysql.SslOptions } : {}) };
}

/** pg's connection fields of an endpoint, TLS included. */
export function pgConnectionFields(e: VerifyEndpoint): pg.ClientConfig {
  const ssl = tlsConnectOptions(e.tls, e.host);
  return { ...connectionFields(e), ...(ssl ? { ssl } : {}) };
}

/** Turns a driver error into a FerryError naming the side and what to do. */
export function dbError(err: unknown, where: string, sql?: string): FerryError {
  if (err instanceof FerryError) return err;
  const tls = tlsFailure(err, where, undefined, '<source|sink>.tls');
  if (tls) return tls;
  const e = err as { errno?: number; code?: string; message?: string };
  const message = e.message ?? String(err);
  if ((e.errno !== undefined && MYSQL_AUTH.has(e.errno)) || (e.code !== undefined && PG_AUTH.has(e.code))) {
    return new FerryError(
      'FERRY_AUTH',
      `${where} refused the login or a read: ${message}. verify needs SELECT on the compared tables.`,
      {
        cause: err,
      },
    );
  }
  if (isTransientNetworkError(e)) {
    return new FerryError('FERRY_CONNECTION', `cannot reach ${where}: ${message}`, { cause: err, retriable: true });
  }
  return new FerryError('FERRY_INTERNAL', `${where} rejected a verify query: ${message}`, {
    cause: err,
    details: sql === undefined ? {} : { sql: sql.slice(0, 500) },
  });
}

async function connectMysql(e: VerifyEndpoint, poolSize: number): Promise<VerifyDb> {
  const where = describeEndpoint(e);
  const pool = mysql.createPool({
    ...mysqlConnectionFields(e),
    ...MYSQL_TEXT_OPTIONS,
    connectionLimit: poolSize,
    waitForConnections: true,
  });
  pool.on('connection', (conn) => {
    conn.on('error', () => undefined);
  });
  const ready = new WeakSet<object>();
  const run = async (sql: string, params: unknown[]): Promise<unknown[][]> => {
    const conn = await pool.getConnection().catch((err: unknown) => {
      throw dbError(err, where);
    });
    try {
      const core = conn.connection as object;
      if (!ready.has(core)) {
        await conn.query("SET SESSION time_zone = '+00:00'");
        ready.add(core);
      }
      const [rows] = await conn.query({ sql, rowsAsArray: true }, params);
      return rows as unknown[][];
    } catch (err) {
      throw dbError(err, where, sql);
    } finally {
      conn.release();
    }
  };
  let version: string;
  try {
    version = String((await run('SELECT VERSION()', []))[0]?.[0] ?? '');
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  return {
    kind: 'mysql',
    flavor: /mariadb/i.test(version) ? 'mariadb' : 'mysql',
    describe: where,
    query: (sql, params = []) => run(sql, params),
    close: () => pool.end(),
  };
}

/** Every PostgreSQL value as its text form; encoders and SQL expressions both start from text. */
export const PG_TEXT_TYPES: pg.CustomTypesConfig = {
  getTypeParser: (() => (value: string) => value) as unknown as pg.CustomTypesConfig['getTypeParser'],
};

async function connectPostgres(e: VerifyEndpoint, poolSize: number): Promise<VerifyDb> {
  const where = describeEndpoint(e);
  const pool = new pg.Pool({
    ...pgConnectionFields(e),
    max: poolSize,
    types: PG_TEXT_TYPES,
    options: '-c TimeZone=UTC -c DateStyle=ISO,YMD -c IntervalStyle=iso_8601 -c extra_float_digits=1',
  });
  pool.on('error', () => undefined);
  const run = async (sql: string, params: unknown[]): Promise<unknown[][]> => {
    try {
      const result = await pool.query({ text: sql, values: params, rowMode: 'array' });
      return result.rows as unknown[][];
    } catch (err) {
      throw dbError(err, where, sql);
    }
  };
  try {
    const encoding = String((await run('SHOW server_encoding', []))[0]?.[0] ?? '');
    if (encoding !== 'UTF8') {
      throw new FerryError(
        'FERRY_PREFLIGHT',
        `${where} uses server encoding ${encoding}; ferry verify compares text as UTF-8 and needs a UTF8 database.`,
      );
    }
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  return {
    kind: 'postgres',
    flavor: 'postgres',
    describe: where,
    query: (sql, params = []) => run(sql, params),
    close: () => pool.end(),
  };
}

/** Opens a small pool to one side (`poolSize` connections at most). */
export function connectVerifyDb(endpoint: VerifyEndpoint, poolSize: number): Promise<VerifyDb> {
  return endpoint.kind === 'mysql' ? connectMysql(endpoint, poolSize) : connectPostgres(endpoint, poolSize);
}
