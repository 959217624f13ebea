/**
 * The FerryErrors of a SQL sink (docs/sinks.md#errors), the same for every engine: a
 * connector's classifier only decides the kind of a driver error from its engine's codes.
 */
import { FerryError } from '../api/errors.js';

/**
 * - `connection`: unreachable, restarting, or the connection broke (retried with backoff);
 * - `transient`: deadlock, serialization failure, lock timeout (retried);
 * - `auth`: credentials or privileges; `schema`: the target's shape does not fit the events;
 * - `data`: the server rejected a value (the runtime isolates the row and dead-letters it);
 * - `server`: any other server error (retried); `unknown`: not from the server at all.
 */
export type SqlErrorKind = 'connection' | 'transient' | 'auth' | 'data' | 'schema' | 'server' | 'unknown';

export interface SqlErrorContext {
  /** `<what was being done>: <the driver's message>`. */
  text: string;
  cause: unknown;
  /** The server's codes and fields (never secrets). */
  details: Record<string, unknown>;
  /** What to check when the server refused the credentials or privileges. */
  authHint: string;
}

export function sqlSinkError(kind: SqlErrorKind, e: SqlErrorContext): FerryError {
  const { text, cause, details } = e;
  switch (kind) {
    case 'connection':
      return new FerryError('FERRY_CONNECTION', `${text}. Retrying with backoff.`, { cause, retriable: true, details });
    case 'transient':
      return new FerryError('FERRY_APPLY', `${text}. Retrying.`, { cause, retriable: true, details });
    case 'auth':
      return new FerryError('FERRY_AUTH', `${text}. ${e.authHint}`, { cause, details });
    case 'data':
      return new FerryError('FERRY_APPLY', text, { cause, details: { ...details, data: true } });
    case 'schema':
      return new FerryError(
        'FERRY_SCHEMA',
        `${text}. The target table does not match the events; see docs/sinks.md#schema-changes.`,
        { cause, details },
      );
    case 'server':
      return new FerryError('FERRY_APPLY', `${text}. Unexpected server error; retrying.`, {
        cause,
        retriable: true,
        details,
      });
    default:
      return new FerryError('FERRY_INTERNAL', text, { cause, details });
  }
}
