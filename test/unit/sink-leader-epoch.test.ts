import { describe, expect, it } from 'vitest';
import { EPOCH_HEADER } from '../../src/offsets/leader-epoch.js';
import { EpochTracker, headerEpoch, judgeEpochs } from '../../src/runtime/sink/leader-epoch.js';
import { tpKey } from '../../src/runtime/sink/partition-state.js';

const r = (offset: number, epoch: number | null, partition = 0) => ({
  topic: 't',
  partition,
  offset: String(offset),
  epoch,
});

describe('sink: records of a former active source instance (stale leader epoch)', () => {
  it('reads the epoch header; anything else is no epoch', () => {
    expect(headerEpoch({ [EPOCH_HEADER]: Buffer.from('7') })).toBe(7);
    expect(headerEpoch({ [EPOCH_HEADER]: '12' })).toBe(12);
    expect(headerEpoch({ [EPOCH_HEADER]: [Buffer.from('3')] })).toBe(3);
    expect(headerEpoch({})).toBeNull();
    expect(headerEpoch(undefined)).toBeNull();
    expect(headerEpoch({ [EPOCH_HEADER]: Buffer.from('x1') })).toBeNull();
  });

  it('skips a record whose epoch is lower than one before it in its partition, per partition', () => {
    const records = [r(0, 1), r(1, 2), r(2, 1), r(3, null), r(4, 2), r(5, 1, 1)];
    const { stale, highest } = judgeEpochs(records, () => null);
    expect([...stale]).toEqual([records[2]]);
    expect(highest.get(tpKey('t', 0))).toBe(2);
    // Partition 1 saw only epoch 1: nothing before it was newer.
    expect(highest.get(tpKey('t', 1))).toBe(1);
  });

  it('starts from the epoch stored with the offset (it survives a restart)', () => {
    const records = [r(10, 1), r(11, null), r(12, 3), r(13, 2)];
    const { stale, highest } = judgeEpochs(records, () => 2);
    expect([...stale].map((x) => x.offset)).toEqual(['10', '13']);
    expect(highest.get(tpKey('t', 0))).toBe(3);
  });

  it('applies records without the header as before (no failover, older versions)', () => {
    const records = [r(0, null), r(1, null)];
    const { stale, highest } = judgeEpochs(records, () => null);
    expect(stale.size).toBe(0);
    expect(highest.get(tpKey('t', 0))).toBeNull();
  });

  it('transaction mode: judges records as read, and knows the epoch to store with each next offset', () => {
    const t = new EpochTracker();
    t.start('t', 0, '5', 1);
    const batch = [r(5, 1), r(6, 2), r(7, 1), r(8, 2)];
    expect([...t.judge(batch)]).toEqual([batch[2]]);
    // Judged but not handed on (a seek made the batch stale): the refetch is read for the first time.
    const again = [r(5, 1), r(6, 2), r(7, 1), r(8, 2)];
    expect([...t.judge(again)]).toEqual([again[2]]);
    expect([...t.accept(again)]).toEqual(again);
    // A refetch of part of it, after it was handed on: same verdicts, nothing read for the first time.
    const part = [r(7, 1), r(8, 2), r(9, 1)];
    expect([...t.judge(part)]).toEqual([part[0], part[2]]);
    expect([...t.accept(part)]).toEqual([part[2]]);
    expect(t.epochAt('t', 0, '5')).toBe(1);
    expect(t.epochAt('t', 0, '6')).toBe(1);
    expect(t.epochAt('t', 0, '7')).toBe(2);
    expect(t.epochAt('t', 0, '10')).toBe(2);
    // Unknown partition: nothing to judge against.
    expect(t.judge([r(0, 1, 3)]).size).toBe(0);
    expect(t.epochAt('t', 3, '1')).toBeNull();
  });
});
