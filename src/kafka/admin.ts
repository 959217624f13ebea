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
  const admin = await connectAdmin(kafka);
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

async function connectAdmin(kafka: Kafka): Promise<Admin> {
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (err) {
    await admin.disconnect().catch(() => undefined);
    throw new FerryError(
      'FERRY_CONNECTION',
      `cannot reach Kafka: ${(err as Error).message}. Check kafka.brokers and that the broker is running.`,
      { cause: err, retriable: true },
    );
  }
  return admin;
}

/**
 * One admin client kept connected for calls that repeat (the source's end-offset probe before
 * every batch that stores a position): connecting a client per call costs a connection and a
 * metadata round trip each time. A call that fails retires the client: later calls connect a
 * new one, and the retired one is disconnected once the calls still using it have ended.
 */
export class SharedAdmin {
  private readonly kafka: Kafka;
  private current: Lease | null = null;
  private closed = false;

  constructor(kafka: Kafka) {
    this.kafka = kafka;
  }

  async use<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    if (this.closed) throw new FerryError('FERRY_CONNECTION', 'the Kafka admin client is closed', { retriable: true });
    let lease = this.current;
    if (!lease) {
      lease = { admin: connectAdmin(this.kafka), users: 0, retired: false };
      this.current = lease;
    }
    lease.users++;
    try {
      return await fn(await lease.admin);
    } catch (err) {
      lease.retired = true;
      if (this.current === lease) this.current = null;
      throw err;
    } finally {
      lease.users--;
      if (lease.retired && lease.users === 0) disconnectLease(lease);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const lease = this.current;
    this.current = null;
    if (lease) {
      lease.retired = true;
      await lease.admin.then((a) => a.disconnect()).catch(() => undefined);
    }
  }
}

interface Lease {
  admin: Promise<Admin>;
  /** Calls using the client now. */
  users: number;
  /** A call failed (or the owner closed): no new calls; disconnected when the last one ends. */
  retired: boolean;
}

function disconnectLease(lease: Lease): void {
  lease.admin.then((a) => a.disconnect()).catch(() => undefined);
}
