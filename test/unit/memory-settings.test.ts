import { describe, expect, it } from 'vitest';
import { configFromObject } from '../../src/config/index.js';
import { memoryFlags } from '../../src/pipeline/memory.js';

const base = {
  name: 'mem',
  kafka: { brokers: ['127.0.0.1:9092'] },
  source: { kind: 'mysql', url: 'mysql://u:p@127.0.0.1:3306/db', tables: ['db.*'] },
  sink: { kind: 'postgres', url: 'postgres://u:p@127.0.0.1:5432/db' },
};

describe('memory settings', () => {
  it('defaults to a 75% heap growth and an 8 MB semi-space', () => {
    const config = configFromObject(base, { env: {} });
    expect(config.memory).toEqual({ heapGrowthPercent: 75 });
    expect(memoryFlags(config.memory, '')).toEqual(['--heap-growing-percent=75', '--max-semi-space-size=8']);
  });

  it('0 leaves the heap to V8', () => {
    const config = configFromObject({ ...base, memory: { heapGrowthPercent: 0 } }, { env: {} });
    expect(memoryFlags(config.memory, '')).toEqual([]);
  });

  it('flags the process was started with win', () => {
    expect(memoryFlags({ heapGrowthPercent: 30 }, '--max-old-space-size=512 --heap-growing-percent=10')).toEqual([
      '--max-semi-space-size=8',
    ]);
    expect(memoryFlags({ heapGrowthPercent: 30 }, '--max-semi-space-size=2')).toEqual(['--heap-growing-percent=30']);
  });

  it('refuses a value out of range, naming the field', () => {
    expect(() => configFromObject({ ...base, memory: { heapGrowthPercent: 1000 } }, { env: {} })).toThrow(
      /memory\.heapGrowthPercent/,
    );
  });
});
