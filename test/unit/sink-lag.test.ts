import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '../../src/api/index.js';
import { FerryMetrics } from '../../src/metrics/metrics.js';
import { SinkLag, type TopicPartitionOffsets } from '../../src/runtime/sink/metrics.js';
import { tpKey } from '../../src/runtime/sink/partition-state.js';

const quiet: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => quiet,
};

/** A SinkLag over in-memory end offsets and applied offsets, as the runtime wires it. */
function setup(opts: { refreshMs?: number } = {}) {
  const metrics = new FerryMetrics('shop');
  const ends = new Map<string, TopicPartitionOffsets[]>();
  const applied = new Map<string, bigint>();
  const fetchOffsets = vi.fn(async (topic: string) => ends.get(topic) ?? []);
  let ready: Promise<void> = Promise.resolve();
  const lag = new SinkLag({
    metrics,
    logger: quiet,
    appliedFrom: (tp) => applied.get(tp) ?? 0n,
    ready: () => ready,
    fetchOffsets,
    refreshMs: opts.refreshMs ?? 3000,
  });
  const gauge = async () => {
    const text = await metrics.registry.getSingleMetricAsString('ferry_sink_lag_events');
    return Number(/ferry_sink_lag_events\{[^}]*\} (\S+)/.exec(text)?.[1]);
  };
  return {
    metrics,
    lag,
    ends,
    applied,
    fetchOffsets,
    gauge,
    setReady: (p: Promise<void>) => {
      ready = p;
    },
  };
}

const end = (partition: number, high: number, low = 0): TopicPartitionOffsets => ({
  partition,
  low: String(low),
  high: String(high),
});

describe('ferry_sink_lag_events (SinkLag)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('regression: no longer reads 0 while the sink catches up (end offsets are re-read on a timer)', async () => {
    const s = setup();
    s.lag.assign({ 'shop.db.items': [0] });
    s.lag.start();
    // A fetch returned everything up to its high watermark, and the sink applied it all...
    s.lag.observeHighWatermark(tpKey('shop.db.items', 0), '1000');
    s.applied.set(tpKey('shop.db.items', 0), 1000n);
    s.lag.update();
    expect(await s.gauge()).toBe(0);
    // ...while the source kept writing: Kafka's end offset is now 5000.
    s.ends.set('shop.db.items', [end(0, 5000)]);
    await vi.advanceTimersByTimeAsync(3000);
    expect(s.fetchOffsets).toHaveBeenCalledWith('shop.db.items');
    expect(await s.gauge()).toBe(4000);
    // The next commit moves the applied offset: the gauge follows at once, without I/O.
    s.applied.set(tpKey('shop.db.items', 0), 4500n);
    s.lag.update();
    expect(await s.gauge()).toBe(500);
    expect(s.fetchOffsets).toHaveBeenCalledTimes(1);
    s.lag.stop();
  });

  it('grows while nothing is fetched or applied (e.g. the target is down)', async () => {
    const s = setup({ refreshMs: 2000 });
    s.lag.assign({ 'shop.db.items': [0, 1] });
    s.applied.set(tpKey('shop.db.items', 0), 10n);
    s.applied.set(tpKey('shop.db.items', 1), 20n);
    s.lag.start();
    s.ends.set('shop.db.items', [end(0, 10), end(1, 20)]);
    await vi.advanceTimersByTimeAsync(2000);
    expect(await s.gauge()).toBe(0);
    s.ends.set('shop.db.items', [end(0, 15), end(1, 27)]);
    await vi.advanceTimersByTimeAsync(2000);
    expect(await s.gauge()).toBe(12);
    s.lag.stop();
    s.ends.set('shop.db.items', [end(0, 100), end(1, 100)]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await s.gauge()).toBe(12);
  });

  it('counts only the partitions assigned to this process, from the log start when retention passed the stored offset', async () => {
    const s = setup();
    s.lag.assign({ a: [1], b: [0] });
    s.ends.set('a', [end(0, 900), end(1, 100)]);
    s.ends.set('b', [end(0, 300, 250)]);
    s.applied.set(tpKey('a', 1), 60n);
    s.applied.set(tpKey('b', 0), 200n); // below the log start 250
    await s.lag.refresh();
    expect(s.metrics.sinkPendingEvents).toBe(40 + 50);
    // A rebalance takes b away.
    s.lag.assign({ a: [1] });
    expect(s.metrics.sinkPendingEvents).toBe(40);
    expect(s.lag.pending()).toBe(40n);
  });

  it('a high watermark never moves back, and a partition without a known end offset counts 0', async () => {
    const s = setup();
    s.lag.assign({ t: [0, 1] });
    s.lag.observeHighWatermark(tpKey('t', 0), '70');
    s.lag.observeHighWatermark(tpKey('t', 0), '50');
    s.applied.set(tpKey('t', 0), 20n);
    s.lag.update();
    expect(s.metrics.sinkPendingEvents).toBe(50);
  });

  it('reads end offsets only once the stored offsets are known, one refresh at a time, and survives Kafka errors', async () => {
    const s = setup();
    s.lag.assign({ t: [0] });
    s.ends.set('t', [end(0, 30)]);
    let loaded!: () => void;
    s.setReady(
      new Promise<void>((resolve) => {
        loaded = resolve;
      }),
    );
    const first = s.lag.refresh();
    expect(s.lag.refresh()).toBe(first);
    await vi.advanceTimersByTimeAsync(0);
    expect(s.fetchOffsets).not.toHaveBeenCalled();
    loaded();
    await first;
    expect(s.metrics.sinkPendingEvents).toBe(30);
    s.fetchOffsets.mockRejectedValueOnce(new Error('broker down'));
    await s.lag.refresh();
    expect(s.metrics.sinkPendingEvents).toBe(30);
  });

  it('starts no timer and reads nothing without metrics', async () => {
    const fetchOffsets = vi.fn(async () => [end(0, 10)]);
    const lag = new SinkLag({
      logger: quiet,
      appliedFrom: () => 0n,
      ready: async () => undefined,
      fetchOffsets,
    });
    lag.assign({ t: [0] });
    lag.start();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(fetchOffsets).not.toHaveBeenCalled();
    lag.stop();
  });
});
