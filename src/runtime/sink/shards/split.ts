/**
 * Splitting a batch's records over shards (docs/sharding.md#apply). Pure.
 *
 * A record goes to the shards its table's rule names for its key (the `after` image's key; the
 * `before` image's for a delete); a truncate goes to every shard. An update whose key moved to
 * another shard also deletes the old key on the old shard (ferry sources publish key changes as a
 * delete of the old key and a create of the new one, which routing handles by itself).
 */
import { type Row, tableName } from '../../../api/index.js';
import type { ShardRouting } from '../../../sharding/index.js';
import type { SinkEvent } from '../reduce.js';
import type { RoutedRecord } from './routed.js';

function keyValues(event: SinkEvent, row: Row) {
  return event.schema.primaryKey.map((k) => row[k] ?? null);
}

/** The shard indexes of one event, and (for a key-moving update) the delete for the old shards. */
export function shardsOfEvent(routing: ShardRouting, event: SinkEvent): Array<{ shard: number; event: SinkEvent }> {
  const table = event.schema.origin ?? event.schema;
  const router = routing.routerFor(table);
  if (event.op === 't') return routing.shards.map((_, shard) => ({ shard, event }));
  const image = event.op === 'd' ? event.before : event.after;
  if (!image) throw new Error(`${tableName(table)}: a ${event.op} event without its row image`);
  const shards = router.shardsOf(keyValues(event, image));
  const out = shards.map((shard) => ({ shard, event }));
  if (event.op === 'u' && event.before) {
    const old = router.shardsOf(keyValues(event, event.before));
    const deletion: SinkEvent = { ...event, op: 'd', after: null };
    for (const shard of old) if (!shards.includes(shard)) out.push({ shard, event: deletion });
  }
  return out;
}

/**
 * Each shard's share of `records`, in order, without the records below the shard's stored
 * next offset of their partition (`nextOf`, -1n when none is stored): those it already applied.
 */
export function splitRecords(
  routing: ShardRouting,
  records: RoutedRecord[],
  nextOf: (shard: number, topic: string, partition: number) => bigint,
): SinkEvent[][] {
  const out: SinkEvent[][] = routing.shards.map(() => []);
  for (const r of records) {
    const offset = BigInt(r.offset);
    for (const { shard, event } of shardsOfEvent(routing, r.event)) {
      if (offset < nextOf(shard, r.topic, r.partition)) continue;
      out[shard]!.push(event);
    }
  }
  return out;
}
