import type { Admin, Kafka } from 'kafkajs';
import { FerryError } from '../api/errors.js';
import { waitUntilWritable } from './topic-ready.js';

export interface TopicSpec {
  topic: string;
  partitions: number;
  replicationFactor: number;
  /** Compacted topics keep the last value per key (offsets, schemas). */
  compacted?: boolean;
}

/** Creates the topics that do not exist yet and waits until they take writes; existing topics are left as they are. */
export async function ensureTopics(admin: Admin, specs: TopicSpec[]): Promise<string[]> {
  if (specs.length === 0) return [];
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.topic));
  if (missing.length === 0) return [];
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((s) => ({
        topic: s.topic,
        numPartitions: s.partitions,
        replicationFactor: s.replicationFactor,
        configEntries: s.compacted
          ? [
              { name: 'cleanup.policy', value: 'compact' },
              { name: 'min.cleanable.dirty.ratio', value: '0.1' },
              { name: 'segment.ms', value: '600000' },
            ]
          : [],
      })),
    });
  } catch (err) {
    // Another process may have created the same topic concurrently; that is fine.
    const after = new Set(await admin.listTopics());
    const still = missing.filter((s) => !after.has(s.topic));
    if (still.length > 0) {
      throw new FerryError(
        'FERRY_CONNECTION',
        `could not create Kafka topics ${still.map((s) => s.topic).join(', ')}: ${(err as Error).message}. ` +
          'Check that the broker allows topic creation and that replicationFactor does not exceed the number of brokers.',
        { cause: err, retriable: true },
      );
    }
  }
  // Leaders are listed a moment before they take writes; a batch sent in between may be written twice.
  const created = missing.map((s) => s.topic);
  await waitUntilWritable(admin, created);
  return created;
}

/** High-water marks (next offset to be written) per partition. */
export async function endOffsets(admin: Admin, topic: string): Promise<Map<number, bigint>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
}

export async function withAdmin<T>(kafka: Kafka, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (err) {
    throw new FerryError(
      'FERRY_CONNECTION',
      `cannot reach Kafka: ${(err as Error).message}. Check kafka.brokers and that the broker is running.`,
      { cause: err, retriable: true },
    );
  }
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}
