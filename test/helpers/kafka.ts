/**
 * Kafka helpers for integration and fault tests: clients for the sandbox broker and ways to read
 * topics back (data topics as parsed envelopes, the offsets and schemas topics).
 */
import type { Kafka } from 'kafkajs';
import { type Envelope, parseEnvelope } from '../../src/event/envelope.js';
import { withAdmin } from '../../src/kafka/admin.js';
import { createKafka } from '../../src/kafka/client.js';
import { type ReadRecord, readTopicToEnd } from '../../src/kafka/read-topic.js';
import { schemasTopic } from '../../src/kafka/topics.js';
import { readSourceOffset, type SourceOffsetRecord } from '../../src/offsets/source-offsets.js';
import { getSandbox } from './sandbox.js';

/** A ferry Kafka client (createKafka) for the sandbox broker; kafkajs warnings are dropped. */
export function sandboxKafka(clientId = 'ferry-test'): Kafka {
  return createKafka({ brokers: getSandbox().kafka.brokers, clientId });
}

export interface ConsumedRecord {
  partition: number;
  offset: string;
  key: string | null;
  /** null for tombstones. */
  value: Envelope | null;
}

/** Every record of a topic, from the beginning to its current end, envelopes parsed. */
export async function readEnvelopes(kafka: Kafka, topic: string): Promise<ConsumedRecord[]> {
  const records = await readTopicToEnd(kafka, topic);
  return records.map((r) => ({
    partition: r.partition,
    offset: r.offset,
    key: r.key,
    value: r.value === null ? null : parseEnvelope(r.value),
  }));
}

/** Reads a topic again and again until `done(records)` holds (or throws after `timeoutMs`). */
export async function waitForRecords(
  kafka: Kafka,
  topic: string,
  done: (records: ConsumedRecord[]) => boolean,
  timeoutMs = 60_000,
): Promise<ConsumedRecord[]> {
  const start = Date.now();
  let last: ConsumedRecord[] = [];
  for (;;) {
    if (await topicExists(kafka, topic)) {
      last = await readEnvelopes(kafka, topic);
      if (done(last)) return last;
    }
    if (Date.now() - start > timeoutMs) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for records in ${topic}; have ${last.length}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Non-tombstone records only. */
export function events(records: ConsumedRecord[]): Array<ConsumedRecord & { value: Envelope }> {
  return records.filter((r): r is ConsumedRecord & { value: Envelope } => r.value !== null);
}

export async function topicExists(kafka: Kafka, topic: string): Promise<boolean> {
  return withAdmin(kafka, async (admin) => (await admin.listTopics()).includes(topic));
}

export async function listTopics(kafka: Kafka, prefix: string): Promise<string[]> {
  return withAdmin(kafka, async (admin) => (await admin.listTopics()).filter((t) => t.startsWith(prefix)).sort());
}

/** The stored source offset of a pipeline (null when none). */
export function storedOffset(kafka: Kafka, pipeline: string): Promise<SourceOffsetRecord | null> {
  return readSourceOffset(kafka, pipeline);
}

/** Records of the schemas topic: key `db.table@version`, value the TableSchema JSON. */
export async function readSchemas(kafka: Kafka, pipeline: string): Promise<ReadRecord[]> {
  return readTopicToEnd(kafka, schemasTopic(pipeline));
}
