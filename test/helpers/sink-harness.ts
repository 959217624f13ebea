/**
 * Running sinks in tests: in-process SinkRuntime instances, or child processes of
 * dist/src/runtime/sink/main.js (SIGKILL tests), and waiting until a sink caught up.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import type { Logger } from '../../src/api/index.js';
import { createKafka } from '../../src/kafka/client.js';
import { createLogger } from '../../src/log/index.js';
import { FerryMetrics } from '../../src/metrics/metrics.js';
import { createSinkConnector, type SinkTargetOptions } from '../../src/runtime/sink/connectors.js';
import type { SinkMainOptions } from '../../src/runtime/sink/main.js';
import { SinkRuntime, type SinkRuntimeOptions } from '../../src/runtime/sink/runtime.js';
import { readSinkProgress, type SinkProgress } from '../../src/runtime/sink/status.js';
import { TransactionSinkRuntime } from '../../src/runtime/sink/transactions/runtime.js';
import { projectRoot } from '../../src/sandbox/index.js';
import { buildDistWhenStale } from './build.js';
import { MYSQL_READ_OPTIONS } from './compare.js';
import { pollUntil } from './poll.js';
import { getSandbox } from './sandbox.js';

export function quietLogger(): Logger {
  return createLogger({
    level: (process.env['FERRY_TEST_LOG'] as 'debug' | 'info' | undefined) ?? 'error',
    format: 'json',
  });
}

/** Connection options of the sandbox's PostgreSQL (database `ferry`) or MariaDB (database `db`) as the ferry user. */
export function sandboxTarget(kind: 'postgres' | 'mysql', database = 'ferry_meta'): SinkTargetOptions {
  const s = getSandbox();
  if (kind === 'postgres') {
    const p = s.postgres;
    return { kind, host: p.host, port: p.port, user: p.user, password: p.password, database: p.database };
  }
  const m = s.mysql;
  return { kind, host: m.host, port: m.port, user: m.user, password: m.password, database };
}

export interface InProcessSink {
  runtime: SinkRuntime | TransactionSinkRuntime;
  metrics: FerryMetrics;
  done: Promise<void>;
  /** Set when run() rejected. */
  failure: Error | null;
  stop(): Promise<void>;
}

export function startSink(
  opts: Omit<SinkRuntimeOptions, 'connector' | 'kafka' | 'logger'> & {
    target: SinkTargetOptions;
    logger?: Logger;
    /** sink.consistency (default row). */
    consistency?: 'row' | 'transaction';
  },
): InProcessSink {
  const { target, logger, consistency, ...rest } = opts;
  const metrics = new FerryMetrics(opts.pipeline);
  const runtime = new (consistency === 'transaction' ? TransactionSinkRuntime : SinkRuntime)({
    sessionTimeoutMs: 6000,
    heartbeatIntervalMs: 1000,
    topicRefreshMs: 1000,
    retryMinMs: 200,
    retryMaxMs: 2000,
    lingerMs: 20,
    ...rest,
    connector: createSinkConnector(target),
    kafka: createKafka({ brokers: getSandbox().kafka.brokers, clientId: 'ferry-sink-test' }, logger ?? quietLogger()),
    logger: logger ?? quietLogger(),
    metrics,
  });
  const done = runtime.run();
  const handle: InProcessSink = { runtime, metrics, done, failure: null, stop: () => runtime.stop() };
  done.catch((err: Error) => {
    handle.failure = err;
  });
  return handle;
}

/** Stored progress of a group against Kafka's end offsets. */
export async function sinkProgress(
  kafka: Kafka,
  pipeline: string,
  group: string,
  target: SinkTargetOptions,
  topics?: string[],
): Promise<SinkProgress> {
  const connector = createSinkConnector(target);
  await connector.start({ pipeline, group, logger: quietLogger() });
  try {
    return await readSinkProgress({ kafka, connector, pipeline, ...(topics ? { topics } : {}) });
  } finally {
    await connector.close();
  }
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false | null>,
  timeoutMs = 60_000,
  intervalMs = 250,
): Promise<T> {
  return pollUntil(what, fn, timeoutMs, intervalMs, (err) => Boolean((err as { fatal?: boolean }).fatal));
}

/** Waits until the group's stored offsets reach Kafka's end offsets on every partition of the topics. */
export async function waitForCaughtUp(
  kafka: Kafka,
  pipeline: string,
  group: string,
  target: SinkTargetOptions,
  topics: string[],
  timeoutMs = 90_000,
  sinks: InProcessSink[] = [],
): Promise<SinkProgress> {
  return waitFor(
    `sink ${group} to catch up`,
    async () => {
      const failed = sinks.find((s) => s.failure);
      if (failed) throw Object.assign(new Error(`the sink failed: ${failed.failure!.message}`), { fatal: true });
      const p = await sinkProgress(kafka, pipeline, group, target, topics);
      return p.totalLag === 0 && p.partitions.every((x) => x.nextOffset !== null || x.endOffset === x.startOffset)
        ? p
        : undefined;
    },
    timeoutMs,
    300,
  );
}

// ---- child processes ----

const SINK_MAIN = join(projectRoot(), 'dist', 'src', 'runtime', 'sink', 'main.js');

/** Builds dist/ when sink/main.js is missing or older than the sink sources (`npm run build` normally did it). */
export function ensureBuilt(): void {
  buildDistWhenStale(
    SINK_MAIN,
    ['src/runtime', 'src/sql-sink', 'connectors/postgres-sink', 'connectors/mysql-sink', 'connectors/redis-sink'],
    'npm run build failed; the sink child process cannot start',
  );
}

export interface SinkProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export function spawnSink(opts: SinkMainOptions, dir: string, name: string): SinkProcess {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(opts, null, 2));
  const log = createWriteStream(join(dir, `${name}.log`), { flags: 'a' });
  const child = spawn(process.execPath, [SINK_MAIN, file], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** SinkMainOptions for the sandbox with fast group settings. */
export function sinkMainOptions(
  pipeline: string,
  group: string,
  target: SinkTargetOptions,
  extra: Partial<SinkMainOptions> = {},
): SinkMainOptions {
  return {
    pipeline,
    group,
    kafka: { brokers: getSandbox().kafka.brokers },
    sink: target,
    sessionTimeoutMs: 6000,
    heartbeatIntervalMs: 1000,
    topicRefreshMs: 1000,
    retryMinMs: 200,
    retryMaxMs: 2000,
    lingerMs: 20,
    logLevel: 'info',
    ...extra,
  };
}

/** Records the sink sent to the dead-letter topic (from its metrics). */
export async function dlqCount(sink: InProcessSink): Promise<number> {
  const m = await sink.metrics.dlqEvents.get();
  return m.values.reduce((n, v) => n + v.value, 0);
}

/** A MariaDB connection as root for source tables and comparisons (exact strings, UTC session). */
export async function mariadb(database?: string): Promise<mysql.Connection> {
  const m = getSandbox().mysql;
  const conn = await mysql.createConnection({
    host: m.host,
    port: m.port,
    user: m.rootUser,
    password: m.rootPassword,
    ...(database ? { database } : {}),
    ...MYSQL_READ_OPTIONS,
  });
  await conn.query("SET time_zone = '+00:00'");
  return conn;
}

/** A PostgreSQL connection as the ferry role (database `ferry`), UTC session. */
export async function postgres(): Promise<pg.Client> {
  const p = getSandbox().postgres;
  const client = new pg.Client({
    host: p.host,
    port: p.port,
    user: p.user,
    password: p.password,
    database: p.database,
  });
  await client.connect();
  await client.query("SET TIME ZONE 'UTC'");
  return client;
}

export interface SinkDatabases {
  my: mysql.Connection;
  pgc: pg.Client;
}

/**
 * Opens a MariaDB and a PostgreSQL connection before the suite's tests (after any `beforeAll`
 * registered earlier) and closes them after; `set` receives them once open.
 */
export function useSinkDatabases(set: (dbs: SinkDatabases) => void): void {
  let dbs: Partial<SinkDatabases> = {};
  beforeAll(async () => {
    dbs = { my: await mariadb() };
    dbs.pgc = await postgres();
    set(dbs as SinkDatabases);
  });
  afterAll(async () => {
    await dbs.my?.end();
    await dbs.pgc?.end();
  });
}

export interface ReadMessage {
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/** Reads a topic from the start until `count` records arrived (with headers); a throwaway group. */
export async function readWithHeaders(
  kafka: Kafka,
  topic: string,
  count: number,
  timeoutMs = 30_000,
): Promise<ReadMessage[]> {
  const consumer = kafka.consumer({
    groupId: `ferry-test-reader-${Date.now()}-${Math.random().toString(36).slice(2)}`,
  });
  const out: ReadMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`read ${out.length} of ${count} records from ${topic}`)),
        timeoutMs,
      );
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(message.headers ?? {}))
              headers[k] = String(Array.isArray(v) ? v[0] : v);
            out.push({
              partition,
              offset: message.offset,
              key: message.key ? message.key.toString('utf8') : null,
              value: message.value ? message.value.toString('utf8') : null,
              headers,
            });
            if (out.length >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}
