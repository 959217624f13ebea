import { describe, expect, it } from 'vitest';
import { LagCommits, type LagOffset } from '../../src/runtime/sink/lag-commits.js';
import { silentLogger } from './source-runtime.fakes.js';

/** A commit function whose requests stay open until released. */
function fakeKafka() {
  const requests: Array<{ offsets: LagOffset[]; release: (err?: Error) => void }> = [];
  const commit = (offsets: LagOffset[]) =>
    new Promise<void>((resolve, reject) => {
      requests.push({ offsets, release: (err) => (err ? reject(err) : resolve()) });
    });
  return { requests, commit };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('LagCommits (Kafka group offsets for lag tools)', () => {
  it('sends one request at a time and then the latest offset of every partition noted meanwhile', async () => {
    const k = fakeKafka();
    const lag = new LagCommits(k.commit, silentLogger);
    lag.note('t', 0, '10');
    lag.note('t', 0, '20');
    lag.note('t', 1, '5');
    lag.note('t', 0, '30');
    expect(k.requests).toHaveLength(1);
    expect(k.requests[0]!.offsets).toEqual([{ topic: 't', partition: 0, offset: '10' }]);
    k.requests[0]!.release();
    await tick();
    expect(k.requests).toHaveLength(2);
    expect(k.requests[1]!.offsets).toEqual([
      { topic: 't', partition: 0, offset: '30' },
      { topic: 't', partition: 1, offset: '5' },
    ]);
    k.requests[1]!.release();
    await lag.settle();
    expect(k.requests).toHaveLength(2);
  });

  it('goes on after a failed request and forgets what waited when partitions are reassigned', async () => {
    const k = fakeKafka();
    const lag = new LagCommits(k.commit, silentLogger);
    lag.note('t', 0, '1');
    lag.note('t', 2, '7');
    lag.clear();
    k.requests[0]!.release(new Error('REBALANCE_IN_PROGRESS'));
    await tick();
    expect(k.requests).toHaveLength(1);
    lag.note('t', 3, '9');
    expect(k.requests).toHaveLength(2);
    expect(k.requests[1]!.offsets).toEqual([{ topic: 't', partition: 3, offset: '9' }]);
    k.requests[1]!.release();
    await lag.settle();
  });
});
