/**
 * End-to-end route tests (test/integration/e2e-*.it.test.ts): whole pipelines — a real source
 * (MariaDB binlog or PostgreSQL WAL), Kafka and a real sink — run in this process through
 * src/pipeline/pipeline.ts from a pipeline config, then judged with `verifyPipeline` (the
 * function behind `ferry verify`) and by looking at target rows directly.
 */
import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import type { Logger } from '../../src/api/index.js';
import { configFromObject, type PipelineConfig } from '../../src/config/index.js';
import { withAdmin } from '../../src/kafka/admin.js';
import { dlqTopic } from '../../src/kafka/topics.js';
import { createLogger } from '../../src/log/index.js';
import { FerryMetrics } from '../../src/metrics/metrics.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import type { SinkTargetOptions } from '../../src/runtime/sink/connectors.js';
import { type TableReport, type VerifyReport, verifyPipeline } from '../../src/verify/index.js';
import { getSandbox, pgSuper, uniqueName } from './sandbox.js';
import { type ReadMessage, readWithHeaders, sinkProgress } from './sink-harness.js';

export type SourceKind = 'mysql' | 'postgres';
export type SinkKind = 'mysql' | 'postgres';

export interface RouteSpec {
  /** Pipeline name (topics, group, slot): unique per test. */
  name: string;
  source: SourceKind;
  /** MariaDB database or PostgreSQL schema (in database `ferry`) holding the source tables. */
  sourceNamespace: string;
  sink: SinkKind;
  /**
   * Where the tables land (`sink.schema` / `sink.database`); default: the source namespace's
   * name (only possible across engines).
   */
  targetNamespace?: string;
  /** MySQL target: the database holding ferry_offsets [the target namespace]. */
  metaDatabase?: string;
  partitions?: number;
  batchSize?: number;
}

function withPath(url: string, path: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(path)}`;
  return u.toString();
}

/** A validated pipeline config for a route on the sandbox (what `ferry run -c` would load). */
export function routeConfig(spec: RouteSpec): PipelineConfig {
  const s = getSandbox();
  const target = spec.targetNamespace ?? spec.sourceNamespace;
  const sourceUrl = spec.source === 'mysql' ? withPath(s.mysql.url, spec.sourceNamespace) : s.postgres.url;
  const sinkUrl = spec.sink === 'mysql' ? withPath(s.mysql.url, spec.metaDatabase ?? target) : s.postgres.url;
  return configFromObject(
    {
      name: spec.name,
      kafka: { brokers: s.kafka.brokers, partitions: spec.partitions ?? 3 },
      source: {
        kind: spec.source,
        url: sourceUrl,
        tables: [`${spec.sourceNamespace}.*`],
        snapshotChunkSize: 100,
        heartbeatIntervalMs: 500,
      },
      sink: {
        kind: spec.sink,
        url: sinkUrl,
        batchSize: spec.batchSize ?? 500,
        lingerMs: 20,
        maxRetries: 0,
        ...(spec.targetNamespace ? { [spec.sink === 'postgres' ? 'schema' : 'database']: spec.targetNamespace } : {}),
      },
      metrics: { enabled: false },
      log: { level: 'warn' },
    },
    { env: {} },
  );
}

/** The sink connector options of a config (for reading its stored offsets). */
export function sinkTargetOf(config: PipelineConfig): SinkTargetOptions {
  const c = config.sink.connection;
  const common = {
    host: c.host,
    port: c.port,
    user: c.user,
    ...(c.password === undefined ? {} : { password: c.password }),
    ...(c.database === undefined ? {} : { database: c.database }),
  };
  return config.sink.kind === 'postgres' ? { kind: 'postgres', ...common } : { kind: 'mysql', ...common };
}

/**
 * A logger that keeps warn and error lines in memory (shown when a wait times out); with
 * FERRY_TEST_LOG=<level> it writes to stderr instead.
 */
export function e2eLogger(lines: string[] = []): Logger {
  const level = process.env['FERRY_TEST_LOG'] as 'debug' | 'info' | 'warn' | 'error' | undefined;
  if (level) return createLogger({ level, format: 'json' });
  return createLogger({
    level: 'warn',
    format: 'json',
    destination: {
      isTTY: false,
      write: (line: string) => {
        lines.push(line.trimEnd());
        if (lines.length > 500) lines.splice(0, lines.length - 500);
      },
    },
  });
}

export interface RunningPipeline {
  config: PipelineConfig;
  pipeline: Pipeline;
  metrics: FerryMetrics;
  /** Settles when run() ends. */
  done: Promise<void>;
  /** Set when run() rejected. */
  failure: Error | null;
  /** Warn and error log lines of the pipeline (kafkajs' own left out). */
  logs(): string[];
  stop(): Promise<void>;
}

/** Starts source and sink of a config in this process (`ferry run`, without the CLI around it), or one of them. */
export function startPipeline(
  config: PipelineConfig,
  roles: { source: boolean; sink: boolean } = { source: true, sink: true },
): RunningPipeline {
  const lines: string[] = [];
  const logger = e2eLogger(lines);
  const metrics = new FerryMetrics(config.name);
  const pipeline = new Pipeline(config, roles, { logger, metrics, topicRefreshMs: 500 });
  const done = pipeline.run();
  const handle: RunningPipeline = {
    config,
    pipeline,
    metrics,
    done,
    failure: null,
    logs: () => lines.filter((l) => !l.includes('"kafka: ')),
    async stop() {
      await pipeline.stop();
      await done.catch(() => undefined);
    },
  };
  done.catch((err: Error) => {
    handle.failure = err;
  });
  return handle;
}

/** Starts the route `spec` as a pipeline named by a unique name made from `prefix` (`_` as `-`). */
export function startRoute(prefix: string, spec: Omit<RouteSpec, 'name'>): RunningPipeline {
  return startPipeline(routeConfig({ name: uniqueName(prefix).replace(/_/g, '-'), ...spec }));
}

/** Polls `cond` until it returns a value (or throws after `timeoutMs`); fails at once when a pipeline failed. */
export async function until<T>(
  what: string,
  cond: () => Promise<T | null | undefined | false>,
  timeoutMs: number,
  running: RunningPipeline[] = [],
  intervalMs = 300,
  /** Errors that end the wait at once (others count as "not yet"). */
  rethrow: (err: unknown) => boolean = () => false,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    const failed = running.find((r) => r.failure);
    if (failed) {
      throw new Error(
        `pipeline ${failed.config.name} failed: ${failed.failure!.message}\n${failed.logs().slice(-15).join('\n')}`,
      );
    }
    try {
      const v = await cond();
      if (v) return v;
    } catch (err) {
      if (rethrow(err)) throw err;
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Fast verify settings for small tables: no re-check rounds (the caller polls). */
const POLL = { chunkSize: 1000, recheck: { attempts: 0, delayMs: 0 } } as const;

/** The report's per-table verdicts in a form that prints well in a failed expectation. */
export function summary(report: VerifyReport): Record<string, unknown> {
  return Object.fromEntries(
    report.tables.map((t) => [
      t.source,
      t.error ??
        (t.equal
          ? 'equal'
          : { missing: t.missing, extra: t.extra, different: t.different, rows: [t.sourceRows, t.targetRows] }),
    ]),
  );
}

export interface Convergence {
  report: VerifyReport;
  /** Milliseconds from the call until the target converged. */
  ms: number;
}

/**
 * Waits until the pipeline has caught up: the source queue is empty, the sink applied every
 * record of every data topic (offsets stored in the target = Kafka's end offsets), and
 * verifyPipeline reports what `accept` accepts (default: every table equal) — all in one poll.
 * `timeoutMs` bounds the time without progress (the queue depth, the sink's lag and the verify
 * summary all unchanged), not the whole wait: a slow machine that keeps applying is waited for,
 * up to four times `timeoutMs` in all; a pipeline that is stuck fails after `timeoutMs`.
 */
export async function waitForConvergence(
  run: RunningPipeline,
  kafka: Kafka,
  opts: { timeoutMs?: number; accept?: (report: VerifyReport) => boolean } = {},
): Promise<Convergence> {
  const started = Date.now();
  const stallMs = opts.timeoutMs ?? 60_000;
  const accept = opts.accept ?? ((r: VerifyReport) => r.equal);
  let last: VerifyReport | null = null;
  let seen = '';
  let movedAt = started;
  const moved = (state: unknown) => {
    const now = JSON.stringify(state);
    if (now !== seen) {
      seen = now;
      movedAt = Date.now();
    }
  };
  try {
    const report = await until(
      `${run.config.name} to converge`,
      async () => {
        if (Date.now() - movedAt > stallMs) throw new StalledError(stallMs);
        const queueDepth = run.pipeline.sourceProgress()?.queueDepth ?? 0;
        if (queueDepth > 0) {
          moved({ queueDepth });
          return null;
        }
        const progress = await sinkProgress(kafka, run.config.name, run.config.sink.group, sinkTargetOf(run.config));
        if (progress.partitions.length === 0 || progress.totalLag > 0) {
          moved({ partitions: progress.partitions.length, lag: progress.totalLag });
          return null;
        }
        last = await verifyPipeline(run.config, POLL);
        moved({ verify: summary(last) });
        return accept(last) ? last : null;
      },
      stallMs * 4,
      [run],
      500,
      (err) => err instanceof StalledError,
    );
    return { report, ms: Date.now() - started };
  } catch (err) {
    if (last) (err as Error).message += `\nlast verify: ${JSON.stringify(summary(last), null, 1)}`;
    (err as Error).message += `\nlog (last lines):\n${run.logs().slice(-15).join('\n')}`;
    throw err;
  }
}

/** Ends a convergence wait: nothing moved for the allowed time. */
class StalledError extends Error {
  constructor(ms: number) {
    super(`no progress for ${ms} ms (source queue, sink lag and verify summary all unchanged)`);
  }
}

/** The report of one source table (`db.table`). */
export function tableReport(report: VerifyReport, sourceTable: string): TableReport {
  const t = report.tables.find((x) => x.source === sourceTable);
  if (!t) throw new Error(`no report for ${sourceTable}; have ${report.tables.map((x) => x.source).join(', ')}`);
  return t;
}

export interface DeadLetter {
  key: string | null;
  headers: Record<string, string>;
  /** The original record's value, parsed. */
  value: { after?: Record<string, unknown> | null; op?: string } | null;
}

/** The first `count` records of the pipeline's dead-letter topic, with their headers. */
export async function readDeadLetters(kafka: Kafka, pipeline: string, count: number): Promise<DeadLetter[]> {
  const records: ReadMessage[] = count === 0 ? [] : await readWithHeaders(kafka, dlqTopic(pipeline), count);
  return records.map((r) => ({
    key: r.key,
    headers: r.headers,
    value: r.value === null ? null : (JSON.parse(r.value) as DeadLetter['value']),
  }));
}

/** Records in the dead-letter topic (0 when it does not exist). */
export async function deadLetterCount(kafka: Kafka, pipeline: string): Promise<number> {
  return withAdmin(kafka, async (admin) => {
    if (!(await admin.listTopics()).includes(dlqTopic(pipeline))) return 0;
    const offsets = await admin.fetchTopicOffsets(dlqTopic(pipeline));
    return offsets.reduce((n, o) => n + Number(BigInt(o.high) - BigInt(o.low)), 0);
  });
}

/** Deletes the pipeline's topics (best effort; keeps the sandbox's broker lean). */
export async function deletePipelineTopics(kafka: Kafka, pipeline: string): Promise<void> {
  await withAdmin(kafka, async (admin) => {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${pipeline}.`));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 10_000 });
  }).catch(() => undefined);
}

/** Drops a PostgreSQL source pipeline's slot and publication once nothing reads the slot. */
export async function dropPgSlot(config: PipelineConfig): Promise<void> {
  if (config.source.kind !== 'postgres') return;
  const { slot, publication } = config.source;
  const db: pg.Client = await pgSuper();
  try {
    for (let i = 0; i < 50; i++) {
      const r = await db.query<{ active: boolean }>('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [
        slot,
      ]);
      if (r.rows.length === 0) break;
      if (!r.rows[0]!.active) {
        await db.query('SELECT pg_drop_replication_slot($1)', [slot]);
        break;
      }
      await new Promise((res) => setTimeout(res, 200));
    }
    await db.query(`DROP PUBLICATION IF EXISTS ${db.escapeIdentifier(publication)}`);
  } finally {
    await db.end();
  }
}
