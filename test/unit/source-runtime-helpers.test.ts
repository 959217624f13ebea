import { describe, expect, it } from 'vitest';
import { FerryError } from '../../src/api/index.js';
import { BoundedQueue } from '../../src/api/queue.js';
import { abortable, backoffDelay, isRetriable, retry, sleep } from '../../src/runtime/retry.js';
import { isReconnectable } from '../../src/runtime/source/stream.js';

describe('retry', () => {
  it('retries retriable errors with growing delays and returns the result', async () => {
    const delays: number[] = [];
    let calls = 0;
    const result = await retry(
      async () => {
        calls++;
        if (calls < 3) throw new FerryError('FERRY_CONNECTION', 'down', { retriable: true });
        return 'ok';
      },
      { retries: 5, minMs: 1, maxMs: 10, onRetry: (_e, _a, d) => delays.push(d) },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(delays).toHaveLength(2);
  });

  it('throws non-retriable FerryErrors at once', async () => {
    let calls = 0;
    const err = new FerryError('FERRY_AUTH', 'denied');
    await expect(
      retry(
        async () => {
          calls++;
          throw err;
        },
        { retries: 5, minMs: 1 },
      ),
    ).rejects.toBe(err);
    expect(calls).toBe(1);
  });

  it('gives up after `retries` and throws the last error', async () => {
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw new Error(`boom ${calls}`);
        },
        { retries: 2, minMs: 1, maxMs: 2 },
      ),
    ).rejects.toThrow('boom 3');
  });

  it('stops waiting when the signal aborts', async () => {
    const ac = new AbortController();
    const p = retry(
      async () => {
        throw new Error('always');
      },
      { retries: Number.POSITIVE_INFINITY, minMs: 10_000, signal: ac.signal },
    );
    setTimeout(() => ac.abort(), 10);
    await expect(p).rejects.toThrow('always');
  });

  it('backoffDelay grows exponentially with jitter between half and all of the cap', () => {
    expect(backoffDelay(1, { minMs: 100 }, () => 0)).toBe(50);
    expect(backoffDelay(1, { minMs: 100 }, () => 1)).toBe(100);
    expect(backoffDelay(4, { minMs: 100 }, () => 1)).toBe(800);
    expect(backoffDelay(30, { minMs: 100, maxMs: 5000 }, () => 1)).toBe(5000);
    expect(backoffDelay(30, { minMs: 100, maxMs: 5000 }, () => 0)).toBe(2500);
  });

  it('isRetriable / isReconnectable sort errors', () => {
    expect(isRetriable(new FerryError('FERRY_CONNECTION', 'x', { retriable: true }))).toBe(true);
    expect(isRetriable(new FerryError('FERRY_AUTH', 'x'))).toBe(false);
    expect(isRetriable(new Error('x'))).toBe(true);
    expect(isReconnectable(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isReconnectable(new TypeError('bug'))).toBe(false);
  });

  it('sleep rejects when aborted', async () => {
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(sleep(1000, ac.signal)).rejects.toThrow('stop');
  });

  it('sleep ends when any of its signals aborts', async () => {
    const a = new AbortController();
    const b = new AbortController();
    setTimeout(() => b.abort(new Error('b')), 5);
    await expect(sleep(10_000, a.signal, undefined, b.signal)).rejects.toThrow('b');
  });

  it('stopSignal: a first attempt still runs, but a failure is not retried and no wait is made', async () => {
    const stop = new AbortController();
    stop.abort();
    let calls = 0;
    const ok = await retry(async () => ++calls, { stopSignal: stop.signal });
    expect(ok).toBe(1);
    calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw new Error('down');
        },
        { retries: 5, minMs: 10_000, stopSignal: stop.signal },
      ),
    ).rejects.toThrow('down');
    expect(calls).toBe(1);
  });

  it('stopSignal ends a backoff wait with the last error', async () => {
    const stop = new AbortController();
    const t0 = Date.now();
    const p = retry(
      async () => {
        throw new Error('always');
      },
      { retries: Number.POSITIVE_INFINITY, minMs: 10_000, stopSignal: stop.signal },
    );
    setTimeout(() => stop.abort(), 10);
    await expect(p).rejects.toThrow('always');
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('abortable gives up on a promise when a signal aborts, and hands a late value to onLate', async () => {
    const ac = new AbortController();
    let resolve!: (v: string) => void;
    const slow = new Promise<string>((r) => {
      resolve = r;
    });
    const late: string[] = [];
    const p = abortable(slow, [undefined, ac.signal], (v) => late.push(v));
    ac.abort(new Error('stopped'));
    await expect(p).rejects.toThrow('stopped');
    resolve('value');
    await new Promise((r) => setTimeout(r, 0));
    expect(late).toEqual(['value']);
    await expect(abortable(Promise.resolve(1), [new AbortController().signal])).resolves.toBe(1);
    const done = new AbortController();
    done.abort(new Error('already'));
    await expect(abortable(new Promise(() => undefined), [done.signal])).rejects.toThrow('already');
    // A rejection after the abort is dropped, not unhandled.
    const ac2 = new AbortController();
    const failing = new Promise((_, reject) => setTimeout(() => reject(new Error('late failure')), 5));
    const q = abortable(failing, [ac2.signal]);
    ac2.abort(new Error('first'));
    await expect(q).rejects.toThrow('first');
    await new Promise((r) => setTimeout(r, 10));
  });
});

describe('BoundedQueue', () => {
  it('blocks put while full and releases it when taken', async () => {
    const q = new BoundedQueue<number>(2);
    await q.put(1);
    await q.put(2);
    let third = false;
    const p = q.put(3).then(() => {
      third = true;
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(third).toBe(false);
    expect(await q.take(1)).toEqual([1]);
    await p;
    expect(third).toBe(true);
    expect(await q.take(10)).toEqual([2, 3]);
  });

  it('take waits for an item, times out with [], and returns null once closed and empty', async () => {
    const q = new BoundedQueue<string>(5);
    expect(await q.take(10, 5)).toEqual([]);
    setTimeout(() => void q.put('a'), 5);
    expect(await q.take(10)).toEqual(['a']);
    await q.put('b');
    q.close();
    expect(await q.take(10)).toEqual(['b']);
    expect(await q.take(10)).toBeNull();
    await expect(q.put('c')).rejects.toThrow('closed');
  });

  it('put gives up waiting for room when its signal aborts, without queueing the item', async () => {
    const q = new BoundedQueue<number>(1);
    await q.put(1);
    const ac = new AbortController();
    const p = q.put(2, ac.signal);
    setTimeout(() => ac.abort(new Error('stopping')), 5);
    await expect(p).rejects.toThrow('stopping');
    expect(await q.take(10)).toEqual([1]);
    await q.put(3); // the aborted waiter is gone: room is handed to the next put
    expect(q.size).toBe(1);
  });

  it('clear drops and returns what was queued', async () => {
    const q = new BoundedQueue<number>(3);
    await q.put(1);
    await q.put(2);
    expect(q.clear()).toEqual([1, 2]);
    expect(q.size).toBe(0);
  });
});
