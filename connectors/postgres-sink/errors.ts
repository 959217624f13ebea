/**
 * Sorts PostgreSQL and network errors into ferry's kinds (docs/sinks.md#errors):
 * - FERRY_CONNECTION, retriable: the server is unreachable, restarting, or the connection broke;
 * - FERRY_APPLY, retriable: a transient conflict (deadlock, serialization failure, lock timeout);
 * - FERRY_AUTH: credentials or privileges; FERRY_SCHEMA: the target's shape does not fit;
 * - FERRY_APPLY, not retriable: the server rejected the data itself (SQLSTATE classes 22, 23,
 *   54, 21); the sink runtime isolates the row and routes it to the dead-letter topic.
 * The errors themselves are built by sqlSinkError, the same for every SQL sink.
 */
import { type FerryError, isFerryError, isTransientNetworkError } from '../../src/api/index.js';
import { type SqlErrorKind, sqlSinkError } from '../../src/sql-sink/index.js';

const CONNECTION_STATES = new Set(['57P01', '57P02', '57P03', '53300', '53400', '58000', '58030', '55006']);
const TRANSIENT_STATES = new Set(['40001', '40P01', '55P03', '57014']);
const AUTH_STATES = new Set(['28000', '28P01', '42501']);
/** node-postgres reports some broken connections by message only. */
const CONNECTION_MESSAGE =
  /Connection terminated|connection timeout|Client has encountered a connection error|not queryable|ECONNREFUSED|ECONNRESET/i;

const AUTH_HINT =
  'Check sink.url: the user, its password, that the database exists, and that the user may ' +
  'CREATE in the target schemas and INSERT/UPDATE/DELETE/TRUNCATE the target tables.';

interface PgLikeError {
  code?: string;
  message?: string;
  severity?: string;
  detail?: string;
  table?: string;
  column?: string;
  constraint?: string;
}

function kindOf(code: string, message: string): SqlErrorKind {
  if (
    isTransientNetworkError({ code }) ||
    code.startsWith('08') ||
    CONNECTION_STATES.has(code) ||
    CONNECTION_MESSAGE.test(message)
  ) {
    return 'connection';
  }
  if (TRANSIENT_STATES.has(code)) return 'transient';
  if (AUTH_STATES.has(code) || code === '3D000') return 'auth';
  if (code.startsWith('22') || code.startsWith('23') || code.startsWith('54') || code.startsWith('21')) return 'data';
  if (code.startsWith('42') || code.startsWith('0A')) return 'schema';
  return code ? 'server' : 'unknown';
}

export function classifyPgError(err: unknown, context: string): FerryError {
  if (isFerryError(err)) return err;
  const e = (err ?? {}) as PgLikeError;
  const code = typeof e.code === 'string' ? e.code : '';
  const message = err instanceof Error ? err.message : String(err);
  const details: Record<string, unknown> = { sqlstate: code || undefined };
  if (e.detail) details['detail'] = e.detail;
  if (e.table) details['table'] = e.table;
  if (e.column) details['column'] = e.column;
  if (e.constraint) details['constraint'] = e.constraint;
  return sqlSinkError(kindOf(code, message), {
    text: `${context}: ${message}${e.detail ? ` (${e.detail})` : ''}`,
    cause: err,
    details,
    authHint: AUTH_HINT,
  });
}
