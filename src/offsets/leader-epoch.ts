import type { OutMessage } from '../kafka/producer.js';
import type { ReadRecord } from '../kafka/read-topic.js';
import { offsetsTopic } from '../kafka/topics.js';

/**
 * Leader epochs in `<pipeline>.__offsets` (docs/failover.md). With `source.failover`, the instance
 * that becomes active writes a claim record (key `<sourceId>.__leader`) with the next epoch, and
 * every position it stores carries that epoch; data records carry it in the `ferry-leader-epoch`
 * header. An instance compares the latest epoch in the topic with its own before it stores a
 * position, and steps down when a newer one exists.
 */
export const EPOCH_HEADER = 'ferry-leader-epoch';

export interface LeaderClaim {
  epoch: number;
  /** The instance's name (`source.instance`, default host:pid). */
  instance: string;
  /** When it became active, ms since the epoch. */
  at: number;
}

export const claimKey = (sourceId: string): string => `${sourceId}.__leader`;

export function claimMessage(pipeline: string, sourceId: string, claim: LeaderClaim): OutMessage {
  return {
    topic: offsetsTopic(pipeline),
    key: claimKey(sourceId),
    value: JSON.stringify({ format: 1, leader: claim }),
    partition: 0,
    headers: { [EPOCH_HEADER]: String(claim.epoch) },
  };
}

/** The epoch a record of the offsets topic carries (claims and stored positions), or null. */
export function epochOf(value: string | null): number | null {
  if (value === null) return null;
  try {
    const v = JSON.parse(value) as { epoch?: unknown; leader?: { epoch?: unknown } };
    const e = v.leader?.epoch ?? v.epoch;
    return typeof e === 'number' && Number.isInteger(e) ? e : null;
  } catch {
    return null;
  }
}

/** The highest epoch among the records of `sourceId` (its positions and its claims); 0 when none. */
export function highestEpoch(records: ReadRecord[], sourceId: string): number {
  let max = 0;
  for (const r of records) {
    if (r.key !== sourceId && r.key !== claimKey(sourceId)) continue;
    const e = epochOf(r.value);
    if (e !== null && e > max) max = e;
  }
  return max;
}

/** The last claim of `sourceId` (who became active last, with which epoch), or null. */
export function latestClaim(records: ReadRecord[], sourceId: string): LeaderClaim | null {
  let last: LeaderClaim | null = null;
  for (const r of records) {
    if (r.key !== claimKey(sourceId) || r.value === null) continue;
    try {
      const c = (JSON.parse(r.value) as { leader?: Partial<LeaderClaim> }).leader;
      if (c && typeof c.epoch === 'number')
        last = { epoch: c.epoch, instance: String(c.instance ?? ''), at: Number(c.at ?? 0) };
    } catch {
      // not a claim ferry wrote
    }
  }
  return last;
}

/**
 * `message` as the instance of `epoch` sends it: the epoch header on every record, and the epoch
 * inside a stored position's JSON value.
 */
export function stampEpoch(message: OutMessage, epoch: number, pipeline: string): OutMessage {
  const headers = { ...message.headers, [EPOCH_HEADER]: String(epoch) };
  if (message.topic !== offsetsTopic(pipeline) || typeof message.value !== 'string') return { ...message, headers };
  const value = JSON.parse(message.value) as Record<string, unknown>;
  return { ...message, headers, value: JSON.stringify({ ...value, epoch }) };
}
