import { describe, expect, it } from 'vitest';
import {
  decodeSourceOffset,
  encodeSourceOffset,
  latestSourceOffset,
  sourceOffsetMessage,
  sourceOffsetTombstone,
} from '../../src/offsets/source-offsets.js';

describe('source offsets (record format of <pipeline>.__offsets)', () => {
  const offset = {
    phase: 'snapshot' as const,
    position: { file: 'binlog.000003', pos: 1234, gtid: '0-1-9', serverId: 1 },
    snapshot: { done: ['shop.a'], current: { table: 'shop.b', lastKey: [42] } },
    writtenAt: 1_700_000_000_000,
  };

  it('round-trips, with the connector and a readable position', () => {
    const text = encodeSourceOffset(offset, 'mysql', 'binlog.000003:1234');
    expect(JSON.parse(text)).toEqual({ format: 1, connector: 'mysql', ...offset, describe: 'binlog.000003:1234' });
    expect(decodeSourceOffset(text)).toEqual({
      format: 1,
      connector: 'mysql',
      ...offset,
      describe: 'binlog.000003:1234',
    });
  });

  it('is keyed by source id on partition 0; a tombstone forgets it', () => {
    const m = sourceOffsetMessage('p', 'p', offset, 'mysql');
    expect(m).toMatchObject({ topic: 'p.__offsets', key: 'p', partition: 0 });
    const records = [
      { partition: 0, offset: '0', key: 'p', value: m.value as string },
      { partition: 0, offset: '1', key: 'other', value: m.value as string },
    ];
    expect(latestSourceOffset(records, 'p')?.phase).toBe('snapshot');
    const tomb = sourceOffsetTombstone('p', 'p');
    expect(tomb.value).toBeNull();
    expect(latestSourceOffset([...records, { partition: 0, offset: '2', key: 'p', value: null }], 'p')).toBeNull();
  });

  it('refuses records it did not write or cannot read', () => {
    expect(() => decodeSourceOffset('nope')).toThrow(/not JSON/);
    expect(() => decodeSourceOffset('{"phase":"x","position":{}}')).toThrow(/unexpected shape/);
    expect(() => decodeSourceOffset('{"format":9,"phase":"stream","position":{}}')).toThrow(/newer than this ferry/);
  });
});
