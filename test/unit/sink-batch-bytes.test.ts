import { describe, expect, it } from 'vitest';
import { ChunkBatcher, cutChunks, recordBytes } from '../../src/runtime/sink/batcher.js';
import type { InRecord } from '../../src/runtime/sink/decode.js';

function rec(offset: number, valueBytes: number): InRecord {
  return {
    topic: 't',
    partition: 0,
    offset: String(offset),
    key: Buffer.from('{"id":1}'),
    value: Buffer.alloc(valueBytes),
  };
}

describe('sink batches bounded in bytes', () => {
  it('recordBytes counts key and value', () => {
    expect(recordBytes(rec(0, 100))).toBe(108);
    expect(recordBytes({ topic: 't', partition: 0, offset: '0', key: null, value: null })).toBe(0);
  });

  it('cuts a partition at the count or the byte bound, whichever comes first, keeping order', () => {
    const records = Array.from({ length: 10 }, (_, i) => rec(i, 92)); // 100 bytes each
    expect(cutChunks(records, 4, 1_000_000).map((c) => c.length)).toEqual([4, 4, 2]);
    expect(cutChunks(records, 1000, 300).map((c) => c.length)).toEqual([3, 3, 3, 1]);
    expect(
      cutChunks(records, 1000, 300)
        .flat()
        .map((r) => r.offset),
    ).toEqual(records.map((r) => r.offset));
  });

  it('a record larger than the bound is a chunk of its own', () => {
    const records = [rec(0, 50), rec(1, 5000), rec(2, 50)];
    expect(cutChunks(records, 1000, 1000).map((c) => c.map((r) => r.offset))).toEqual([['0'], ['1'], ['2']]);
  });

  it('the batcher applies chunks of several partitions together up to batchBytes', async () => {
    const applied: number[] = [];
    const batcher = new ChunkBatcher({
      batchSize: 1000,
      batchBytes: 250,
      lingerMs: 5,
      stateOf: () => undefined,
      apply: async (records) => {
        applied.push(records.length);
      },
      onError: () => undefined,
      afterFlush: () => undefined,
    });
    const chunk = () => [rec(0, 92)]; // 100 bytes
    for (let i = 0; i < 3; i++) batcher.enter();
    const done = ['a', 'b', 'c'].map((tp) => batcher.submit(tp, chunk(), async () => undefined));
    await Promise.all(done);
    batcher.close();
    // 100 + 100 fit under 250; the third would pass it and goes in the next batch.
    expect(applied).toEqual([2, 1]);
  });
});
