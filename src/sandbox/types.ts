/**
 * Shapes of the local sandbox: what `ferry sandbox up` writes to `<dir>/sandbox.json` and what
 * tests, the demo and benchmarks read back. The top-level `kafka`, `mysql` and `postgres` keys
 * are a contract with the rest of ferry: fields may be added, never renamed.
 */

/** The three servers of a sandbox. `mysql` is the MySQL-family server, run as MariaDB here. */
export type ServerName = 'kafka' | 'postgres' | 'mysql' | 'redis';

export const SERVER_NAMES: readonly ServerName[] = ['kafka', 'postgres', 'mysql', 'redis'];

export interface KafkaInfo {
  brokers: string[];
}

export interface MysqlInfo {
  host: string;
  port: number;
  /** The CDC user (`ferry`@`%`): replication privileges plus DDL/DML on all databases. */
  user: string;
  password: string;
  rootUser: string;
  rootPassword: string;
  /** `mysql://user:password@host:port` for pipeline configs. */
  url: string;
}

export interface PostgresInfo {
  host: string;
  port: number;
  /** The CDC role `ferry`: LOGIN REPLICATION CREATEDB, owner of database `ferry`. */
  user: string;
  password: string;
  database: string;
  superUser: string;
  superPassword: string;
  /** `postgres://user:password@host:port/database` for pipeline configs. */
  url: string;
}

export interface RedisInfo {
  host: string;
  port: number;
  /** Password of the `default` user (requirepass). */
  password: string;
  /** `redis://default:password@host:port` for pipeline configs. */
  url: string;
}

/** A `--tls` sandbox: every server takes TLS only, with certificates of a throwaway CA. */
export interface TlsInfo {
  /** PEM of the CA that signed every server certificate: clients put it in `tls.ca`. */
  caFile: string;
  /** The servers' certificate (SANs 127.0.0.1 and localhost) and key. */
  certFile: string;
  keyFile: string;
  /** Kafka's SASL_SSL listener; `kafka.brokers` is its SSL listener (no SASL). */
  kafkaSaslBrokers: string[];
  saslMechanism: 'scram-sha-512';
  saslUser: string;
  saslPassword: string;
}

/** Bookkeeping of one server process; pid files under `<dir>/run/` are the truth, this is a snapshot. */
export interface ServerRuntime {
  /** pid of the running server (process-group leader), null when stopped. */
  pid: number | null;
  pidFile: string;
  logFile: string;
  dataDir: string;
  /** True once the data directory was initialised; its port is then kept for good. */
  initialized: boolean;
}

export interface SandboxState {
  version: 1;
  dir: string;
  updatedAt: string;
  servers: {
    kafka: ServerRuntime & { controllerPort: number; clusterId: string; configFile: string; saslPort?: number };
    postgres: ServerRuntime & { binDir: string | null; osUser: string | null };
    mysql: ServerRuntime & { socket: string };
    redis: ServerRuntime;
  };
}

export interface SandboxInfo {
  kafka: KafkaInfo;
  mysql: MysqlInfo;
  postgres: PostgresInfo;
  /** Added after the first version: sandbox.json files without it get it on the next `sandbox up`. */
  redis: RedisInfo;
  /** Set for a sandbox made with `--tls`: TLS-only servers (docs/security.md). */
  tls?: TlsInfo;
  /** Process bookkeeping (pids, data dirs, logs). */
  sandbox: SandboxState;
}

export type LogFn = (line: string) => void;

export interface SandboxOptions {
  /** Sandbox directory; default `<project root>/.ferry`. */
  dir?: string;
  /** Progress lines (one per step); default: silent. */
  log?: LogFn;
}

export interface SandboxUpOptions extends SandboxOptions {
  /** Start only these servers (the others keep their state); default all three. */
  only?: ServerName[];
  /**
   * TLS-only servers (a new sandbox only; an existing one keeps what it was made with): a
   * throwaway CA, PostgreSQL hostssl only, MariaDB require_secure_transport, Kafka SSL and
   * SASL_SSL listeners, Redis on a tls-port.
   */
  tls?: boolean;
}

export interface StopServerOptions extends SandboxOptions {
  /**
   * `graceful` (default): the server's own clean shutdown (SIGTERM; SIGINT = fast shutdown for
   * PostgreSQL), SIGKILL of the process group after 30 s. `kill`: SIGKILL the process group at
   * once, like a crash (fault tests).
   */
  mode?: 'graceful' | 'kill';
}

export interface ServerStatus {
  running: boolean;
  pid: number | null;
  port: number;
  logFile: string;
}
