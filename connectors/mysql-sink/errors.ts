/**
 * Sorts MySQL/MariaDB and network errors into ferry's kinds (docs/sinks.md#errors): connection
 * (retriable), transient conflicts (retriable), auth/privileges, schema mismatches, and data
 * errors (the server rejected a value; the runtime routes the row to the dead-letter topic).
 * The errors themselves are built by sqlSinkError, the same for every SQL sink.
 */
import { type FerryError, isFerryError, isTransientNetworkError } from '../../src/api/index.js';
import { type SqlErrorKind, sqlSinkError } from '../../src/sql-sink/index.js';

/** mysql2's own codes for a lost or unusable connection (besides Node's network codes). */
const DRIVER_CONNECTION_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'PROTOCOL_ENQUEUE_AFTER_QUIT',
  'ER_SERVER_SHUTDOWN',
  'ER_CON_COUNT_ERROR',
]);
const CONNECTION_ERRNOS = new Set([1040, 1053, 1152, 1158, 1159, 1160, 1161, 1927, 2002, 2003, 2006, 2013, 2055]);
const TRANSIENT_ERRNOS = new Set([1205, 1213, 1614, 1637]);
const AUTH_ERRNOS = new Set([1044, 1045, 1049, 1142, 1143, 1227, 1370, 1698, 1862]);
const SCHEMA_ERRNOS = new Set([1054, 1059, 1064, 1071, 1103, 1118, 1146, 1166, 1170, 1072, 1074, 1101, 1163]);
/**
 * ER_NET_PACKET_TOO_LARGE: one statement (one row, once the batch is split) is larger than the
 * server's max_allowed_packet. The row can never be applied as it is, so it is a data error; the
 * server closes the connection after it, so the session must reconnect.
 */
const PACKET_TOO_LARGE = 1153;
const DATA_ERRNOS = new Set([
  1048, 1062, 1136, 1264, 1265, 1292, 1298, 1366, 1367, 1406, 1411, 1416, 1451, 1452, 1690, 3140, 3819, 4025, 4078,
  4079,
]);

const AUTH_HINT =
  'Check sink.url: the user, its password, the database, and that the user may CREATE, ALTER, INSERT, ' +
  'UPDATE and DELETE in the target databases.';

interface MySqlLikeError {
  code?: string;
  errno?: number;
  sqlState?: string;
  sqlMessage?: string;
  fatal?: boolean;
}

function kindOf(code: string, errno: number, state: string, fatal: boolean): SqlErrorKind {
  if (errno === PACKET_TOO_LARGE) return 'data';
  if (
    isTransientNetworkError({ code }) ||
    DRIVER_CONNECTION_CODES.has(code) ||
    CONNECTION_ERRNOS.has(errno) ||
    state.startsWith('08') ||
    fatal
  ) {
    return 'connection';
  }
  if (TRANSIENT_ERRNOS.has(errno) || state === '40001') return 'transient';
  if (AUTH_ERRNOS.has(errno) || state === '28000') return 'auth';
  if (DATA_ERRNOS.has(errno) || state.startsWith('22') || state.startsWith('23')) return 'data';
  if (SCHEMA_ERRNOS.has(errno) || state.startsWith('42')) return 'schema';
  return errno > 0 ? 'server' : 'unknown';
}

export function classifyMySqlError(err: unknown, context: string): FerryError {
  if (isFerryError(err)) return err;
  const e = (err ?? {}) as MySqlLikeError;
  const code = typeof e.code === 'string' ? e.code : '';
  const errno = typeof e.errno === 'number' ? e.errno : 0;
  const state = typeof e.sqlState === 'string' ? e.sqlState : '';
  const message = err instanceof Error ? err.message : String(err);
  const details: Record<string, unknown> = {
    code: code || undefined,
    errno: errno || undefined,
    sqlState: state || undefined,
  };
  const kind = kindOf(code, errno, state, e.fatal === true);
  if (errno === PACKET_TOO_LARGE) details.connectionLost = true;
  // A data error's message is the dead-letter reason: it names the server's error number.
  const suffix = kind === 'data' && errno > 0 ? ` (errno ${errno}${state ? `, SQLSTATE ${state}` : ''})` : '';
  return sqlSinkError(kind, {
    text: `${context}: ${message}${suffix}`,
    cause: err,
    details,
    authHint: AUTH_HINT,
  });
}
