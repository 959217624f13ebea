import { describe, expect, it } from 'vitest';
import { type PartitionState, tpKey } from '../../src/runtime/sink/partition-state.js';
import { planBarriers } from '../../src/runtime/sink/truncate-barrier.js';

const T = 'topic';
const ev = (partition: number) => ({ topic: T, partition });
const tr = (partition: number, truncateId = 'X') => ({ topic: T, partition, truncateId });

function plan(
  records: Array<{ topic: string; partition: number; truncateId?: string }>,
  stored: Record<number, PartitionState> = {},
  partitions = 3,
) {
  return planBarriers(
    records,
    (_t, p) => stored[p],
    () => partitions,
  );
}

describe('planBarriers (truncate copies in every partition)', () => {
  it('applies the first copy and skips older events of other partitions up to their copy', () => {
    // p0: e, T, e   p1: e, T, e   (p1 after p0 in the batch)
    const p = plan([ev(0), tr(0), ev(0), ev(1), tr(1), ev(1)]);
    expect(p.keep).toEqual([true, true, true, false, false, true]);
    expect(p.barrierAfter.get(tpKey(T, 0))).toBeNull();
    expect(p.barrierAfter.get(tpKey(T, 1))).toBeNull();
    // p2 has not reached its copy: it gets the barrier.
    expect(p.barriers).toEqual([{ topic: T, partition: 2, truncateBarrier: 'X' }]);
  });

  it('a partition with a stored barrier skips until its copy, which clears it', () => {
    const p = plan([ev(1), ev(1), tr(1), ev(1)], { 1: { nextOffset: '10', truncateBarrier: 'X' } });
    expect(p.keep).toEqual([false, false, false, true]);
    expect(p.barrierAfter.get(tpKey(T, 1))).toBeNull();
    expect(p.barriers).toEqual([]);
  });

  it('keeps the barrier when the batch ends before the copy', () => {
    const p = plan([ev(2), ev(2)], { 2: { nextOffset: '5', truncateBarrier: 'X' } });
    expect(p.keep).toEqual([false, false]);
    expect(p.barrierAfter.get(tpKey(T, 2))).toBe('X');
  });

  it('an older copy met under a newer barrier is skipped and the barrier stays', () => {
    const p = plan([tr(0, 'OLD'), ev(0), tr(0, 'NEW'), ev(0)], { 0: { nextOffset: '1', truncateBarrier: 'NEW' } });
    expect(p.keep).toEqual([false, false, false, true]);
    expect(p.barrierAfter.get(tpKey(T, 0))).toBeNull();
  });

  it('a second truncate replaces a pending barrier on other partitions', () => {
    const p = plan([tr(0, 'A'), ev(0), tr(0, 'B')], { 1: { nextOffset: '3', truncateBarrier: null } });
    expect(p.keep).toEqual([true, true, true]);
    expect(p.barriers).toEqual(
      expect.arrayContaining([
        { topic: T, partition: 1, truncateBarrier: 'B' },
        { topic: T, partition: 2, truncateBarrier: 'B' },
      ]),
    );
  });

  it('single-partition topics need no barriers', () => {
    const p = plan([ev(0), tr(0), ev(0)], {}, 1);
    expect(p.keep).toEqual([true, true, true]);
    expect(p.barriers).toEqual([]);
  });

  it('does not rewrite a barrier a partition already has', () => {
    const p = plan(
      [ev(0), tr(0, 'X')],
      { 0: { nextOffset: '1', truncateBarrier: 'X' }, 1: { nextOffset: '1', truncateBarrier: null } },
      2,
    );
    // p0 had X pending: its copy clears it, nothing new is set.
    expect(p.keep).toEqual([false, false]);
    expect(p.barriers).toEqual([]);
  });
});
