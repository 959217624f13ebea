/**
 * Sorts PostgreSQL and network errors into ferry's kinds (docs/sinks.md#errors):
 * - FERRY_CONNECTION, retriable: the server is unreachable, restarting, or the connection broke;
 * - FERRY_APPLY, retriable: a transient conflict (deadlock, serialization failure, lock timeout);
 * - FERRY_AUTH: credentials or privileges; FERRY_SCHEMA: the target's shape does not fit;
 * - FERRY_APPLY, not retriable: the server rejected the data itself (SQLSTATE classes 22, 23,
 *   54, 21); the sink runtime isolates the row and routes it to the dead-letter topic.
 */
import { FerryError, isFerryError } from '../../src/api/index.js';

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
]);

const CONNECTION_STATES = new Set(['57P01', '57P02', '57P03', '53300', '53400', '58000', '58030', '55006']);
const TRANSIENT_STATES = new Set(['40001', '40P01', '55P03', '57014']);
const AUTH_STATES = new Set(['28000', '28P01', '42501']);

interface PgLikeError {
  code?: string;
  message?: string;
  severity?: string;
  detail?: string;
  table?: string;
  column?: string;
  constraint?: string;
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
  const text = `${context}: ${message}${e.detail ? ` (${e.detail})` : ''}`;
  if (
    NETWORK_CODES.has(code) ||
    code.startsWith('08') ||
    CONNECTION_STATES.has(code) ||
    /Connection terminated|connection timeout|Client has encountered a connection error|not queryable|ECONNREFUSED|ECONNRESET/i.test(
      message,
    )
  ) {
    return new FerryError('FERRY_CONNECTION', `${text}. Retrying with backoff.`, {
      cause: err,
      retriable: true,
      details,
    });
  }
  if (TRANSIENT_STATES.has(code)) {
    return new FerryError('FERRY_APPLY', `${text}. Retrying.`, { cause: err, retriable: true, details });
  }
  if (AUTH_STATES.has(code) || code === '3D000') {
    return new FerryError(
      'FERRY_AUTH',
      `${text}. Check sink.url: the user, its password, that the database exists, and that the user may ` +
        'CREATE in the target schemas and INSERT/UPDATE/DELETE/TRUNCATE the target tables.',
      { cause: err, details },
    );
  }
  if (code.startsWith('22') || code.startsWith('23') || code.startsWith('54') || code.startsWith('21')) {
    return new FerryError('FERRY_APPLY', text, { cause: err, details: { ...details, data: true } });
  }
  if (code.startsWith('42') || code.startsWith('0A')) {
    return new FerryError(
      'FERRY_SCHEMA',
      `${text}. The target table does not match the events; see docs/sinks.md#schema-changes.`,
      {
        cause: err,
        details,
      },
    );
  }
  if (code) {
    return new FerryError('FERRY_APPLY', `${text}. Unexpected server error; retrying.`, {
      cause: err,
      retriable: true,
      details,
    });
  }
  return new FerryError('FERRY_INTERNAL', text, { cause: err, details });
}
