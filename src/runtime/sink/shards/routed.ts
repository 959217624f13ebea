/**
 * The seam between the sink runtime and a sharded sink (docs/sharding.md): a sink that routes
 * records itself gets them unreduced, with their offsets, so that each shard can skip what it
 * already holds and reduce its own share.
 */
import type { SinkBatch, SinkConnector } from '../../../api/index.js';
import type { InRecord } from '../decode.js';
import type { SinkEvent } from '../reduce.js';

/** A decoded record of a batch, in partition order. */
export interface RoutedRecord {
  topic: string;
  partition: number;
  offset: string;
  event: SinkEvent;
}

/** A sink that splits batches over several targets. */
export interface RoutedSink extends SinkConnector {
  /**
   * Applies `records` (the batch's kept events) with the batch's offsets and barriers, each
   * target in its own transaction. `batch.tables` is ignored.
   */
  applyRouted(records: RoutedRecord[], batch: SinkBatch): Promise<void>;
}

export function isRoutedSink(connector: SinkConnector): connector is RoutedSink {
  return typeof (connector as Partial<RoutedSink>).applyRouted === 'function';
}

/** The decoded events of kept records, with their offsets. */
export function routedRecords(records: InRecord[]): RoutedRecord[] {
  const out: RoutedRecord[] = [];
  for (const r of records) {
    if (r.decoded?.kind !== 'event') continue;
    out.push({ topic: r.topic, partition: r.partition, offset: r.offset, event: r.decoded.event });
  }
  return out;
}
