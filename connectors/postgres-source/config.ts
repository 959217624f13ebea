/**
 * Options of the PostgreSQL source and the connection settings derived from them. Invalid
 * combinations fail when the connector is created, not later.
 */
import type { ClientConfig } from 'pg';
import { ConfigError, type TlsSettings } from '../../src/api/index.js';

export interface PostgresConnection {
  host: string;
  port?: number;
  user: string;
  password?: string;
  database: string;
  /** TLS: true for the system CAs, or tls.connect options. */
  ssl?: boolean | Record<string, unknown>;
}

export interface PostgresSourceOptions {
  /** `postgres://user:password@host:5432/database[?sslmode=require]`, or the parts in `connection`. */
  url?: string;
  connection?: PostgresConnection;
  /** Overrides the password of `url`. */
  password?: string;
  /** `source.tls`, for naming the field in TLS errors (the pg `ssl` option comes in `connection.ssl`). */
  tls?: TlsSettings;
  /** Logical replication slot; default `ferry_<pipeline>` with `-` replaced by `_`. */
  slot?: string;
  /** Publication listing the captured tables; default like `slot`. */
  publication?: string;
  /** Create the publication, or set its table list, when it does not match the captured tables. Default true. */
  createPublication?: boolean;
  /**
   * How often (ms) the source writes a heartbeat (pg_logical_emit_message) when it saw no
   * transaction of its own, so the slot advances while captured tables are idle. 0 disables. Default 10 000.
   */
  heartbeatIntervalMs?: number;
  /**
   * How often (ms) the streaming source looks for tables that started to match source.tables
   * (created at the source): it adds them to the publication and they are snapshotted. 0
   * disables. Default 5 000.
   */
  discoverIntervalMs?: number;
  /** pgoutput protocol version; default 1 (PostgreSQL 10+). */
  protoVersion?: 1 | 2;
  /**
   * How often (ms) a standby status update with the last acknowledged LSN is sent even without a
   * keepalive request, so that wal_sender_timeout never fires while Kafka is slow. Default 10 000.
   */
  statusIntervalMs?: number;
  /** Decoded messages buffered before reading from the server pauses (backpressure). Default 2 000. */
  bufferMessages?: number;
  /** Connect timeout, ms. Default 10 000. */
  connectTimeoutMs?: number;
  /** application_name of ferry's sessions. Default `ferry`. */
  applicationName?: string;
}

export interface ResolvedOptions {
  connection: PostgresConnection;
  slot: string | null;
  publication: string | null;
  createPublication: boolean;
  heartbeatIntervalMs: number;
  discoverIntervalMs: number;
  protoVersion: 1 | 2;
  statusIntervalMs: number;
  bufferMessages: number;
  connectTimeoutMs: number;
  applicationName: string;
}

const SLOT_RE = /^[a-z0-9_]{1,63}$/;
const PUBLICATION_RE = /^[a-z_][a-z0-9_]{0,62}$/;

/** `ferry_<pipeline>` with every character PostgreSQL does not allow in slot names replaced by `_`. */
export function defaultObjectName(pipeline: string): string {
  return `ferry_${pipeline.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`.slice(0, 63);
}

/**
 * Session settings of every ferry connection (plain and replication): values are rendered by the
 * server in exactly the forms the canonical encoders read (ISO dates with " BC", UTC offsets,
 * shortest-exact floats, hex bytea), whatever the server's defaults are. pgoutput renders
 * values with the walsender session's settings, so they matter there too.
 */
export const SESSION_OPTIONS = [
  'TimeZone=UTC',
  'DateStyle=ISO,YMD',
  'IntervalStyle=postgres',
  'extra_float_digits=3',
  'bytea_output=hex',
  'search_path=pg_catalog',
]
  .map((s) => `-c ${s}`)
  .join(' ');

function parseUrl(url: string): PostgresConnection {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError('source.url', 'is not a URL; expected postgres://user:password@host:5432/database');
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw new ConfigError('source.url', `scheme "${u.protocol}" is not postgres:// or postgresql://`);
  }
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!database) throw new ConfigError('source.url', 'names no database; expected postgres://user@host:5432/database');
  if (!u.username)
    throw new ConfigError('source.url', 'names no user; expected postgres://user:password@host/database');
  const conn: PostgresConnection = {
    host: decodeURIComponent(u.hostname.replace(/^\[|\]$/g, '')) || '127.0.0.1',
    user: decodeURIComponent(u.username),
    database,
  };
  if (u.port) conn.port = Number(u.port);
  if (u.password) conn.password = decodeURIComponent(u.password);
  const sslmode = u.searchParams.get('sslmode');
  if (sslmode === 'require' || sslmode === 'prefer') conn.ssl = { rejectUnauthorized: false };
  else if (sslmode === 'verify-ca' || sslmode === 'verify-full') conn.ssl = true;
  return conn;
}

function positiveInt(path: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min)
    throw new ConfigError(path, `must be an integer >= ${min}, got ${value}`);
  return value;
}

export function resolveOptions(opts: PostgresSourceOptions): ResolvedOptions {
  if (!opts.url === !opts.connection) {
    throw new ConfigError('source.url', 'give exactly one of `url` and `connection`');
  }
  const connection = opts.url ? parseUrl(opts.url) : { ...opts.connection! };
  if (opts.password !== undefined) connection.password = opts.password;
  if (opts.slot !== undefined && !SLOT_RE.test(opts.slot)) {
    throw new ConfigError(
      'source.slot',
      `"${opts.slot}" is not a valid slot name: use lowercase letters, digits and "_", at most 63 characters`,
    );
  }
  if (opts.publication !== undefined && !PUBLICATION_RE.test(opts.publication)) {
    throw new ConfigError(
      'source.publication',
      `"${opts.publication}" is not allowed: use a lowercase identifier (letters, digits, "_"), at most 63 characters`,
    );
  }
  const protoVersion = opts.protoVersion ?? 1;
  if (protoVersion !== 1 && protoVersion !== 2) {
    throw new ConfigError('source.protoVersion', `must be 1 or 2, got ${String(protoVersion)}`);
  }
  return {
    connection,
    slot: opts.slot ?? null,
    publication: opts.publication ?? null,
    createPublication: opts.createPublication ?? true,
    heartbeatIntervalMs: positiveInt('source.heartbeatIntervalMs', opts.heartbeatIntervalMs, 10_000, 0),
    discoverIntervalMs: positiveInt('source.discoverIntervalMs', opts.discoverIntervalMs, 5_000, 0),
    protoVersion,
    statusIntervalMs: positiveInt('source.statusIntervalMs', opts.statusIntervalMs, 10_000, 100),
    bufferMessages: positiveInt('source.bufferMessages', opts.bufferMessages, 2_000, 1),
    connectTimeoutMs: positiveInt('source.connectTimeoutMs', opts.connectTimeoutMs, 10_000, 100),
    applicationName: opts.applicationName ?? 'ferry',
  };
}

/** Names of the pipeline's slot and publication. */
export function objectNames(opts: ResolvedOptions, pipeline: string): { slot: string; publication: string } {
  return {
    slot: opts.slot ?? defaultObjectName(pipeline),
    publication: opts.publication ?? defaultObjectName(pipeline),
  };
}

/** Every value arrives as the server's text: no pg.types parser (global or not) ever runs. */
const textOnly = { getTypeParser: () => (value: string) => value } as unknown as NonNullable<ClientConfig['types']>;

/** pg client settings for a plain (SQL) session, or a replication session when `replication` is set. */
export function clientConfig(opts: ResolvedOptions, purpose: string): ClientConfig {
  const c = opts.connection;
  const config: ClientConfig = {
    host: c.host,
    user: c.user,
    database: c.database,
    application_name: `${opts.applicationName}:${purpose}`.slice(0, 63),
    options: SESSION_OPTIONS,
    connectionTimeoutMillis: opts.connectTimeoutMs,
    keepAlive: true,
    types: textOnly,
  };
  if (c.port !== undefined) config.port = c.port;
  if (c.password !== undefined) config.password = c.password;
  if (c.ssl !== undefined) config.ssl = c.ssl;
  return config;
}
