/**
 * Per-shard metrics of a sharded sink (docs/sharding.md#metrics), computed at scrape time:
 * `ferry_sink_shard_up{shard}` (0 while a shard is unreachable), `ferry_sink_shard_behind_events{shard}`
 * (records the shard still has to catch up on, summed over partitions, against the most advanced
 * shard) and `ferry_sink_shard_applied_events_total{shard}`.
 */
import { Counter, Gauge } from 'prom-client';
import type { FerryMetrics } from '../../../metrics/metrics.js';
import type { Shard } from './shard.js';

/** Records each shard is behind the most advanced one, summed over the partitions any shard stored. */
export function behindEvents(shards: readonly Shard[]): number[] {
  const best = new Map<string, bigint>();
  for (const s of shards) {
    for (const [tp, state] of s.states()) {
      const n = state.nextOffset === null ? 0n : BigInt(state.nextOffset);
      if (n > (best.get(tp) ?? 0n)) best.set(tp, n);
    }
  }
  return shards.map((s) => {
    let behind = 0n;
    for (const [tp, top] of best) {
      const next = s.states().get(tp)?.nextOffset;
      behind += top - (next === undefined || next === null ? 0n : BigInt(next));
    }
    return Number(behind);
  });
}

export function registerShardMetrics(metrics: FerryMetrics, shards: readonly Shard[]): void {
  const pipeline = metrics.pipeline;
  const registers = [metrics.registry];
  new Gauge({
    name: 'ferry_sink_shard_up',
    help: '1 while the shard answers, 0 while it is unreachable (its share waits in Kafka)',
    labelNames: ['pipeline', 'shard'],
    registers,
    collect() {
      for (const s of shards) this.set({ pipeline, shard: s.name }, s.down ? 0 : 1);
    },
  });
  new Gauge({
    name: 'ferry_sink_shard_behind_events',
    help: 'Records the shard has not applied yet that the most advanced shard has, summed over partitions',
    labelNames: ['pipeline', 'shard'],
    registers,
    collect() {
      const behind = behindEvents(shards);
      shards.forEach((s, i) => {
        this.set({ pipeline, shard: s.name }, behind[i]!);
      });
    },
  });
  let last = shards.map(() => 0);
  new Counter({
    name: 'ferry_sink_shard_applied_events_total',
    help: 'Events applied to each shard by this process',
    labelNames: ['pipeline', 'shard'],
    registers,
    collect() {
      shards.forEach((s, i) => {
        this.inc({ pipeline, shard: s.name }, s.applied - last[i]!);
      });
      last = shards.map((s) => s.applied);
    },
  });
}
