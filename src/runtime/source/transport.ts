import type { Kafka } from 'kafkajs';
import { endOffsets, ensureTopics, type TopicSpec, withAdmin } from '../../kafka/admin.js';
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
      await withAdmin(kafka, (admin) => ensureTopics(admin, specs));
    },
    async partitionCount(topic) {
      const known = partitions.get(topic);
      if (known !== undefined) return known;
      const meta = await withAdmin(kafka, (admin) => admin.fetchTopicMetadata({ topics: [topic] }));
      const count = meta.topics.find((t) => t.name === topic)?.partitions.length ?? 1;
      partitions.set(topic, count);
      return count;
    },
    async send(messages) {
      await (await getProducer()).send(messages);
    },
    readTopic: (topic) => readTopicToEnd(kafka, topic),
    partitionEnds: (topic) =>
      withAdmin(kafka, async (admin) => {
        if (!(await admin.listTopics()).includes(topic)) return new Map<number, bigint>();
        return endOffsets(admin, topic);
      }),
    endOffset: (topic) =>
      withAdmin(kafka, async (admin) => {
        if (!(await admin.listTopics()).includes(topic)) return 0n;
        return (await endOffsets(admin, topic)).get(0) ?? 0n;
      }),
    async close() {
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
