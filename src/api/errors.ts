/**
 * Every error ferry raises on purpose is a FerryError: a stable `code` (documented in
 * docs/errors.md), whether retrying can help (`retriable`), the underlying `cause`, and a
 * message that says what went wrong and what to do about it.
 */

export const ERROR_CODES = {
  FERRY_CONFIG_INVALID: 'The pipeline configuration does not match the schema; the message names the field.',
  FERRY_CONFIG_FILE: 'The configuration file cannot be read or is not valid YAML.',
  FERRY_CONFIG_ENV: 'An environment variable referenced in the configuration is not set.',
  FERRY_USAGE: 'The command line is wrong: unknown command, option or argument.',
  FERRY_SANDBOX: 'A sandbox server (Kafka, PostgreSQL, MariaDB) could not be prepared, started or stopped.',
  FERRY_PREFLIGHT:
    'A source or target setting, privilege or table shape stops ferry from capturing or applying safely.',
  FERRY_POSITION_LOST:
    'The stored source position cannot be used: it no longer exists on the server (binlog purged, slot dropped), or the only one left was stored by a former active instance (a lower leader epoch).',
  FERRY_CONNECTION: 'A connection to Kafka or a database failed; ferry retries with backoff.',
  FERRY_AUTH: 'A database or Kafka refused the credentials or privileges.',
  FERRY_TLS:
    'A TLS connection to a database or Kafka failed (certificate not signed by the configured CA, expired, or for ' +
    'another name; TLS required or not offered); the message names the endpoint and the tls field to fix.',
  FERRY_MESSAGE_TOO_LARGE: 'An event is larger than the Kafka topic accepts (max.message.bytes).',
  FERRY_DECODE: 'An event or value could not be decoded.',
  FERRY_STATEMENT_DML:
    'Row changes reached the MySQL/MariaDB binlog as an SQL statement (a session with binlog_format STATEMENT ' +
    'or MIXED), not as rows: ferry cannot capture them; the message names the table and position.',
  FERRY_ENCODE: 'A value could not be encoded in the canonical form.',
  FERRY_SCHEMA: 'A table schema change cannot be applied to the target.',
  FERRY_APPLY: 'The target rejected a change.',
  FERRY_VERIFY_MISMATCH: 'The target differs from the source.',
  FERRY_FENCED:
    'This source instance is no longer the active one (source.failover): another instance took over; it stops publishing and waits as a standby.',
  FERRY_INTERNAL: 'A bug in ferry; please report it with the log.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface FerryErrorOptions {
  retriable?: boolean;
  cause?: unknown;
  /** Structured context (table, field, position…). Never put secrets here. */
  details?: Record<string, unknown>;
}

export class FerryError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: FerryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FerryError';
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.details = options.details ?? {};
  }
}

export class ConfigError extends FerryError {
  /** Dotted path of the offending field, e.g. `sink.url`; empty for the whole file. */
  readonly path: string;
  constructor(path: string, message: string, options: FerryErrorOptions = {}) {
    super('FERRY_CONFIG_INVALID', path ? `${path}: ${message}` : message, options);
    this.name = 'ConfigError';
    this.path = path;
  }
}

export function isFerryError(err: unknown): err is FerryError {
  return err instanceof FerryError;
}

/** Wraps anything thrown into a FerryError, keeping the original as `cause`. */
export function toFerryError(err: unknown, code: ErrorCode = 'FERRY_INTERNAL'): FerryError {
  if (err instanceof FerryError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new FerryError(code, message, { cause: err });
}
