import { describe, expect, it } from 'vitest';
import { HashRing, hashShard, keyHash, keyText, ShardRouting } from '../../src/sharding/index.js';

// Expected values computed independently (Python hashlib: SHA-256, first 8 bytes big-endian).
const KNOWN: Array<{
  key: (string | number)[];
  text: string;
  hash: string;
  hash3: number;
  ring3: number;
  ring4: number;
}> = [
  { key: [1], text: '[1]', hash: '080a9ed428559ef6', hash3: 2, ring3: 0, ring4: 0 },
  { key: [2], text: '[2]', hash: '038966de9f6b9a90', hash3: 2, ring3: 2, ring4: 2 },
  { key: [42], text: '[42]', hash: 'b86b1ea11b28136f', hash3: 1, ring3: 0, ring4: 0 },
  { key: ['eu', 7], text: '["eu",7]', hash: '8fe0e0f01bfd380e', hash3: 2, ring3: 0, ring4: 3 },
  {
    key: ['12345678901234567890'],
    text: '["12345678901234567890"]',
    hash: 'dc8f6bb05291a956',
    hash3: 0,
    ring3: 2,
    ring4: 2,
  },
  { key: ['é😀'], text: '["é😀"]', hash: '425d60485afdbc79', hash3: 1, ring3: 1, ring4: 3 },
];

describe('shard routing', () => {
  const ring3 = new HashRing(['s1', 's2', 's3']);
  const ring4 = new HashRing(['s1', 's2', 's3', 's4']);

  it('hashes the canonical JSON array of the key values (fixed outputs for known keys)', () => {
    for (const k of KNOWN) {
      expect(keyText(k.key)).toBe(k.text);
      expect(keyHash(k.key).toString(16).padStart(16, '0')).toBe(k.hash);
      expect(hashShard(k.key, 3)).toBe(k.hash3);
      expect(ring3.shardOf(k.key)).toBe(k.ring3);
      expect(ring4.shardOf(k.key)).toBe(k.ring4);
    }
  });

  it('the ring depends on shard names, not their order', () => {
    const reordered = new HashRing(['s3', 's1', 's2']);
    for (let i = 0; i < 1000; i++) {
      expect(reordered.names[reordered.shardOf([i])]).toBe(ring3.names[ring3.shardOf([i])]);
    }
  });

  it('hash spreads keys evenly over 3 shards', () => {
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) counts[hashShard([i], 3)]!++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(600);
  });

  it('ring: going from 3 to 4 shards over 100k keys moves about a quarter, all to the new shard', () => {
    let moved = 0;
    let movedElsewhere = 0;
    const counts = [0, 0, 0, 0];
    const n = 100_000;
    const hashes: bigint[] = [];
    for (let i = 0; i < n; i++) hashes.push(keyHash([`user-${i}`]));
    for (const h of hashes) {
      const before = ring3.names[ring3.ownerOf(h)];
      const afterIndex = ring4.ownerOf(h);
      counts[afterIndex]!++;
      if (ring4.names[afterIndex] !== before) {
        moved++;
        if (ring4.names[afterIndex] !== 's4') movedElsewhere++;
      }
    }
    const fraction = moved / n;
    console.log(
      `ring 3 -> 4 shards: ${moved} of ${n} keys moved (${(fraction * 100).toFixed(2)} %); per shard after: ${counts.join(', ')}`,
    );
    expect(movedElsewhere).toBe(0);
    expect(fraction).toBeGreaterThan(0.2);
    expect(fraction).toBeLessThan(0.3);
    // hash (modulo) instead would move about three quarters.
    let modMoved = 0;
    for (const h of hashes) if (h % 3n !== h % 4n) modMoved++;
    expect(modMoved / n).toBeGreaterThan(0.7);
  }, 60_000);

  it('per-table rules: first matching pattern wins, broadcast names every shard', () => {
    const routing = new ShardRouting({
      shards: ['a', 'b', 'c'],
      rule: 'hash',
      tables: { 'shop.countries': 'broadcast', 'shop.ring_*': 'ring', 'shop.*': 'hash' },
    });
    expect(routing.routerFor({ db: 'shop', table: 'countries' }).shardsOf([1])).toEqual([0, 1, 2]);
    expect(routing.ruleOf({ db: 'shop', table: 'ring_x' })).toBe('ring');
    expect(routing.ruleOf({ db: 'other', table: 't' })).toBe('hash');
    expect(routing.routerFor({ db: 'shop', table: 'orders' }).shardsOf([42])).toEqual([1]);
    expect(routing.routerFor({ db: 'shop', table: 'ring_x' }).shardsOf(['eu', 7])).toEqual([0]);
  });
});
