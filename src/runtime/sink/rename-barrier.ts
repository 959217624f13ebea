/**
 * Rename barriers (docs/schema-changes.md#rename-table-and-a-lagging-sink). After RENAME TABLE the
 * source puts a marker into every partition of the new topic (src/event/rename-marker.ts) with the
 * old topic's end offsets at the rename. A partition of the new topic is held at its marker until
 * the offsets stored in the target for every partition of the old topic have reached those ends:
 * then every event of the old table is applied, and no older event can overwrite a newer one of
 * the same key. The state is what the target stores (the group's offsets, whichever process
 * applies the old topic) and Kafka's log starts, so a restart or another sink process of the group
 * sees the same answer.
 */
import type { Admin } from 'kafkajs';
import type { Logger, SinkConnector } from '../../api/index.js';
import type { RenameMarker } from '../../event/rename-marker.js';
import type { WithRetry } from './retry.js';

/**
 * Whether every partition of the old topic has passed its end (pure). `stored`: next offset stored
 * in the target per partition (absent: none yet); `logStarts`: Kafka's log start per partition (a
 * partition whose records before the end were deleted has nothing left to wait for).
 */
export function renameMarkerPassed(
  marker: RenameMarker,
  stored: ReadonlyMap<number, bigint>,
  logStarts: ReadonlyMap<number, bigint>,
): boolean {
  for (const [p, end] of Object.entries(marker.ends)) {
    const partition = Number(p);
    const s = stored.get(partition) ?? 0n;
    const low = logStarts.get(partition) ?? 0n;
    if ((s > low ? s : low) < BigInt(end)) return false;
  }
  return true;
}

export interface RenameBarriersDeps {
  connector: SinkConnector;
  admin: () => Admin;
  withRetry: WithRetry;
  logger: Logger;
}

export class RenameBarriers {
  /** Markers known passed (offsets only move forward, so they stay passed). */
  private readonly passedMarkers = new Set<string>();
  private readonly notConsumed = new Set<string>();

  constructor(private readonly d: RenameBarriersDeps) {}

  /** Whether the records after `marker` may be applied; `topics`: the data topics this sink consumes. */
  async passed(marker: RenameMarker, topics: readonly string[], heartbeat?: () => Promise<void>): Promise<boolean> {
    const key = JSON.stringify([marker.id, marker.fromTopic, marker.ends]);
    if (this.passedMarkers.has(key)) return true;
    if (!topics.includes(marker.fromTopic)) {
      // The sink does not apply the old topic (sink.topics): there is nothing to wait for.
      if (!this.notConsumed.has(marker.fromTopic)) {
        this.notConsumed.add(marker.fromTopic);
        this.d.logger.info('a renamed table comes from a topic this sink does not consume; not waiting for it', {
          topic: marker.fromTopic,
        });
      }
      this.passedMarkers.add(key);
      return true;
    }
    const { connector, withRetry } = this.d;
    const rows = await withRetry('reading stored offsets', () => connector.readOffsets([marker.fromTopic]), heartbeat);
    const stored = new Map<number, bigint>();
    for (const r of rows)
      if (r.topic === marker.fromTopic && r.nextOffset !== null) stored.set(r.partition, BigInt(r.nextOffset));
    const offs = await withRetry(
      'reading topic offsets',
      () => this.d.admin().fetchTopicOffsets(marker.fromTopic),
      heartbeat,
    );
    const logStarts = new Map(offs.map((o) => [o.partition, BigInt(o.low)]));
    const ok = renameMarkerPassed(marker, stored, logStarts);
    if (ok) this.passedMarkers.add(key);
    return ok;
  }
}
