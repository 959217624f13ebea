import type { Layout } from './paths.js';
import type { LogFn, SandboxInfo, ServerName } from './types.js';

/** What a server module gets from the orchestrator. */
export interface ServerContext {
  info: SandboxInfo;
  layout: Layout;
  log: LogFn;
  /** Persists `info` to sandbox.json (call after changing it). */
  save(): void;
}

/** One kind of sandbox server (Kafka, PostgreSQL, MariaDB). */
export interface ServerDriver {
  name: ServerName;
  label: string;
  /** The shutdown signal its server treats as "clean shutdown, now". */
  stopSignal: NodeJS.Signals;
  /** A string found in the server process's command line (data dir or config path). */
  marker(info: SandboxInfo): string;
  /** Prepares config and data dir (initialising them the first time) and spawns the server; returns its pid. */
  launch(ctx: ServerContext): Promise<number>;
  /** Waits until the server answers and its users exist (idempotent, also run for an already running server). */
  ready(ctx: ServerContext, pid: number): Promise<void>;
}
