/**
 * Rename barriers (docs/schema-changes.md#rename-table-and-a-lagging-sink). After `RENAME TABLE a
 * TO b` the old topic holds the events of `a` up to the rename, the new topic those of `b` after
 * it; Kafka orders them per partition only. So, before the first event of `b`, the source
 * publishes a marker into every partition of the new topic: it names the old topic and, per
 * partition of it, the end offset right after the last event published before the rename. A sink
 * applies nothing of a new-topic partition past its marker until the offsets stored for every
 * partition of the old topic (in the target) have reached those ends.
 *
 * The marker's value is a JSON object that is not an event envelope; its key names the rename
 * (renameMarkerKey), so that a compacted data topic accepts it too. Sinks of ferry skip it; other
 * readers of the topic see one such record per partition and rename.
 */

export interface RenameMarker {
  /** Schema version key of the renamed table (`db.table@version`): the rename's id. */
  id: string;
  /** The topic of the table before the rename. */
  fromTopic: string;
  /** Per partition of fromTopic: its end offset once every event before the rename was acknowledged. */
  ends: Record<string, string>;
}

const TAG = 'ferry_rename_barrier';
const PREFIX = Buffer.from(`{"${TAG}":`);

/** The record key of a rename's markers: not a row key (no table has this column), never null. */
export function renameMarkerKey(id: string): string {
  return JSON.stringify({ [TAG]: id });
}

export function encodeRenameMarker(marker: RenameMarker): string {
  return JSON.stringify({ [TAG]: 1, id: marker.id, from_topic: marker.fromTopic, ends: marker.ends });
}

/** The marker a record value holds; undefined when it is not one (an event, a tombstone). */
export function parseRenameMarker(value: Buffer | string | null): RenameMarker | undefined {
  if (value === null) return undefined;
  const buf = typeof value === 'string' ? Buffer.from(value) : value;
  if (buf.length < PREFIX.length || !buf.subarray(0, PREFIX.length).equals(PREFIX)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(buf.toString('utf8'));
  } catch {
    return undefined;
  }
  const o = parsed as { id?: unknown; from_topic?: unknown; ends?: unknown };
  if (typeof o.id !== 'string' || typeof o.from_topic !== 'string') return undefined;
  if (typeof o.ends !== 'object' || o.ends === null) return undefined;
  const ends: Record<string, string> = {};
  for (const [p, e] of Object.entries(o.ends as Record<string, unknown>)) {
    if (!/^\d+$/.test(p) || typeof e !== 'string' || !/^\d+$/.test(e)) return undefined;
    ends[p] = e;
  }
  return { id: o.id, fromTopic: o.from_topic, ends };
}
