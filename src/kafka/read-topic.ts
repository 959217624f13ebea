import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { endOffsets, withAdmin } from './admin.js';

export interface ReadRecord {
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  /** Record headers as text (e.g. `ferry-leader-epoch`). */
  headers?: Record<string, string>;
}

/**
 * Reads a (small, usually compacted) topic from the beginning to its current end and returns
 * every record in partition order. Used for the offsets and schemas topics. A throwaway
 * consumer group is used and deleted afterwards.
 */
export async function readTopicToEnd(kafka: Kafka, topic: string, timeoutMs = 60_000): Promise<ReadRecord[]> {
  const ends = await withAdmin(kafka, async (admin) => {
    const topics = await admin.listTopics();
    if (!topics.includes(topic)) return null;
    return endOffsets(admin, topic);
  });
  if (!ends) return [];
  const pending = new Map<number, bigint>();
  for (const [p, high] of ends) if (high > 0n) pending.set(p, high);
  if (pending.size === 0) return [];

  const groupId = `ferry-reader-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1000 });
  const records: ReadRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out reading topic ${topic} to its end after ${timeoutMs} ms`)),
        timeoutMs,
      );
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const high = pending.get(batch.partition);
            for (const m of batch.messages) {
              if (high !== undefined && BigInt(m.offset) >= high) break;
              records.push({
                partition: batch.partition,
                offset: m.offset,
                key: m.key ? m.key.toString('utf8') : null,
                value: m.value ? m.value.toString('utf8') : null,
                ...(m.headers && Object.keys(m.headers).length > 0 ? { headers: textHeaders(m.headers) } : {}),
              });
            }
            const last = batch.messages.at(-1);
            if (high !== undefined && last && BigInt(last.offset) + 1n >= high) pending.delete(batch.partition);
            if (high !== undefined && BigInt(batch.highWatermark) >= high && batch.isEmpty())
              pending.delete(batch.partition);
            if (pending.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch((err: unknown) => {
          clearTimeout(timer);
          reject(err);
        });
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await withAdmin(kafka, (admin) => admin.deleteGroups([groupId])).catch(() => undefined);
  }
  records.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
  return records;
}

/** Last value per key (compaction semantics); tombstones remove the key. */
export function lastValuePerKey(records: ReadRecord[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of records) {
    if (r.key === null) continue;
    if (r.value === null) out.delete(r.key);
    else out.set(r.key, r.value);
  }
  return out;
}

function textHeaders(headers: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    const first = Array.isArray(v) ? v[0] : v;
    if (first !== undefined && first !== null) out[k] = String(first);
  }
  return out;
}
