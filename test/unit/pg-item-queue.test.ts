import { describe, expect, it } from 'vitest';
import { BoundedQueue as ItemQueue } from '../../src/api/queue.js';

describe('ItemQueue (replication hand-over)', () => {
  it('holds the producer back when full and releases it as the consumer takes', async () => {
    const q = new ItemQueue<number>(2);
    await q.push(1);
    let released = false;
    const pushing = q.push(2).then(() => {
      released = true;
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(released).toBe(false);
    expect(await q.next()).toBe(1);
    await pushing;
    expect(released).toBe(true);
  });

  it('hands out what was queued before a failure, then throws it; drops later pushes', async () => {
    const q = new ItemQueue<number>(10);
    await q.push(1);
    q.fail(new Error('gone'));
    await q.push(2);
    expect(await q.next()).toBe(1);
    await expect(q.next()).rejects.toThrow('gone');
  });

  it('close ends the consumer with null and frees waiting producers', async () => {
    const q = new ItemQueue<number>(1);
    const waiting = q.next();
    q.close();
    expect(await waiting).toBeNull();
    await q.push(1);
    expect(await q.next()).toBeNull();
  });
});
