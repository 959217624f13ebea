import type { Logger } from '../api/index.js';
import { tableName } from '../api/index.js';
import type { PipelineConfig } from '../config/index.js';
import { readTopicToEnd } from '../kafka/read-topic.js';
import { dataTopic, offsetsTopic, schemasTopic } from '../kafka/topics.js';
import { latestClaim } from '../offsets/leader-epoch.js';
import { latestSourceOffset, type SourceOffsetRecord } from '../offsets/source-offsets.js';
import { parseSchemaRecord } from '../runtime/sink/schemas.js';
import { readSinkProgress } from '../runtime/sink/status.js';
import { sinkConnectorFor } from './connectors.js';
import { kafkaFor } from './pipeline.js';

export interface TableStatus {
  table: string;
  topic: string;
  /** done | queued | reading (progress) | in progress | pending | not taken (snapshot: never) */
  snapshot: string;
  /** Kafka end offsets summed over the topic's partitions. */
  kafkaEndOffset: number;
  /** Records the sink applied (stored next offsets, summed). */
  appliedOffset: number;
  lagEvents: number;
}

export interface StatusReport {
  pipeline: string;
  source: {
    phase: 'snapshot' | 'stream' | 'not started';
    position: string | null;
    storedAt: string | null;
    /** With source.failover: the instance that became active last, its epoch and since when. */
    leader?: { instance: string; epoch: number; since: string };
  };
  tables: TableStatus[];
  lagEvents: number;
  /** From the running process's /metrics; null when it cannot be reached and events are pending. */
  lagSeconds: number | null;
  /** Whether a running process answered on the config's metrics address. */
  running: boolean;
  /** The metrics address asked (metrics.listen), null when metrics are disabled. */
  metricsAddress: string | null;
}

function snapshotState(table: string, stored: SourceOffsetRecord | null, config: PipelineConfig): string {
  const pending = stored?.snapshot?.pending;
  if (stored && pending) {
    const p = pending.find((x) => x.table === table);
    if (p) return p.lastKey ? `reading (after key ${JSON.stringify(p.lastKey)})` : 'queued';
    if (stored.snapshot?.done.includes(table)) return 'done';
    return config.source.snapshot === 'never' ? 'not taken' : 'done';
  }
  if (config.source.snapshot === 'never') return 'not taken';
  if (!stored) return 'pending';
  if (stored.phase === 'stream') return 'done';
  if (stored.snapshot?.done.includes(table)) return 'done';
  if (stored.snapshot?.current?.table === table)
    return `in progress (after key ${JSON.stringify(stored.snapshot.current.lastKey)})`;
  return 'pending';
}

/** Samples of this pipeline's running process: `name{table}` → value (null: nothing answered). */
async function scrapeMetrics(listen: string, pipeline: string): Promise<Map<string, number> | null> {
  try {
    const res = await fetch(`http://${listen}/metrics`, { signal: AbortSignal.timeout(2000) });
    const text = await res.text();
    const label = `pipeline=${JSON.stringify(pipeline)}`;
    const out = new Map<string, number>();
    for (const line of text.split('\n')) {
      const m = /^(ferry_[a-z_]+)\{([^}]*)\} ([0-9.eE+-]+)$/.exec(line);
      if (!m?.[2]?.split(',').includes(label)) continue;
      const table = /(?:^|,)table="((?:[^"\\]|\\.)*)"/.exec(m[2])?.[1];
      out.set(table === undefined ? m[1]! : `${m[1]}{${table}}`, Number(m[3]));
    }
    return out.has('ferry_sink_lag_seconds') ? out : null;
  } catch {
    return null;
  }
}

/** Rows read, estimate, rate and ETA of the tables a running source is reading. */
function readingProgress(
  t: TableStatus,
  first: Map<string, number> | null,
  second: Map<string, number> | null,
  seconds: number,
): void {
  if (!second || !t.snapshot.startsWith('reading')) return;
  const rows = second.get(`ferry_snapshot_rows_total{${t.table}}`);
  const estimated = second.get(`ferry_snapshot_rows_estimated{${t.table}}`);
  if (rows === undefined) return;
  const before = first?.get(`ferry_snapshot_rows_total{${t.table}}`) ?? rows;
  const rate = seconds > 0 ? (rows - before) / seconds : 0;
  const nf = new Intl.NumberFormat('en-US');
  const parts = [`${nf.format(rows)} of ~${nf.format(estimated ?? 0)} rows`];
  if (rate > 0) {
    parts.push(`${nf.format(Math.round(rate))} rows/s`);
    if (estimated !== undefined && estimated > rows) parts.push(`ETA ${Math.ceil((estimated - rows) / rate)} s`);
  }
  t.snapshot = `reading: ${parts.join(', ')}`;
}

/** What `ferry status` reports: source position, per-table snapshot state, Kafka and sink offsets, lag. */
export async function collectStatus(config: PipelineConfig, logger: Logger): Promise<StatusReport> {
  const kafka = kafkaFor(config, logger, 'status', true);
  const offsetRecords = await readTopicToEnd(kafka, offsetsTopic(config.name));
  const stored = latestSourceOffset(offsetRecords, config.name);
  const claim = latestClaim(offsetRecords, config.name);
  const tables = new Map<string, string>(); // topic -> db.table
  for (const r of await readTopicToEnd(kafka, schemasTopic(config.name))) {
    const s = r.value ? parseSchemaRecord(r.value) : undefined;
    if (s) tables.set(dataTopic(config.name, s.db, s.table), tableName(s));
  }
  const sink = sinkConnectorFor(config);
  let progress: Awaited<ReturnType<typeof readSinkProgress>>;
  try {
    await sink.start({ pipeline: config.name, group: config.sink.group, logger });
    progress = await readSinkProgress({ kafka, connector: sink, pipeline: config.name });
  } finally {
    await sink.close().catch(() => undefined);
  }
  const byTopic = new Map<string, TableStatus>();
  for (const p of progress.partitions) {
    const table = tables.get(p.topic) ?? p.topic;
    let t = byTopic.get(p.topic);
    if (!t) {
      t = {
        table,
        topic: p.topic,
        snapshot: snapshotState(table, stored, config),
        kafkaEndOffset: 0,
        appliedOffset: 0,
        lagEvents: 0,
      };
      byTopic.set(p.topic, t);
    }
    t.kafkaEndOffset += Number(p.endOffset);
    t.appliedOffset += Number(p.nextOffset ?? p.startOffset);
    t.lagEvents += p.lag;
  }
  const first = config.metrics.enabled ? await scrapeMetrics(config.metrics.listen, config.name) : null;
  let second = first;
  const reading = [...byTopic.values()].some((t) => t.snapshot.startsWith('reading'));
  if (first && reading) {
    // Two samples a second apart give the rate (and so the ETA) of the tables being read.
    await new Promise((r) => setTimeout(r, 1000));
    second = await scrapeMetrics(config.metrics.listen, config.name);
  }
  for (const t of byTopic.values()) readingProgress(t, first, second, first === second ? 0 : 1);
  const scraped = second?.get('ferry_sink_lag_seconds') ?? null;
  return {
    pipeline: config.name,
    source: {
      phase: stored ? stored.phase : 'not started',
      position: stored ? (stored.describe ?? JSON.stringify(stored.position)) : null,
      storedAt: stored ? new Date(stored.writtenAt).toISOString() : null,
      ...(claim
        ? { leader: { instance: claim.instance, epoch: claim.epoch, since: new Date(claim.at).toISOString() } }
        : {}),
    },
    tables: [...byTopic.values()].sort((a, b) => a.table.localeCompare(b.table)),
    lagEvents: progress.totalLag,
    lagSeconds: scraped ?? (progress.totalLag === 0 ? 0 : null),
    running: scraped !== null,
    metricsAddress: config.metrics.enabled ? config.metrics.listen : null,
  };
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

/** The readable form of `ferry status` (pure; `now` for the age of the stored position). */
export function formatStatus(r: StatusReport, now = Date.now()): string[] {
  const nf = new Intl.NumberFormat('en-US');
  const state = r.running
    ? `running, metrics on ${r.metricsAddress}`
    : r.metricsAddress
      ? `not running: nothing answers on ${r.metricsAddress}`
      : 'metrics disabled: cannot tell whether it runs';
  const stored = r.source.storedAt ? Date.parse(r.source.storedAt) : Number.NaN;
  const storedText = Number.isNaN(stored) ? '' : `, stored ${r.source.storedAt} (${ago(now - stored)})`;
  const lagSeconds =
    r.lagSeconds === null ? 'seconds unknown (only a running pipeline knows them)' : `${r.lagSeconds.toFixed(1)} s`;
  const lines = [
    `pipeline ${r.pipeline}  (${state})`,
    `source   ${r.source.phase}${r.source.position ? ` at ${r.source.position}` : ''}${storedText}`,
    ...(r.source.leader
      ? [`active   ${r.source.leader.instance}, epoch ${r.source.leader.epoch}, since ${r.source.leader.since}`]
      : []),
    `lag      ${nf.format(r.lagEvents)} events, ${lagSeconds}`,
    '',
  ];
  const head = ['table', 'snapshot', 'kafka end', 'applied', 'lag'];
  const rows = r.tables.map((t) => [
    t.table,
    t.snapshot,
    nf.format(t.kafkaEndOffset),
    nf.format(t.appliedOffset),
    nf.format(t.lagEvents),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const fmt = (row: string[]) =>
    row
      .map((c, i) => (i >= 2 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  if (rows.length === 0) lines.push('(no tables published yet)');
  else lines.push(fmt(head), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt));
  return lines;
}
