/**
 * The sink's metrics (docs/metrics.md): what a committed batch applied, and the lag in events
 * (`ferry_sink_lag_events`): Kafka's end offsets minus the applied offsets of the partitions
 * assigned to this process. End offsets come from the fetched batches as they arrive and from
 * Kafka every `refreshMs` (one ListOffsets per assigned topic, off the apply path), so the lag
 * keeps moving while the sink catches up, waits for the target, or has nothing to fetch.
 */
import type { Logger } from '../../api/index.js';
import type { FerryMetrics } from '../../metrics/metrics.js';
import type { InRecord } from './decode.js';
import { tpKey } from './partition-state.js';

/** Counts a committed batch: its duration, the events applied per table and op, their end-to-end latency. */
export function observeApplied(m: FerryMetrics, kept: InRecord[], seconds: number): void {
  m.sinkBatchSeconds.observe(seconds);
  const counts = new Map<string, { table: string; op: string; n: number }>();
  const now = Date.now();
  let newest = m.lastSinkCommitMs ?? 0;
  for (const r of kept) {
    if (r.decoded?.kind !== 'event') continue;
    const { event, label } = r.decoded;
    const k = `${label}\u0000${event.op}`;
    const c = counts.get(k) ?? { table: label, op: event.op, n: 0 };
    c.n++;
    counts.set(k, c);
    if (event.tsMs > 0) {
      m.endToEndSeconds.observe(Math.max(0, (now - event.tsMs) / 1000));
      if (event.tsMs > newest) newest = event.tsMs;
    }
  }
  for (const c of counts.values()) m.sinkAppliedEvents.inc({ table: c.table, op: c.op }, c.n);
  if (newest > 0) m.lastSinkCommitMs = newest;
}

/** Kafka's offsets of one partition (as kafkajs' admin.fetchTopicOffsets returns them). */
export interface TopicPartitionOffsets {
  partition: number;
  low: string;
  high: string;
}

export interface SinkLagOptions {
  metrics?: FerryMetrics | undefined;
  logger: Logger;
  /** Where a partition's unapplied records start (stored next offset, or the log start). */
  appliedFrom: (tp: string) => bigint;
  /** Resolves once the stored offsets of the current assignment are known. */
  ready: () => Promise<void>;
  /** Kafka's log start and end offsets of a topic's partitions. */
  fetchOffsets: (topic: string) => Promise<TopicPartitionOffsets[]>;
  /** How often end offsets are read from Kafka, ms. Default 3000. */
  refreshMs?: number;
}

export class SinkLag {
  private readonly o: SinkLagOptions;
  /** Assigned partitions: topic -> partitions. */
  private assigned = new Map<string, number[]>();
  private readonly highs = new Map<string, bigint>();
  private readonly lows = new Map<string, bigint>();
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;

  constructor(opts: SinkLagOptions) {
    this.o = opts;
  }

  /** Starts reading end offsets every refreshMs (the timer does not keep the process alive). */
  start(): void {
    if (this.timer || !this.o.metrics) return;
    this.timer = setInterval(() => void this.refresh(), this.o.refreshMs ?? 3000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The group assigned these partitions to this process; end offsets of those it keeps stay known. */
  assign(assignment: Record<string, number[]>): void {
    const keep = new Set<string>();
    this.assigned = new Map();
    for (const [topic, partitions] of Object.entries(assignment)) {
      this.assigned.set(topic, [...partitions]);
      for (const p of partitions) keep.add(tpKey(topic, p));
    }
    for (const tp of [...this.highs.keys()]) if (!keep.has(tp)) this.highs.delete(tp);
    for (const tp of [...this.lows.keys()]) if (!keep.has(tp)) this.lows.delete(tp);
    this.update();
  }

  /** A fetched batch's high watermark (end offsets only grow). */
  observeHighWatermark(tp: string, highWatermark: string): void {
    const high = BigInt(highWatermark);
    if (high > (this.highs.get(tp) ?? -1n)) this.highs.set(tp, high);
  }

  /** Reads the end offsets of the assigned topics from Kafka, then updates the gauge. One at a time; failures wait for the next. */
  refresh(): Promise<void> {
    if (!this.refreshing) {
      this.refreshing = this.readEndOffsets()
        .catch((err: unknown) => {
          this.o.logger.debug('could not read end offsets for the lag metric', { error: (err as Error)?.message });
        })
        .finally(() => {
          this.refreshing = null;
        });
    }
    return this.refreshing;
  }

  /** Sets `ferry_sink_lag_events` from what is known now (cheap: no I/O). */
  update(): void {
    if (!this.o.metrics) return;
    this.o.metrics.sinkPendingEvents = Number(this.pending());
  }

  /** End offsets minus applied offsets, summed over the assigned partitions whose end offset is known. */
  pending(): bigint {
    let pending = 0n;
    for (const [topic, partitions] of this.assigned) {
      for (const p of partitions) {
        const tp = tpKey(topic, p);
        const high = this.highs.get(tp);
        if (high === undefined) continue;
        let from = this.o.appliedFrom(tp);
        const low = this.lows.get(tp);
        if (low !== undefined && from < low) from = low;
        if (high > from) pending += high - from;
      }
    }
    return pending;
  }

  private async readEndOffsets(): Promise<void> {
    if (this.assigned.size === 0) return;
    await this.o.ready();
    for (const topic of [...this.assigned.keys()]) {
      const offsets = await this.o.fetchOffsets(topic);
      const mine = new Set(this.assigned.get(topic)); // the assignment may have changed meanwhile
      for (const o of offsets) {
        if (!mine.has(o.partition)) continue;
        const tp = tpKey(topic, o.partition);
        this.observeHighWatermark(tp, o.high);
        this.lows.set(tp, BigInt(o.low));
      }
    }
    this.update();
  }
}
