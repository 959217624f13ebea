/**
 * What the sink stores per Kafka partition, next to the target's rows (in the same transaction):
 * the next offset to read, the truncate barrier (truncate-barrier.ts) and the highest source
 * leader epoch seen before the next offset (leader-epoch.ts). Every part of the sink
 * keys its per-partition maps with tpKey.
 */

export interface PartitionState {
  /** Stored next offset; null = no row yet. */
  nextOffset: string | null;
  truncateBarrier: string | null;
  /** Highest `ferry-leader-epoch` among the records before nextOffset; null or absent = none seen. */
  leaderEpoch?: number | null;
}

/** The key of a topic partition in the sink's maps. */
export const tpKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;
