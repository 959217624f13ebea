/**
 * Snapshot-engine tests (test/integration/snapshot-*.it.test.ts, test/fault/snapshot-kill):
 * pipeline configs written as files for the real `ferry` CLI (any source kind, PostgreSQL
 * target, the snapshot knobs set), `ferry status --json` as data, and the per-key check over a
 * data topic (values only move forward, the last event is the source's final state).
 */
import type { Kafka } from 'kafkajs';
import type { StatusReport } from '../../src/pipeline/status.js';
import { eventually, type FerryProcess, runFerry, testDir, writeConfig } from './cli.js';
import { type ConsumedRecord, readEnvelopes } from './kafka.js';
import { getSandbox } from './sandbox.js';

export interface SnapshotPipelineOptions {
  name: string;
  source: 'mysql' | 'postgres';
  /** MariaDB database, or PostgreSQL schema in the sandbox's database. */
  namespace: string;
  /** Target schema (PostgreSQL): default the source namespace's name (MariaDB sources only). */
  targetSchema?: string;
  metricsPort: number;
  chunkSize?: number;
  parallelism?: number;
  signalsIntervalMs?: number;
  partitions?: number;
  logLevel?: 'debug' | 'info' | 'warn';
  /** source.snapshotTransport [kafka]. */
  snapshotTransport?: 'kafka' | 'direct';
  /** The target: the sandbox's PostgreSQL [default], or its MariaDB (`targetSchema` names the database: required). */
  sink?: 'postgres' | 'mysql';
}

export interface SnapshotPipeline {
  file: string;
  dir: string;
  env: Record<string, string>;
}

/** Writes the config of a `<source> → PostgreSQL` pipeline (JSON, which is YAML) and returns its path. */
export function writeSnapshotPipeline(o: SnapshotPipelineOptions): SnapshotPipeline {
  const s = getSandbox();
  const sourceUrl =
    o.source === 'mysql'
      ? `mysql://${s.mysql.user}:\${SOURCE_PASSWORD}@${s.mysql.host}:${s.mysql.port}/${o.namespace}`
      : `postgres://${s.postgres.user}:\${SOURCE_PASSWORD}@${s.postgres.host}:${s.postgres.port}/${s.postgres.database}`;
  const config = {
    name: o.name,
    kafka: { brokers: s.kafka.brokers, partitions: o.partitions ?? 3, sessionTimeoutMs: 10_000 },
    source: {
      kind: o.source,
      url: sourceUrl,
      tables: [`${o.namespace}.*`],
      snapshotChunkSize: o.chunkSize ?? 200,
      snapshotParallelism: o.parallelism ?? 2,
      signalsIntervalMs: o.signalsIntervalMs ?? 300,
      heartbeatIntervalMs: 500,
      ...(o.snapshotTransport ? { snapshotTransport: o.snapshotTransport } : {}),
    },
    sink:
      o.sink === 'mysql'
        ? {
            kind: 'mysql',
            url: `mysql://${s.mysql.user}:\${TARGET_PASSWORD}@${s.mysql.host}:${s.mysql.port}/${o.targetSchema}`,
            database: o.targetSchema,
            batchSize: 1000,
            lingerMs: 20,
          }
        : {
            kind: 'postgres',
            url: `postgres://${s.postgres.user}:\${TARGET_PASSWORD}@${s.postgres.host}:${s.postgres.port}/${s.postgres.database}`,
            batchSize: 1000,
            lingerMs: 20,
            ...(o.targetSchema ? { schema: o.targetSchema } : {}),
          },
    metrics: { listen: `127.0.0.1:${o.metricsPort}` },
    log: { level: o.logLevel ?? 'info', format: 'json' },
  };
  const dir = testDir(o.name);
  const file = writeConfig(dir, o.name, `${JSON.stringify(config, null, 2)}\n`);
  const env = {
    SOURCE_PASSWORD: o.source === 'mysql' ? s.mysql.password : s.postgres.password,
    TARGET_PASSWORD: o.sink === 'mysql' ? s.mysql.password : s.postgres.password,
  };
  return { file, dir, env };
}

/** `ferry status -c … --json`, parsed (throws on a non-zero exit). */
export async function statusJson(p: SnapshotPipeline): Promise<StatusReport> {
  const res = await runFerry(['status', '-c', p.file, '--json'], p.env);
  if (res.code !== 0) throw new Error(`ferry status exited ${res.code}: ${res.stderr}`);
  return JSON.parse(res.stdout) as StatusReport;
}

/** One table's row state at the source: key (id) → value v; absent = no such row. */
/** Runs `ferry verify` until it exits 0 (the sink may still be catching up); fails with its last output. */
export async function verifyEqual(p: SnapshotPipeline, timeoutMs = 120_000): Promise<void> {
  let last = '';
  await eventually(
    'ferry verify to exit 0',
    async () => {
      const res = await runFerry(['verify', '-c', p.file], p.env, 120_000);
      last = `exit ${res.code}\n${res.stdout}\n${res.stderr}`;
      return res.code === 0;
    },
    timeoutMs,
    1000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\nlast ferry verify: ${last}`);
  });
}

export type FinalState = Map<number, number>;

export interface KeyHistory {
  /** What happened to the key, in Kafka order: `r:5`, `c:7`, `u:9`, `d`. */
  steps: string[];
}

/** Every key's events of a data topic in Kafka order (per partition; a key lives in one). */
export async function keyHistories(kafka: Kafka, topic: string): Promise<Map<number, KeyHistory>> {
  const records: ConsumedRecord[] = await readEnvelopes(kafka, topic);
  const sorted = [...records].sort((a, b) =>
    a.partition !== b.partition ? a.partition - b.partition : Number(BigInt(a.offset) - BigInt(b.offset)),
  );
  const out = new Map<number, KeyHistory>();
  for (const r of sorted) {
    if (!r.value) continue;
    const image = (r.value.after ?? r.value.before) as { id: number; v?: number } | null;
    if (!image) continue;
    const id = Number(image.id);
    const h = out.get(id) ?? { steps: [] };
    h.steps.push(r.value.op === 'd' ? 'd' : `${r.value.op}:${Number(image.v)}`);
    out.set(id, h);
  }
  return out;
}

/**
 * Problems of a topic against the source's final state, for values that only grow per key:
 * a value appearing for the first time after a larger one (the key went back in time), a last
 * event that is not the final row, a deleted row whose last event is not a delete.
 */
export function historyProblems(table: string, histories: Map<number, KeyHistory>, final: FinalState): string[] {
  const problems: string[] = [];
  for (const [id, h] of histories) {
    const seen = new Set<number>();
    let highest = Number.NEGATIVE_INFINITY;
    for (const step of h.steps) {
      if (step === 'd') continue;
      const v = Number(step.slice(2));
      if (seen.has(v)) continue;
      seen.add(v);
      if (v < highest) {
        problems.push(`${table} key ${id}: value ${v} first appears after ${highest}: ${h.steps.join(' ')}`);
        break;
      }
      highest = v;
    }
    const last = h.steps.at(-1);
    const want = final.get(id);
    if (want === undefined) {
      if (last !== 'd')
        problems.push(`${table} key ${id}: deleted at the source, last event ${last}: ${h.steps.join(' ')}`);
    } else if (last === undefined || last === 'd' || Number(last.slice(2)) !== want) {
      problems.push(`${table} key ${id}: source has v=${want}, last event ${last}: ${h.steps.join(' ')}`);
    }
  }
  for (const [id, v] of final) {
    if (!histories.has(id)) problems.push(`${table} key ${id}: row v=${v} at the source, never in Kafka`);
  }
  return problems;
}

/** The last lines ferry logged (for failure messages). */
export function logTail(ferry: FerryProcess, lines = 20): string {
  return (ferry.stderr() + ferry.stdout()).trimEnd().split('\n').slice(-lines).join('\n');
}

/** Runs `fn`; a failure carries the last lines of ferry's log. */
export async function withLog<T>(ferry: FerryProcess, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof Error) err.message += `\nferry log (last lines):\n${logTail(ferry)}`;
    throw err;
  }
}
