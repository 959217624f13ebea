/** Shared pieces of the MySQL source integration and fault tests. */
import type { Kafka } from 'kafkajs';
import type mysql from 'mysql2/promise';
import { createMysqlSource, type MysqlSourceConfig } from '../../connectors/mysql-source/index.js';
import type { Logger, TableFilter } from '../../src/api/index.js';
import { createLogger } from '../../src/log/index.js';
import { FerryMetrics } from '../../src/metrics/metrics.js';
import { SourceRuntime, type SourceRuntimeOptions } from '../../src/runtime/source/runtime.js';
import { getSandbox, mysqlRoot } from '../helpers/sandbox.js';

let serverIds = 5000 + Math.floor(Math.random() * 100_000);

/** The ferry CDC user of the sandbox MariaDB, with a fresh replication server id. */
export function mysqlConfig(): MysqlSourceConfig {
  const m = getSandbox().mysql;
  return {
    host: m.host,
    port: m.port,
    user: m.user,
    password: m.password,
    serverId: serverIds++,
    heartbeatIntervalMs: 500,
  };
}

export function testLogger(): Logger {
  return createLogger({ level: (process.env['FERRY_TEST_LOG'] as 'debug' | undefined) ?? 'warn', format: 'json' });
}

export function filterFor(db: string, extra: Partial<TableFilter> = {}): TableFilter {
  return { include: [`${db}.*`], exclude: [], excludeColumns: [], keyColumns: {}, ...extra };
}

export interface RunningSource {
  runtime: SourceRuntime;
  metrics: FerryMetrics;
  /** Settles when run() ends; rejects with its error. */
  done: Promise<void>;
  stop(): Promise<void>;
}

/** Runs a MySQL SourceRuntime in this process. */
export function startSource(
  kafka: Kafka,
  pipeline: string,
  filter: TableFilter,
  extra: Partial<SourceRuntimeOptions> = {},
  config: MysqlSourceConfig = mysqlConfig(),
): RunningSource {
  const metrics = new FerryMetrics(pipeline);
  const runtime = new SourceRuntime({
    pipeline,
    connector: createMysqlSource(config),
    kafka,
    filter,
    logger: testLogger(),
    metrics,
    chunkSize: 100,
    reconnectMinMs: 200,
    reconnectMaxMs: 2000,
    ...extra,
  });
  const done = runtime.run();
  done.catch(() => undefined);
  return { runtime, metrics, done, stop: () => runtime.stop() };
}

/** Waits until `cond` holds, polling. */
export async function until(
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
  what = 'condition',
): Promise<void> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A root connection with a fresh database; `sql` runs statements in it. */
export async function freshDatabase(
  name: string,
): Promise<{ conn: mysql.Connection; sql: (q: string, v?: unknown[]) => Promise<unknown> }> {
  const conn = await mysqlRoot();
  await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
  await conn.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  await conn.query(`USE \`${name}\``);
  return { conn, sql: async (q, v) => (await conn.query(q, v))[0] };
}
