import { describe, expect, it } from 'vitest';
import { bucketSize, padToBucket } from '../../connectors/mysql-sink/buckets.js';

describe('MySQL sink statement buckets', () => {
  it('rounds row counts up to powers of two and 1.5 times them, capped at the largest size', () => {
    const sizes = [1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 17, 25, 33, 100, 500, 999, 1000, 1001].map((n) =>
      bucketSize(n, 1000),
    );
    expect(sizes).toEqual([1, 2, 3, 4, 6, 6, 8, 8, 12, 16, 24, 32, 48, 128, 512, 1000, 1000, 1000]);
    expect(bucketSize(7, 5)).toBe(5);
    expect(bucketSize(3, 3)).toBe(3);
  });

  it('keeps the number of distinct sizes small for every row count up to the largest', () => {
    const distinct = new Set(Array.from({ length: 1000 }, (_, i) => bucketSize(i + 1, 1000)));
    expect(distinct.size).toBeLessThanOrEqual(20);
    for (let n = 1; n <= 1000; n++) {
      const b = bucketSize(n, 1000);
      expect(b).toBeGreaterThanOrEqual(n);
      expect(b).toBeLessThanOrEqual(Math.max(1, Math.ceil(n * 1.5)));
    }
  });

  it('pads with copies of the last row, so the last value written per key is unchanged', () => {
    const rows = [
      ['a', '1'],
      ['b', '2'],
      ['c', '3'],
      ['d', '4'],
      ['e', '5'],
    ];
    const padded = padToBucket(rows, 1000, 10, 2, 1000);
    expect(padded).toHaveLength(6);
    expect(padded.slice(0, 5)).toEqual(rows);
    expect(padded[5]).toBe(rows[4]);
    expect(rows).toHaveLength(5);
    // The same key twice (never after reduction, but harmless): the last image stays the last write.
    const twice = [
      ['k', 'old'],
      ['k', 'new'],
      ['x', '1'],
      ['x', '2'],
      ['k', 'newest'],
    ];
    const p2 = padToBucket(twice, 1000, 10, 2, 1000);
    expect(p2[p2.length - 1]).toEqual(['k', 'newest']);
  });

  it('leaves a piece as it is when it fills its bucket or padding would pass the byte budget', () => {
    const four = [[1], [2], [3], [4]];
    expect(padToBucket(four, 1000, 4, 1, 100)).toBe(four);
    const five = [[1], [2], [3], [4], [5]];
    expect(padToBucket(five, 1000, 95, 10, 100)).toBe(five);
    expect(padToBucket(five, 1000, 90, 10, 100)).toHaveLength(6);
  });
});
