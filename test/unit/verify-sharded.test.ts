import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../../src/api/index.js';
import { keyRouter } from '../../src/sharding/index.js';
import type { SideAccess } from '../../src/verify/access.js';
import type { Key, KeyRange } from '../../src/verify/queries.js';
import { compareShardedTable } from '../../src/verify/sharded-table.js';

/** An in-memory side: rows by integer key, values [id, v]. */
function side(rows: Array<[number, string]>): SideAccess {
  const sorted = [...rows].sort((a, b) => a[0] - b[0]);
  const inRange = (r: KeyRange) =>
    sorted.filter(
      ([id]) => (r.lo === null || id > (r.lo[0] as number)) && (r.hi === null || id <= (r.hi[0] as number)),
    );
  return {
    count: async (r) => inRange(r).length,
    checksum: async () => ({ count: 0, sums: '' }),
    boundary: async () => null,
    keys: async (r, limit) =>
      inRange(r)
        .slice(0, limit)
        .map(([id]) => [id] as Key),
    rowHashes: async (r) => inRange(r).map(([id, v]) => ({ key: [id], hash: v, values: [] as JsonValue[] })),
    rowsByKeys: async (keys) =>
      sorted.filter(([id]) => keys.some((k) => k[0] === id)).map(([id, v]) => ({ key: [id], values: [id, v] })),
  };
}

const names = ['a', 'b', 'c'];
const router = keyRouter('hash', names);
const home = (id: number) => router.shardsOf([id])[0]!;

function run(source: Array<[number, string]>, shards: Array<Array<[number, string]>>) {
  return compareShardedTable({
    source: side(source),
    shards: shards.map(side),
    shardNames: names,
    router,
    keyNames: ['id'],
    columnNames: ['id', 'v'],
    chunkSize: 7,
    maxReported: 100,
    recheckAttempts: 1,
    wait: async () => undefined,
  });
}

describe('sharded verify', () => {
  const source: Array<[number, string]> = Array.from({ length: 40 }, (_, i) => [i, `v${i}`]);
  const placed = () => {
    const shards: Array<Array<[number, string]>> = [[], [], []];
    for (const r of source) shards[home(r[0])]!.push(r);
    return shards;
  };

  it('every row on its shard: no findings, over several chunks', async () => {
    const out = await run(source, placed());
    expect(out.findings).toEqual([]);
    expect(out.chunks).toBeGreaterThan(5);
  });

  it('names missing, stray (also a duplicate), extra and different rows with their shard', async () => {
    const shards = placed();
    const missing = 3;
    shards[home(missing)] = shards[home(missing)]!.filter(([id]) => id !== missing);
    const dup = 5;
    const wrong = (home(dup) + 1) % 3;
    shards[wrong]!.push([dup, `v${dup}`]);
    shards[0]!.push([99, 'ghost']);
    const diff = 8;
    shards[home(diff)] = shards[home(diff)]!.map(([id, v]) => [id, id === diff ? 'changed' : v]);
    const out = await run(source, shards);
    expect(out.findings).toEqual([
      { kind: 'missing', key: { id: 3 }, shard: names[home(3)], expected: [names[home(3)]] },
      { kind: 'stray', key: { id: 5 }, shard: names[wrong], expected: [names[home(5)]] },
      { kind: 'different', key: { id: 8 }, shard: names[home(8)], expected: [names[home(8)]], columns: ['v'] },
      { kind: 'extra', key: { id: 99 }, shard: 'a', expected: [names[home(99)]] },
    ]);
    expect(out.counts).toEqual({ missing: 1, extra: 1, stray: 1, different: 1 });
  });
});
