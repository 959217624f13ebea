import { CompressionTypes, type Kafka, Partitioners, type Producer } from 'kafkajs';
import { FerryError } from '../api/errors.js';

export interface OutMessage {
  topic: string;
  /** A Buffer passes bytes through unchanged (e.g. a dead-lettered record that is not UTF-8). */
  key: string | Buffer | null;
  /** null = tombstone. */
  value: string | Buffer | null;
  headers?: Record<string, string>;
  /** Explicit partition; normally Kafka's key hashing decides. */
  partition?: number;
}

export interface RecordProducer {
  /** Resolves once Kafka acknowledged every message (acks = all). */
  send(messages: OutMessage[]): Promise<void>;
  disconnect(): Promise<void>;
}

/**
 * Producer for change events. Settings follow the delivery rules in docs/delivery.md:
 * acks = all, retries on, and one request in flight per broker connection, so a retried
 * request can never overtake a later one and per-key order holds. The idempotent producer
 * of kafkajs is not used (it is experimental there); duplicates after a crash are absorbed by
 * the idempotent sinks.
 */
export async function createRecordProducer(
  kafka: Kafka,
  opts: { compression?: 'none' | 'gzip' } = {},
): Promise<RecordProducer> {
  const producer: Producer = kafka.producer({
    allowAutoTopicCreation: false,
    // Murmur2 key hashing, as the Java client does: a key lands on the same partition whichever
    // client produced it (docs/delivery.md).
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: false,
    maxInFlightRequests: 1,
    retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 10_000 },
  });
  await producer.connect();
  const compression = opts.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  return {
    async send(messages) {
      if (messages.length === 0) return;
      const byTopic = new Map<string, OutMessage[]>();
      for (const m of messages) {
        let list = byTopic.get(m.topic);
        if (!list) {
          list = [];
          byTopic.set(m.topic, list);
        }
        list.push(m);
      }
      try {
        await producer.sendBatch({
          acks: -1,
          compression,
          topicMessages: [...byTopic].map(([topic, list]) => ({
            topic,
            messages: list.map((m) => ({
              key: m.key,
              value: m.value,
              ...(m.headers ? { headers: m.headers } : {}),
              ...(m.partition === undefined ? {} : { partition: m.partition }),
            })),
          })),
        });
      } catch (err) {
        if (isTooLarge(err)) {
          const biggest = Math.max(...messages.map((m) => (m.value?.length ?? 0) + (m.key?.length ?? 0)));
          throw new FerryError(
            'FERRY_MESSAGE_TOO_LARGE',
            `Kafka refused an event of about ${biggest} bytes as too large (topic ${messages[0]?.topic}). ` +
              "Raise the topic's max.message.bytes (and the broker's message.max.bytes), e.g. " +
              '`kafka-configs --alter --entity-type topics --entity-name <topic> --add-config max.message.bytes=16777216`, then restart ferry: it resumes from the stored position.',
            { cause: err, retriable: false },
          );
        }
        throw new FerryError('FERRY_CONNECTION', `Kafka did not acknowledge a batch: ${(err as Error).message}`, {
          cause: err,
          retriable: true,
        });
      }
    },
    disconnect: () => producer.disconnect(),
  };
}

function isTooLarge(err: unknown): boolean {
  for (let e = err as { type?: string; message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.type === 'MESSAGE_TOO_LARGE' || /larger than the max/i.test(e.message ?? '')) return true;
  }
  return false;
}
