/**
 * Truncate barriers (docs/sinks.md#truncate). A ferry source publishes a TRUNCATE to every
 * partition of the table's topic, each copy in its place in that partition. Applying every copy
 * would wipe rows that other partitions wrote after the truncate; applying only one would let
 * older rows of other partitions arrive after it. So the sink:
 * - applies the first copy it meets (partition p) and sets a barrier with the truncate's id on
 *   every other partition of the topic;
 * - skips the events of a partition with a barrier (all older than the truncate, hence wiped
 *   by it anyway) until that partition's own copy, which clears the barrier;
 * - stores barriers with the offsets, in the same transaction, so restarts and other sink
 *   processes of the group see them (a process whose partition got a barrier meanwhile is
 *   fenced off and re-reads its state).
 * Pure: plans what to apply from the records and the stored states.
 */

import { type PartitionState, tpKey } from './partition-state.js';

export interface BarrierRecord {
  topic: string;
  partition: number;
  /** Set for a ferry truncate copy: its id (the same in every partition). */
  truncateId?: string;
}

export interface BarrierPlan {
  /** Per record: apply it (true) or skip it because of a barrier (false). */
  keep: boolean[];
  /** Barrier of each partition the records belong to, after them (key: tpKey). */
  barrierAfter: Map<string, string | null>;
  /** Barriers to set on partitions the records do not belong to. */
  barriers: Array<{ topic: string; partition: number; truncateBarrier: string }>;
}

export function planBarriers(
  records: BarrierRecord[],
  stored: (topic: string, partition: number) => PartitionState | undefined,
  partitionCount: (topic: string) => number,
): BarrierPlan {
  const barrier = new Map<string, string | null>();
  const own = new Set<string>();
  for (const r of records) own.add(tpKey(r.topic, r.partition));
  const current = (topic: string, partition: number): string | null => {
    const k = tpKey(topic, partition);
    if (barrier.has(k)) return barrier.get(k)!;
    return stored(topic, partition)?.truncateBarrier ?? null;
  };
  const keep: boolean[] = [];
  for (const r of records) {
    const k = tpKey(r.topic, r.partition);
    const b = current(r.topic, r.partition);
    if (r.truncateId === undefined) {
      keep.push(b === null);
      if (!barrier.has(k)) barrier.set(k, b);
      continue;
    }
    if (b === r.truncateId) {
      // This partition's copy of a truncate another partition applied: the barrier ends here.
      barrier.set(k, null);
      keep.push(false);
    } else if (b !== null) {
      // A later truncate was applied already; this older copy is wiped by it.
      barrier.set(k, b);
      keep.push(false);
    } else {
      barrier.set(k, null);
      keep.push(true);
      const n = partitionCount(r.topic);
      for (let p = 0; p < n; p++) if (p !== r.partition) barrier.set(tpKey(r.topic, p), r.truncateId);
    }
  }
  const barrierAfter = new Map<string, string | null>();
  const barriers: BarrierPlan['barriers'] = [];
  for (const [k, b] of barrier) {
    if (own.has(k)) {
      barrierAfter.set(k, b);
      continue;
    }
    const [topic, partition] = k.split('\u0000') as [string, string];
    const before = stored(topic, Number(partition))?.truncateBarrier ?? null;
    if (b !== null && b !== before) barriers.push({ topic, partition: Number(partition), truncateBarrier: b });
  }
  return { keep, barrierAfter, barriers };
}
