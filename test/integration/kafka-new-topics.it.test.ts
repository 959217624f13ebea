/**
 * Regression (issue 21, the flaky PostgreSQL end-to-end test): a batch sent at once after
 * ensureTopics() created its topics was sometimes written twice. The broker lists a new
 * partition's leader a moment before it takes writes; a produce request spanning several
 * partitions then half succeeds, kafkajs re-sends all of it, and the partitions that were
 * written get the same records again. The source runtime sends its first snapshot batch right
 * after creating the pipeline's topics, so rows reached the sink twice and values the target
 * cannot hold were dead-lettered twice. ensureTopics() now returns only once every partition
 * of the new topics is served by its leader.
 */
import type { Kafka } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureTopics, withAdmin } from '../../src/kafka/admin.js';
import { createRecordProducer, type OutMessage } from '../../src/kafka/producer.js';
import { kafkaClient, uniqueName } from '../helpers/sandbox.js';

const TOPICS = 9;
const PARTITIONS = 3;
const KEYS = 30;
/** Without the wait, about one round in four wrote duplicates on the sandbox broker. */
const ROUNDS = 12;

describe('Kafka topics created by ferry', () => {
  const kafka: Kafka = kafkaClient('ferry-new-topics');
  const created: string[] = [];

  afterAll(async () => {
    if (created.length > 0) {
      await withAdmin(kafka, (admin) => admin.deleteTopics({ topics: created, timeout: 10_000 })).catch(
        () => undefined,
      );
    }
  });

  it('a batch sent right after ensureTopics() created its topics reaches Kafka exactly once', async () => {
    const written: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const prefix = uniqueName(`new-topics-${round}`);
      const topics = Array.from({ length: TOPICS }, (_, i) => `${prefix}.t${i}`);
      created.push(...topics);
      await withAdmin(kafka, (admin) =>
        ensureTopics(
          admin,
          topics.map((topic) => ({ topic, partitions: PARTITIONS, replicationFactor: 1 })),
        ),
      );
      const messages: OutMessage[] = topics.flatMap((topic) =>
        Array.from({ length: KEYS }, (_, k) => ({ topic, key: JSON.stringify({ id: k }), value: `row ${k}` })),
      );
      const producer = await createRecordProducer(kafka);
      try {
        await producer.send(messages);
      } finally {
        await producer.disconnect();
      }
      const inKafka = await withAdmin(kafka, async (admin) => {
        let n = 0;
        for (const topic of topics) for (const o of await admin.fetchTopicOffsets(topic)) n += Number(o.high);
        return n;
      });
      written.push(inKafka);
    }
    expect(written).toEqual(Array.from({ length: ROUNDS }, () => TOPICS * KEYS));
  });
});
