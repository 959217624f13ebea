/**
 * Shared helpers of the PostgreSQL source's integration and fault tests (pg-source*.it.test.ts,
 * pg-source*.fault.test.ts): sandbox connection options, throwaway schemas, slot inspection,
 * a quiet logger, and reading a data topic back as envelopes.
 */
import type pg from 'pg';
import { createPostgresSource, type PostgresSourceOptions } from '../../connectors/postgres-source/index.js';
import { parseLsn } from '../../connectors/postgres-source/lsn.js';
import type { Logger, SourceContext, SourceItem, TableFilter } from '../../src/api/index.js';
import { parseEnvelope } from '../../src/event/envelope.js';
import { createKafka } from '../../src/kafka/client.js';
import { readTopicToEnd } from '../../src/kafka/read-topic.js';
import { pollUntil } from '../helpers/poll.js';
import { getSandbox, pgFerry, uniqueName } from '../helpers/sandbox.js';

export function quietLogger(lines: string[] = []): Logger {
  const log =
    (level: string) =>
    (msg: string, fields?: Record<string, unknown>): void => {
      lines.push(`${level} ${msg} ${fields ? JSON.stringify(fields) : ''}`);
      if (process.env['FERRY_TEST_VERBOSE']) process.stderr.write(`${level} ${msg} ${JSON.stringify(fields ?? {})}\n`);
    };
  const logger: Logger = {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: () => logger,
  };
  return logger;
}

export function sourceOptions(extra: Partial<PostgresSourceOptions> = {}): PostgresSourceOptions {
  const p = getSandbox().postgres;
  return {
    connection: { host: p.host, port: p.port, user: p.user, password: p.password, database: p.database },
    heartbeatIntervalMs: 0,
    ...extra,
  };
}

export function filterFor(schema: string, tables = '*'): TableFilter {
  return { include: [`${schema}.${tables}`], exclude: [], excludeColumns: [], keyColumns: {} };
}

export function ctxFor(pipeline: string, filter: TableFilter, signal = new AbortController().signal): SourceContext {
  return { pipeline, logger: quietLogger(), filter, signal };
}

/** A fresh schema owned by the ferry role, plus a pipeline name; `cleanup` drops slot and schema. */
export async function freshSchema(prefix: string): Promise<{
  schema: string;
  pipeline: string;
  db: pg.Client;
  /** Runs before the schema is dropped (stop runtimes and child processes here). */
  onCleanup(fn: () => Promise<void>): void;
  cleanup(): Promise<void>;
}> {
  const name = uniqueName(prefix).toLowerCase();
  const db = await pgFerry();
  db.on('error', () => undefined);
  await db.query(`CREATE SCHEMA "${name}"`);
  const pipeline = name.replace(/_/g, '-');
  const before: (() => Promise<void>)[] = [];
  return {
    schema: name,
    pipeline,
    db,
    onCleanup(fn: () => Promise<void>) {
      before.push(fn);
    },
    async cleanup() {
      for (const fn of before.reverse()) await fn().catch(() => undefined);
      await db.end().catch(() => undefined);
      // A fresh session: the test's own may have died with a server restart.
      const admin = await pgFerry();
      await cleanupObjects(admin, name, pipeline).finally(() => admin.end());
    },
  };
}

async function cleanupObjects(db: pg.Client, name: string, pipeline: string): Promise<void> {
  await db.query("SET lock_timeout = '20s'");
  const slot = createPostgresSource(sourceOptions()).names(pipeline).slot;
  for (let i = 0; i < 100; i++) {
    const r = await db.query('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    if (r.rows.length === 0) break;
    if (!r.rows[0].active) {
      await db.query('SELECT pg_drop_replication_slot($1)', [slot]);
      break;
    }
    await new Promise((res) => setTimeout(res, 200));
  }
  await db.query(`DROP PUBLICATION IF EXISTS "${slot}"`);
  await db.query(`DROP SCHEMA "${name}" CASCADE`);
}

export async function confirmedFlush(db: pg.Client, slot: string): Promise<bigint | null> {
  const r = await db.query<{ lsn: string | null }>(
    'SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1',
    [slot],
  );
  const lsn = r.rows[0]?.lsn;
  return lsn ? parseLsn(lsn) : null;
}

/** Pulls items from a stream until `until` returns true (or the timeout passes, then throws). */
export async function collectUntil(
  iterator: AsyncIterator<SourceItem>,
  until: (items: SourceItem[]) => boolean,
  timeoutMs = 30_000,
): Promise<SourceItem[]> {
  const items: SourceItem[] = [];
  const deadline = Date.now() + timeoutMs;
  while (!until(items)) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timed out; got ${items.length} items: ${JSON.stringify(items.slice(-5))}`);
    let timer: NodeJS.Timeout | undefined;
    const next = await Promise.race([
      iterator.next(),
      new Promise<'timeout'>((res) => {
        timer = setTimeout(() => res('timeout'), left);
      }),
    ]);
    clearTimeout(timer);
    if (next === 'timeout') continue;
    if (next.done) throw new Error(`stream ended after ${items.length} items`);
    items.push(next.value);
  }
  return items;
}

export function events(items: SourceItem[]) {
  return items.flatMap((i) => (i.type === 'event' ? [i.event] : []));
}

/** Every envelope of a data topic (tombstones left out), in partition order. */
export async function readEnvelopes(topic: string) {
  const kafka = createKafka({ brokers: getSandbox().kafka.brokers, clientId: 'pg-source-test' });
  const records = await readTopicToEnd(kafka, topic, 60_000);
  return records.filter((r) => r.value !== null).map((r) => ({ key: r.key, ...parseEnvelope(r.value!) }));
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | null | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  // Errors from `fn` fail at once.
  return pollUntil(what, fn, timeoutMs, 200, () => true);
}

/** A SourceRuntime (in this process) around a PostgreSQL source, on the sandbox's Kafka. */
export async function startRuntime(
  pipeline: string,
  filter: TableFilter,
  extra: Partial<PostgresSourceOptions> = {},
  runtimeExtra: Record<string, unknown> = {},
) {
  const { SourceRuntime } = await import('../../src/runtime/source/runtime.js');
  const connector = createPostgresSource(sourceOptions(extra));
  const kafka = createKafka({ brokers: getSandbox().kafka.brokers, clientId: `test-${pipeline}` });
  const runtime = new SourceRuntime({
    pipeline,
    connector,
    kafka,
    filter,
    logger: quietLogger(),
    offsetDelayMs: 20,
    reconnectMinMs: 200,
    reconnectMaxMs: 1000,
    ...runtimeExtra,
  });
  const running = runtime.run();
  running.catch(() => undefined);
  return { runtime, running, connector };
}
