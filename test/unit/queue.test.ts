import { describe, expect, it } from 'vitest';
import { BoundedQueue } from '../../src/api/queue.js';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('BoundedQueue: bytes, close modes, failure, push/offer', () => {
  it('is full at the byte bound before the count bound; a large item still enters an empty queue', async () => {
    const q = new BoundedQueue<string>({ maxItems: 100, maxBytes: 10, sizeOf: (s) => s.length });
    await q.put('abcdefghijklmnop'); // 16 bytes, queue was empty
    expect(q.full).toBe(true);
    expect(q.bytes).toBe(16);
    let second = false;
    const p = q.put('x').then(() => {
      second = true;
    });
    await tick();
    expect(second).toBe(false);
    expect(await q.take(10)).toEqual(['abcdefghijklmnop']);
    await p;
    expect(second).toBe(true);
    expect(q.bytes).toBe(1);
  });

  it('rejects a byte bound without a size function', () => {
    expect(() => new BoundedQueue<string>({ maxItems: 1, maxBytes: 10 })).toThrow('sizeOf');
    expect(() => new BoundedQueue<string>(0)).toThrow('capacity');
  });

  it("close() drains what is queued; close('drop') drops it", async () => {
    const drain = new BoundedQueue<number>(5);
    await drain.put(1);
    await drain.put(2);
    drain.close();
    expect(await drain.next()).toBe(1);
    expect(await drain.take(10)).toEqual([2]);
    expect(await drain.next()).toBeNull();

    const drop = new BoundedQueue<number>(5);
    await drop.put(1);
    drop.close('drop');
    expect(drop.size).toBe(0);
    expect(await drop.next()).toBeNull();
    expect(drop.offer(2)).toBe(false);
  });

  it('fail hands out what was queued, then throws from take; put rejects, offer drops', async () => {
    const q = new BoundedQueue<number>(5);
    await q.put(1);
    q.fail(new Error('lost'));
    q.fail(new Error('second'));
    await expect(q.put(2)).rejects.toThrow('closed');
    expect(q.offer(3)).toBe(false);
    expect(await q.take(10)).toEqual([1]);
    await expect(q.take(10)).rejects.toThrow('lost');
    expect(q.failed).toBe(true);
  });

  it('offer appends past the bound; whenBelow resolves once the consumer took enough', async () => {
    const q = new BoundedQueue<number>(2);
    for (let i = 0; i < 4; i++) expect(q.offer(i)).toBe(true);
    expect(q.full).toBe(true);
    let below = false;
    const p = q.whenBelow(1).then(() => {
      below = true;
    });
    expect(await q.take(2)).toEqual([0, 1]);
    await tick();
    expect(below).toBe(false);
    expect(await q.take(1)).toEqual([2]);
    await p;
    expect(below).toBe(true);
  });

  it('whenBelow and a waiting push end when the queue fails', async () => {
    const q = new BoundedQueue<number>(1);
    const pushing = q.push(1);
    const waiting = q.whenBelow(0);
    q.fail(new Error('gone'));
    await pushing;
    await waiting;
    expect(await q.next()).toBe(1);
    await expect(q.next()).rejects.toThrow('gone');
  });
});
