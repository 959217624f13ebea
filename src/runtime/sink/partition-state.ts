/**
 * What the sink stores per Kafka partition, next to the target's rows (in the same transaction):
 * the next offset to read and the truncate barrier (truncate-barrier.ts). Every part of the sink
 * keys its per-partition maps with tpKey.
 */

export interface PartitionState {
  /** Stored next offset; null = no row yet. */
  nextOffset: string | null;
  truncateBarrier: string | null;
}

/** The key of a topic partition in the sink's maps. */
export const tpKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;
