import { describe, expect, it } from 'vitest';
import type { ReadRecord } from '../../src/kafka/read-topic.js';
import { claimKey, EPOCH_HEADER } from '../../src/offsets/leader-epoch.js';
import { encodeSourceOffset, latestSourceOffset, readStoredPosition } from '../../src/offsets/source-offsets.js';

describe('source: a stored position of a lower epoch than one read before it never wins', () => {
  const pos = (at: number) => encodeSourceOffset({ phase: 'stream', position: { pos: at }, writtenAt: 0 }, 'mysql');
  const withEpoch = (at: number, epoch: number) => JSON.stringify({ ...JSON.parse(pos(at)), epoch });
  const claim = (epoch: number) => JSON.stringify({ format: 1, leader: { epoch, instance: 'x', at: 0 } });
  const at = (offset: number, key: string, value: string | null, headers?: Record<string, string>): ReadRecord => ({
    partition: 0,
    offset: String(offset),
    key,
    value,
    ...(headers ? { headers } : {}),
  });

  it('a position of the old epoch that lands after the new claim is ignored', () => {
    const records = [
      at(0, 'p', withEpoch(100, 1)),
      at(1, claimKey('p'), claim(2)),
      // Sent by the epoch-1 instance before it was cut off, delivered after the takeover.
      at(2, 'p', withEpoch(500, 1)),
    ];
    expect(latestSourceOffset(records, 'p')?.position).toEqual({ pos: 100 });
    const read = readStoredPosition(records, 'p');
    expect(read.stale).toEqual([{ offset: '2', epoch: 1, highest: 2 }]);
    expect(read.shadowed).toBe(false);
  });

  it('a newer position after it wins; so does the old epoch position stored before the claim', () => {
    const records = [
      at(0, 'p', withEpoch(100, 1)),
      at(1, claimKey('p'), claim(2)),
      at(2, 'p', withEpoch(500, 1)),
      at(3, 'p', withEpoch(200, 2)),
      at(4, 'p', withEpoch(150, 1)),
    ];
    expect(latestSourceOffset(records, 'p')?.position).toEqual({ pos: 200 });
    expect(latestSourceOffset(records.slice(0, 2), 'p')?.position).toEqual({ pos: 100 });
  });

  it('a stale tombstone (epoch in its header) does not forget the position', () => {
    const records = [
      at(0, claimKey('p'), claim(3)),
      at(1, 'p', withEpoch(300, 3)),
      at(2, 'p', null, { [EPOCH_HEADER]: '2' }),
    ];
    expect(latestSourceOffset(records, 'p')?.position).toEqual({ pos: 300 });
    expect(latestSourceOffset([...records, at(3, 'p', null, { [EPOCH_HEADER]: '3' })], 'p')).toBeNull();
  });

  it('positions without an epoch (no failover) behave as before; other sources do not count', () => {
    const records = [at(0, 'p', pos(1)), at(1, claimKey('q'), claim(9)), at(2, 'p', pos(2))];
    expect(latestSourceOffset(records, 'p')?.position).toEqual({ pos: 2 });
  });

  it('only a stale position left (compaction removed the rest): shadowed, not used', () => {
    const records = [at(5, claimKey('p'), claim(2)), at(9, 'p', withEpoch(500, 1))];
    const read = readStoredPosition(records, 'p');
    expect(read.offset).toBeNull();
    expect(read.shadowed).toBe(true);
  });
});
