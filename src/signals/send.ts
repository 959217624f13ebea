import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { ensureTopics, withAdmin } from '../kafka/admin.js';
import { createRecordProducer } from '../kafka/producer.js';
import { signalsTopic } from '../kafka/topics.js';
import { encodeSignal } from './signals.js';

/**
 * Asks the pipeline's source to snapshot `tables` again (`ferry snapshot`): one record on
 * `<pipeline>.__signals`, created when missing. A running source picks it up within
 * source.signalsIntervalMs; a stopped one at its next start. Returns the request id.
 */
export async function requestSnapshot(
  kafka: Kafka,
  pipeline: string,
  tables: string[],
  replicationFactor = 1,
): Promise<string> {
  const topic = signalsTopic(pipeline);
  await withAdmin(kafka, (admin) => ensureTopics(admin, [{ topic, partitions: 1, replicationFactor }]));
  const id = randomUUID();
  const producer = await createRecordProducer(kafka);
  try {
    await producer.send([
      { topic, key: id, value: encodeSignal({ type: 'snapshot', tables, requestedAt: Date.now() }), partition: 0 },
    ]);
  } finally {
    await producer.disconnect();
  }
  return id;
}
