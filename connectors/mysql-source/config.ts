import type { ConnectionOptions } from 'mysql2';
import { ConfigError, type TlsSettings } from '../../src/api/index.js';

/**
 * What the MySQL/MariaDB source needs. The CLI fills it from the pipeline config
 * (`source.url`, `source.password`, `source.serverId`, `source.heartbeatIntervalMs`); tests and
 * the source-main entry build it directly (or from a URL with `mysqlSourceConfigFromUrl`).
 */
export interface MysqlSourceConfig {
  host: string;
  port: number;
  user: string;
  password?: string;
  /**
   * Replication server id ferry presents when it reads the binlog. Must be unique among the
   * servers and replicas of the topology and among ferry pipelines on the same server.
   */
  serverId: number;
  /**
   * How often (ms) a checkpoint is emitted for transactions that touch no captured table, so the
   * stored position keeps up on a busy server. Default 10 000.
   */
  heartbeatIntervalMs?: number;
  /**
   * DML on a captured table written to the binlog as a statement (a session with binlog_format
   * STATEMENT or MIXED): `fail` (default) stops with FERRY_STATEMENT_DML; `warn` logs and counts
   * it (ferry_errors_total) and goes on without its row changes.
   */
  statementDml?: 'fail' | 'warn';
  /** Events buffered by the binlog reader before it pauses the socket. Default 2000. */
  readBuffer?: number;
  /** Connect timeout (ms). Default 10 000. */
  connectTimeoutMs?: number;
  /** `source.tls`, for naming the field in TLS errors (the mysql2 `ssl` option comes in `driver`). */
  tls?: TlsSettings;
  /** Extra mysql2 options (e.g. `ssl`). */
  driver?: Partial<ConnectionOptions>;
}

/** Parses `mysql://user:password@host:port[/db]` (also `mariadb://`). The database part is ignored. */
export function mysqlSourceConfigFromUrl(
  url: string,
  extra: Omit<MysqlSourceConfig, 'host' | 'port' | 'user' | 'password'>,
): MysqlSourceConfig {
  let u: URL;
  try {
    u = new URL(url.replace(/^mariadb:/, 'mysql:'));
  } catch {
    throw new ConfigError('source.url', 'expected mysql://user:password@host:3306/database');
  }
  if (u.protocol !== 'mysql:') throw new ConfigError('source.url', `expected a mysql:// URL, got ${u.protocol}//`);
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...extra,
  };
}

/**
 * mysql2 options shared by every connection of the connector: values as exact strings (dates,
 * big integers, decimals, JSON), utf8mb4, and TIMESTAMP rendered in UTC. `timezone: 'Z'` makes
 * zongji render binlog TIMESTAMPs (epoch seconds) in UTC; query connections additionally run
 * `SET time_zone = '+00:00'` because the server renders TIMESTAMP text in the session zone.
 */
export function connectionOptions(cfg: MysqlSourceConfig): ConnectionOptions {
  return {
    host: cfg.host,
    port: cfg.port,
    user: cfg.user,
    ...(cfg.password === undefined ? {} : { password: cfg.password }),
    charset: 'utf8mb4',
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    jsonStrings: true,
    timezone: 'Z',
    connectTimeout: cfg.connectTimeoutMs ?? 10_000,
    enableKeepAlive: true,
    keepAliveInitialDelay: 10_000,
    ...(cfg.driver ?? {}),
  };
}

/** Where the connector reads from, for messages (never the password). */
export function describeServer(cfg: MysqlSourceConfig): string {
  return `${cfg.user}@${cfg.host}:${cfg.port}`;
}
