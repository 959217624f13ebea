import type { Kafka } from 'kafkajs';
import { endOffsets, ensureTopics, SharedAdmin, type TopicSpec } from '../../kafka/admin.js';
import { createRecordProducer, type OutMessage, type RecordProducer } from '../../kafka/producer.js';
import { type ReadRecord, readTopicToEnd } from '../../kafka/read-topic.js';

/**
 * What the source runtime needs from Kafka, as a small interface so that unit tests can run the
 * runtime against an in-memory fake. `createKafkaTransport` is the real one (src/kafka).
 */
export interface SourceTransport {
  /** Creates the topics that are missing. */
  ensureTopics(specs: TopicSpec[]): Promise<void>;
  /** Partition count of an existing topic. */
  partitionCount(topic: string): Promise<number>;
  /** Resolves once Kafka acknowledged every message (acks = all). One call at a time. */
  send(messages: OutMessage[]): Promise<void>;
  /** Every record of a (small) topic, from the beginning to its current end. */
  readTopic(topic: string): Promise<ReadRecord[]>;
  /** End offset of partition 0 of a topic (0 when the topic does not exist). */
  endOffset?(topic: string): Promise<bigint>;
  /** End offset of every partition of a topic (empty when it does not exist; rename barriers, docs/schema-changes.md). */
  partitionEnds?(topic: string): Promise<Map<number, bigint>>;
  close(): Promise<void>;
}

export function createKafkaTransport(kafka: Kafka, opts: { compression?: 'none' | 'gzip' } = {}): SourceTransport {
  let producer: Promise<RecordProducer> | null = null;
  /** The producer once connected (null while it connects). */
  let connected: RecordProducer | null = null;
  const partitions = new Map<string, number>();
  // One admin client for the transport's life: the end-offset probe runs before every batch that
  // stores a position (fenced-transport.ts), and a client per call cost a connection each time.
  const admin = new SharedAdmin(kafka);
  /** Topics seen to exist (asked for end offsets without listing the topics first). */
  const existing = new Set<string>();
  const ends = (topic: string): Promise<Map<number, bigint> | null> =>
    admin.use(async (a) => {
      if (!existing.has(topic)) {
        if (!(await a.listTopics()).includes(topic)) return null;
        existing.add(topic);
      }
      try {
        return await endOffsets(a, topic);
      } catch (err) {
        // Deleted meanwhile? The next call lists the topics again.
        existing.delete(topic);
        throw err;
      }
    });
  const getProducer = (): Promise<RecordProducer> => {
    if (!producer) {
      const p = createRecordProducer(kafka, opts);
      producer = p;
      p.then(
        (ready) => {
          if (producer === p) connected = ready;
        },
        () => {
          if (producer === p) producer = null;
        },
      );
    }
    return producer;
  };
  return {
    async ensureTopics(specs) {
      await admin.use((a) => ensureTopics(a, specs));
    },
    async partitionCount(topic) {
      const known = partitions.get(topic);
      if (known !== undefined) return known;
      const meta = await admin.use((a) => a.fetchTopicMetadata({ topics: [topic] }));
      const count = meta.topics.find((t) => t.name === topic)?.partitions.length ?? 1;
      partitions.set(topic, count);
      return count;
    },
    async send(messages) {
      await (await getProducer()).send(messages);
    },
    readTopic: (topic) => readTopicToEnd(kafka, topic),
    partitionEnds: async (topic) => (await ends(topic)) ?? new Map<number, bigint>(),
    endOffset: async (topic) => (await ends(topic))?.get(0) ?? 0n,
    async close() {
      await admin.close();
      const p = producer;
      const ready = connected;
      producer = null;
      connected = null;
      if (ready) {
        await ready.disconnect();
      } else if (p) {
        // Still connecting (the broker may be down, and kafkajs retries for about 30 s): do not
        // wait for it; disconnect once it is connected after all.
        p.then((late) => late.disconnect()).catch(() => undefined);
      }
    },
  };
}
