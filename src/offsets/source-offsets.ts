import type { Kafka } from 'kafkajs';
import { FerryError } from '../api/errors.js';
import type { SourcePosition, StoredSourceOffset } from '../api/position.js';
import { withAdmin } from '../kafka/admin.js';
import { createRecordProducer, type OutMessage } from '../kafka/producer.js';
import { type ReadRecord, readTopicToEnd } from '../kafka/read-topic.js';
import { offsetsTopic } from '../kafka/topics.js';
import { claimKey, EPOCH_HEADER, epochOf } from './leader-epoch.js';

/**
 * Source positions in Kafka (docs/delivery.md). One compacted topic per pipeline,
 * `<pipeline>.__offsets`, one partition; the record key is the source id (by default the
 * pipeline name) and the value is JSON:
 *
 *   {"format":1,"connector":"mysql","phase":"stream","position":{...},"snapshot":{...}?,
 *    "writtenAt":1700000000000,"describe":"binlog.000003:1234"}
 *
 * The last record for the key wins; a tombstone (null value) forgets the position, so the next
 * start takes a new snapshot. With `source.failover` (docs/failover.md#fencing) a record whose
 * leader epoch is lower than an epoch read before it (a claim or a position) was sent by a former
 * active instance and reached Kafka after a newer one took over: it never wins.
 */
export const SOURCE_OFFSET_FORMAT = 1;

export interface SourceOffsetRecord extends StoredSourceOffset {
  format: number;
  connector: string;
  /** Human-readable position (`binlog.000003:1234`), for logs and `ferry status`. */
  describe?: string;
  /** Leader epoch of the instance that stored it (`source.failover`; docs/failover.md). */
  epoch?: number;
}

export function encodeSourceOffset(offset: StoredSourceOffset, connector: string, describe?: string): string {
  const record: SourceOffsetRecord = {
    format: SOURCE_OFFSET_FORMAT,
    connector,
    phase: offset.phase,
    position: offset.position,
    ...(offset.snapshot ? { snapshot: offset.snapshot } : {}),
    ...(offset.tables ? { tables: offset.tables } : {}),
    ...(offset.signals === undefined ? {} : { signals: offset.signals }),
    writtenAt: offset.writtenAt,
    ...(describe === undefined ? {} : { describe }),
  };
  return JSON.stringify(record);
}

/** Parses a stored offset; FERRY_DECODE when the record is not one ferry wrote. */
export function decodeSourceOffset(value: string): SourceOffsetRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    throw new FerryError('FERRY_DECODE', `stored source offset is not JSON: ${(err as Error).message}`, { cause: err });
  }
  const o = parsed as Partial<SourceOffsetRecord> | null;
  if (
    !o ||
    typeof o !== 'object' ||
    (o.phase !== 'snapshot' && o.phase !== 'stream') ||
    !o.position ||
    typeof o.position !== 'object' ||
    Array.isArray(o.position)
  ) {
    throw new FerryError('FERRY_DECODE', `stored source offset has an unexpected shape: ${value.slice(0, 200)}`);
  }
  if (typeof o.format === 'number' && o.format > SOURCE_OFFSET_FORMAT) {
    throw new FerryError(
      'FERRY_DECODE',
      `stored source offset has format ${o.format}, newer than this ferry understands (${SOURCE_OFFSET_FORMAT}); upgrade ferry`,
    );
  }
  const record: SourceOffsetRecord = {
    format: o.format ?? SOURCE_OFFSET_FORMAT,
    connector: String(o.connector ?? ''),
    phase: o.phase,
    position: o.position as SourcePosition,
    writtenAt: typeof o.writtenAt === 'number' ? o.writtenAt : 0,
  };
  if (o.snapshot) record.snapshot = o.snapshot;
  if (Array.isArray(o.tables)) record.tables = o.tables.map(String);
  if (typeof o.signals === 'string') record.signals = o.signals;
  if (typeof o.describe === 'string') record.describe = o.describe;
  if (typeof o.epoch === 'number') record.epoch = o.epoch;
  return record;
}

/** The Kafka message that stores `offset` for `sourceId`. */
export function sourceOffsetMessage(
  pipeline: string,
  sourceId: string,
  offset: StoredSourceOffset,
  connector: string,
  describe?: string,
): OutMessage {
  return {
    topic: offsetsTopic(pipeline),
    key: sourceId,
    value: encodeSourceOffset(offset, connector, describe),
    partition: 0,
  };
}

/** The tombstone that forgets the stored position of `sourceId` (next start re-snapshots). */
export function sourceOffsetTombstone(pipeline: string, sourceId: string): OutMessage {
  return { topic: offsetsTopic(pipeline), key: sourceId, value: null, partition: 0 };
}

/** What the offsets topic says of a source's position. */
export interface StoredPositionRead {
  /** The position to resume from (null: none stored, or forgotten). */
  offset: SourceOffsetRecord | null;
  /** Records of `sourceId` skipped for their lower epoch, in topic order. */
  stale: Array<{ offset: string; epoch: number; highest: number }>;
  /**
   * The last record of `sourceId` in the topic is a stale one and no accepted record remains
   * before it (compaction removed them): where to resume is unknown.
   */
  shadowed: boolean;
}

/** The epoch of a position record or tombstone: in its JSON value, else in its header. */
function recordEpoch(r: ReadRecord): number | null {
  const fromValue = epochOf(r.value);
  if (fromValue !== null) return fromValue;
  const header = r.headers?.[EPOCH_HEADER];
  return header !== undefined && /^\d+$/.test(header) ? Number(header) : null;
}

/**
 * Reads the stored position of `sourceId` from the records of the offsets topic, in order: the
 * last record of the key wins, except one whose epoch is lower than the highest epoch read before
 * it (claims and positions of `sourceId`). Records without an epoch (no failover) always count.
 */
export function readStoredPosition(records: ReadRecord[], sourceId: string): StoredPositionRead {
  const claim = claimKey(sourceId);
  let highest = 0;
  let value: string | null = null;
  let accepted = false;
  let lastStale = false;
  const stale: StoredPositionRead['stale'] = [];
  for (const r of records) {
    if (r.key === claim) {
      const e = epochOf(r.value);
      if (e !== null && e > highest) highest = e;
      continue;
    }
    if (r.key !== sourceId) continue;
    const e = recordEpoch(r);
    if (e !== null && e < highest) {
      stale.push({ offset: r.offset, epoch: e, highest });
      lastStale = true;
      continue;
    }
    if (e !== null) highest = e;
    value = r.value;
    accepted = true;
    lastStale = false;
  }
  return {
    offset: value === null ? null : decodeSourceOffset(value),
    stale,
    shadowed: lastStale && !accepted,
  };
}

/** Latest stored offset of `sourceId` among the records of the offsets topic (stale epochs never win). */
export function latestSourceOffset(records: ReadRecord[], sourceId: string): SourceOffsetRecord | null {
  return readStoredPosition(records, sourceId).offset;
}

/** Reads the stored offset of a source (for `ferry status` and tests). */
export async function readSourceOffset(
  kafka: Kafka,
  pipeline: string,
  sourceId: string = pipeline,
): Promise<SourceOffsetRecord | null> {
  return latestSourceOffset(await readTopicToEnd(kafka, offsetsTopic(pipeline)), sourceId);
}

/**
 * Forgets the stored position of a source, so that its next start takes a new initial snapshot
 * (e.g. after the binlog holding the old position was purged). Used by `ferry source --resnapshot`.
 */
export async function resetSourceOffset(kafka: Kafka, pipeline: string, sourceId: string = pipeline): Promise<void> {
  const exists = await withAdmin(kafka, async (admin) => (await admin.listTopics()).includes(offsetsTopic(pipeline)));
  if (!exists) return;
  const producer = await createRecordProducer(kafka);
  try {
    await producer.send([sourceOffsetTombstone(pipeline, sourceId)]);
  } finally {
    await producer.disconnect();
  }
}
