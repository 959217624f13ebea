import { createHash } from 'node:crypto';

/**
 * Topic naming. Data topics are `<pipeline>.<db>.<table>`; internal topics start with
 * `<pipeline>.__`. Kafka allows only [A-Za-z0-9._-] and 249 characters, so other characters
 * (spaces, quotes, unicode) become `_` and a short hash of the original name is appended
 * whenever that happened, so two different tables never share a topic.
 */
const LEGAL = /^[A-Za-z0-9._-]+$/;
const MAX_TOPIC = 249;

export function topicPart(name: string): string {
  if (name.length > 0 && LEGAL.test(name) && name !== '.' && name !== '..') return name;
  const cleaned = name.replace(/[^A-Za-z0-9._-]/g, '_');
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${cleaned}_${hash}`;
}

export function dataTopic(pipeline: string, db: string, table: string): string {
  const topic = `${pipeline}.${topicPart(db)}.${topicPart(table)}`;
  if (topic.length <= MAX_TOPIC) return topic;
  const hash = createHash('sha256').update(topic).digest('hex').slice(0, 16);
  return `${topic.slice(0, MAX_TOPIC - 17)}_${hash}`;
}

export const offsetsTopic = (pipeline: string): string => `${pipeline}.__offsets`;
export const schemasTopic = (pipeline: string): string => `${pipeline}.__schemas`;
/** Snapshot requests to a running source (`ferry snapshot`). */
export const signalsTopic = (pipeline: string): string => `${pipeline}.__signals`;
/** BEGIN/END records of the source's transactions, one partition, in commit order (docs/transactions.md). */
export const transactionsTopic = (pipeline: string): string => `${pipeline}.__transactions`;

/** Leader election of the source instances (source.failover): topic and consumer group. */
export const leaderTopic = (pipeline: string): string => `${pipeline}.__leader`;
export const dlqTopic = (pipeline: string): string => `${pipeline}.dlq`;

/** True for topics that carry row changes of this pipeline (not internal, not the DLQ). */
export function isDataTopic(pipeline: string, topic: string): boolean {
  return topic.startsWith(`${pipeline}.`) && !topic.startsWith(`${pipeline}.__`) && topic !== dlqTopic(pipeline);
}
