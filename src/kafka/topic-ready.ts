/**
 * Waiting until new topics accept writes.
 *
 * A broker lists a new partition's leader in its metadata a moment before it acts as that
 * leader, and in between it answers produce requests for the partition with
 * NOT_LEADER_OR_FOLLOWER. kafkajs then re-sends the whole request to that broker, so the
 * records of the partitions that were written the first time are written again: the first
 * batch after a topic's creation could reach Kafka twice (seen on a single-broker sandbox in
 * about one batch in four). ListOffsets is answered by the same leader check, so a topic
 * whose every partition answers it takes writes too.
 */
import type { Admin } from 'kafkajs';
import { FerryError } from '../api/errors.js';

/** Kafka errors that mean "this partition has no working leader yet". */
const NOT_READY = new Set(['NOT_LEADER_FOR_PARTITION', 'LEADER_NOT_AVAILABLE', 'UNKNOWN_TOPIC_OR_PARTITION']);

export interface WritableOptions {
  /** Give up after this long, ms (a retriable FERRY_CONNECTION error). */
  timeoutMs?: number;
  /** Pause between two checks, ms. */
  intervalMs?: number;
}

/** Resolves once every partition of every topic is served by its leader. */
export async function waitUntilWritable(admin: Admin, topics: string[], opts: WritableOptions = {}): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const intervalMs = opts.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  const pending = [...topics];
  while (pending.length > 0) {
    const topic = pending[0]!;
    try {
      await admin.fetchTopicOffsets(topic);
      pending.shift();
      continue;
    } catch (err) {
      if (!notReady(err)) throw err;
      if (Date.now() > deadline) {
        throw new FerryError(
          'FERRY_CONNECTION',
          `Kafka topic ${topic} was created, but its partitions still have no leader that accepts writes after ` +
            `${timeoutMs} ms (${(err as Error).message}). Check the broker logs; ferry retries.`,
          { cause: err, retriable: true },
        );
      }
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A leadership error, also when kafkajs wrapped it after its own retries. */
function notReady(err: unknown): boolean {
  for (let e = err as { type?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (typeof e.type === 'string' && NOT_READY.has(e.type)) return true;
  }
  return false;
}
