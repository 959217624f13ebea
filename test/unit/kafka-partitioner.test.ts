import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { keyHashPartitioner, murmur2 } from '../../src/kafka/partitioner.js';

const metadata = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0 }));

describe('keyHashPartitioner', () => {
  it('puts every key on the partition kafkajs’ DefaultPartitioner (the Java client’s murmur2) puts it on', () => {
    const ours = keyHashPartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    const keys: Array<string | Buffer> = ['', 'a', 'ab', 'abc', 'abcd', 'abcde', '{"id":1}', '{"id":"ü✓😀"}'];
    for (let i = 0; i < 3000; i++) keys.push(JSON.stringify({ id: i * 7919, name: `k${i}`.repeat(i % 13) }));
    for (let i = 0; i < 200; i++) keys.push(Buffer.from(Array.from({ length: i }, (_, j) => (i * 31 + j * 17) % 256)));
    keys.push('x'.repeat(5000));
    for (const n of [1, 3, 6, 7, 64]) {
      const partitionMetadata = metadata(n);
      for (const key of keys) {
        const message = { key, value: 'v' };
        expect(ours({ topic: 't', partitionMetadata, message })).toBe(
          theirs({ topic: 't', partitionMetadata, message }),
        );
      }
    }
  });

  it('keeps an explicit partition', () => {
    const ours = keyHashPartitioner();
    expect(ours({ topic: 't', partitionMetadata: metadata(6), message: { key: 'k', value: 'v', partition: 4 } })).toBe(
      4,
    );
  });

  it('matches the reference murmur2 value of a known key', () => {
    // Kafka's Utils.murmur2("21".getBytes()) is -973932308 (the Java client's test vectors).
    expect(murmur2(Buffer.from('21'))).toBe(-973932308);
  });
});
