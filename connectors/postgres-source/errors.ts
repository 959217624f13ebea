/**
 * Sorting PostgreSQL and network errors into ferry's codes: connection problems are retriable
 * (the runtime reconnects from the stored LSN), credentials and privileges are not, and a lost
 * slot or removed WAL is FERRY_POSITION_LOST.
 */
import { FerryError, isFerryError, isTransientNetworkError, tlsFailure } from '../../src/api/index.js';

/** SQLSTATE of a pg DatabaseError, or the errno code of a network error. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** True for errors that mean "the connection is gone or not possible right now". */
export function isConnectionError(err: unknown): boolean {
  const code = errorCode(err);
  if (isTransientNetworkError(err) || (code && (code.startsWith('08') || code.startsWith('57P') || code === '53300'))) {
    return true;
  }
  return /Connection terminated|connection timeout|timeout expired|Client has encountered a connection error|not queryable|socket hang up|the database system is (starting up|shutting down|in recovery)/i.test(
    message(err),
  );
}

/** Wraps an error of a PostgreSQL operation (`what`, e.g. "streaming from slot ferry_x") into a FerryError. */
export function pgError(err: unknown, what: string): FerryError {
  if (isFerryError(err)) return err;
  const tls = tlsFailure(err, `source PostgreSQL (${what})`, undefined, 'source.tls');
  if (tls) return tls;
  const code = errorCode(err);
  const text = `${what}: ${message(err)}`;
  const details: Record<string, unknown> = code ? { sqlstate: code } : {};
  if (code === '28P01' || code === '28000') {
    return new FerryError('FERRY_AUTH', `${text}. Check the user and password in source.url.`, { cause: err, details });
  }
  if (code === '42501') {
    return new FerryError('FERRY_AUTH', `${text}. Grant the privilege named above to the ferry user.`, {
      cause: err,
      details,
    });
  }
  if (code === '55006') {
    return new FerryError(
      'FERRY_CONNECTION',
      `${text}. Another process is reading the slot (a previous ferry process that has not exited yet, or a second pipeline with the same slot); retrying.`,
      { cause: err, details, retriable: true },
    );
  }
  if (isConnectionError(err)) {
    return new FerryError('FERRY_CONNECTION', text, { cause: err, details, retriable: true });
  }
  if (code === '58P01' || /can no longer get changes from replication slot|has already been removed/i.test(text)) {
    return new FerryError(
      'FERRY_POSITION_LOST',
      `${text}. The WAL ferry needs is gone; drop the slot and re-snapshot (docs/postgres-source.md#re-snapshot).`,
      { cause: err, details },
    );
  }
  if (code === undefined) {
    // Neither a server error nor a network failure: a bug, retrying would loop.
    return new FerryError('FERRY_INTERNAL', text, { cause: err, details });
  }
  return new FerryError('FERRY_CONNECTION', text, { cause: err, details });
}
