/**
 * The dead-letter topic `<pipeline>.dlq` (docs/sinks.md#dead-letters): a record the sink cannot
 * decode, or that the target rejects for a data reason, is copied there unchanged (key and value
 * bytes), with headers saying why and where it came from. The sink moves past it only after
 * Kafka acknowledged the copy, so nothing is lost (a crash in between may copy it twice).
 */
import type { FerryError } from '../../api/index.js';
import type { OutMessage, RecordProducer } from '../../kafka/producer.js';
import { dlqTopic } from '../../kafka/topics.js';
import type { InRecord } from './decode.js';

export const DLQ_HEADERS = {
  reason: 'ferry.reason',
  errorCode: 'ferry.error_code',
  topic: 'ferry.topic',
  partition: 'ferry.partition',
  offset: 'ferry.offset',
  table: 'ferry.table',
  failedAt: 'ferry.failed_at',
} as const;

export interface DeadLetter {
  record: InRecord;
  error: FerryError;
  /** Source `db.table` when known. */
  table?: string;
}

const MAX_REASON = 2000;

export function deadLetterMessage(pipeline: string, d: DeadLetter, now = new Date()): OutMessage {
  const headers: Record<string, string> = {
    [DLQ_HEADERS.reason]: d.error.message.slice(0, MAX_REASON),
    [DLQ_HEADERS.errorCode]: d.error.code,
    [DLQ_HEADERS.topic]: d.record.topic,
    [DLQ_HEADERS.partition]: String(d.record.partition),
    [DLQ_HEADERS.offset]: d.record.offset,
    [DLQ_HEADERS.failedAt]: now.toISOString(),
  };
  if (d.table) headers[DLQ_HEADERS.table] = d.table;
  return { topic: dlqTopic(pipeline), key: d.record.key, value: d.record.value, headers };
}

export async function sendDeadLetters(
  producer: RecordProducer,
  pipeline: string,
  letters: DeadLetter[],
): Promise<void> {
  if (letters.length === 0) return;
  await producer.send(letters.map((d) => deadLetterMessage(pipeline, d)));
}
