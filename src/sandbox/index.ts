/**
 * The local sandbox: real Kafka, PostgreSQL and MariaDB processes for `ferry sandbox up|down`,
 * the demo, the integration and fault tests and the benchmarks. No Docker: plain processes with
 * their data, logs and pid files under one directory (default `<project>/.ferry`).
 */
export { defaultSandboxDir, projectRoot } from './paths.js';
export { readSandboxInfo, sandboxDown, sandboxStatus, sandboxUp, startServer, stopServer } from './sandbox.js';
export type {
  KafkaInfo,
  LogFn,
  MysqlInfo,
  PostgresInfo,
  SandboxInfo,
  SandboxOptions,
  SandboxState,
  SandboxUpOptions,
  ServerName,
  ServerRuntime,
  ServerStatus,
  StopServerOptions,
} from './types.js';
export { SERVER_NAMES } from './types.js';
