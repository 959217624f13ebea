/**
 * The one bounded FIFO of ferry, between a reader and a consumer (the source runtime's queue,
 * the hand-over inside the PostgreSQL and MySQL/MariaDB sources). Bounded by a count of items
 * and, when `maxBytes` and `sizeOf` are given, by bytes too: it is full when either bound is
 * reached (an item larger than `maxBytes` still enters an empty queue, so nothing is stuck).
 *
 * Two ways in:
 * - `put` waits for room first, then appends (a reader that can hold its item back);
 * - `push` / `offer` append at once (a reader driven by socket events, which cannot hold an
 *   item back): `push` then waits until there is room again, `offer` does not wait; such a reader
 *   pauses its socket while the queue is `full` and resumes on `whenBelow`.
 *
 * Ending:
 * - `close()` drains: no more items come in, the consumer still gets everything queued, then
 *   `take`/`next` return null. `close('drop')` drops what is queued first.
 * - `fail(err)`: no more items come in; the consumer gets what was queued, then `take`/`next`
 *   throw `err`.
 * - After either, `put` throws, and `push`/`offer` drop the item (the reader is being stopped).
 * - `clear()` drops what is queued and returns it, without closing.
 */
export interface BoundedQueueOptions<T> {
  /** At most this many items (>= 1). */
  maxItems: number;
  /** At most about this many bytes, measured by `sizeOf` (both or neither). */
  maxBytes?: number;
  sizeOf?: (item: T) => number;
}

export class BoundedQueue<T> {
  readonly capacity: number;
  readonly maxBytes: number | undefined;
  private readonly sizeOf: ((item: T) => number) | undefined;
  private readonly items: T[] = [];
  private readonly sizes: number[] = [];
  private head = 0;
  private queuedBytes = 0;
  private closed = false;
  private failure: { error: unknown } | null = null;
  private spaceWaiters: Array<() => void> = [];
  private itemWaiter: (() => void) | null = null;

  /** `capacity`: a count bound alone, or the options. */
  constructor(capacity: number | BoundedQueueOptions<T>) {
    const o = typeof capacity === 'number' ? { maxItems: capacity } : capacity;
    if (!Number.isInteger(o.maxItems) || o.maxItems < 1)
      throw new RangeError(`queue capacity must be >= 1, got ${o.maxItems}`);
    if ((o.maxBytes === undefined) !== (o.sizeOf === undefined))
      throw new RangeError('a queue bounded by bytes needs both maxBytes and sizeOf');
    if (o.maxBytes !== undefined && !(o.maxBytes > 0))
      throw new RangeError(`queue maxBytes must be > 0, got ${o.maxBytes}`);
    this.capacity = o.maxItems;
    this.maxBytes = o.maxBytes;
    this.sizeOf = o.sizeOf;
  }

  get size(): number {
    return this.items.length - this.head;
  }

  /** Bytes queued (0 when the queue has no byte bound). */
  get bytes(): number {
    return this.queuedBytes;
  }

  /** A bound is reached: `put` waits, `push` waits after appending. */
  get full(): boolean {
    return this.size >= this.capacity || (this.maxBytes !== undefined && this.queuedBytes >= this.maxBytes);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** True once failed (not merely closed). */
  get failed(): boolean {
    return this.failure !== null;
  }

  /** True once closed or failed: nothing more comes in. */
  get done(): boolean {
    return this.closed || this.failure !== null;
  }

  /**
   * Waits until there is room, then appends. Throws when the queue was closed or failed, and with
   * the abort reason when `signal` aborts while waiting (the item is then not queued).
   */
  async put(item: T, signal?: AbortSignal): Promise<void> {
    while (this.full && !this.done) {
      if (signal?.aborted) throw abortReason(signal);
      await this.waitForSpace(signal);
    }
    if (this.done) throw new Error('queue is closed');
    this.append(item);
  }

  /** Appends at once, whatever the bounds; false (item dropped) once closed or failed. */
  offer(item: T): boolean {
    if (this.done) return false;
    this.append(item);
    return true;
  }

  /** Appends at once (dropped once closed or failed), then waits while the queue is full. */
  async push(item: T): Promise<void> {
    if (!this.offer(item)) return;
    while (this.full && !this.done) await this.waitForSpace();
  }

  /** Resolves once at most `items` are queued and no bound is reached (default: not full), or once done. */
  async whenBelow(items = this.capacity - 1): Promise<void> {
    while ((this.size > items || this.full) && !this.done) await this.waitForSpace();
  }

  /**
   * Takes up to `max` items, waiting for at least one. Resolves with [] when `timeoutMs` passes
   * with nothing to take, with null once closed and empty; throws the failure once failed and empty.
   */
  async take(max: number, timeoutMs?: number): Promise<T[] | null> {
    if (this.size === 0) {
      if (this.done) return this.ended();
      await new Promise<void>((resolve) => {
        let timer: NodeJS.Timeout | undefined;
        this.itemWaiter = () => {
          if (timer) clearTimeout(timer);
          this.itemWaiter = null;
          resolve();
        };
        if (timeoutMs !== undefined) timer = setTimeout(() => this.itemWaiter?.(), timeoutMs);
      });
      if (this.size === 0) return this.done ? this.ended() : [];
    }
    const n = Math.min(max, this.size);
    const out = this.items.slice(this.head, this.head + n);
    if (this.sizeOf) for (let i = this.head; i < this.head + n; i++) this.queuedBytes -= this.sizes[i]!;
    this.head += n;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      if (this.sizeOf) this.sizes.splice(0, this.head);
      this.head = 0;
    }
    this.wakePutters();
    return out;
  }

  /** The next item, waiting for one; null once closed and empty; throws the failure once failed and empty. */
  async next(): Promise<T | null> {
    for (;;) {
      const got = await this.take(1);
      if (got === null) return null;
      if (got.length > 0) return got[0]!;
    }
  }

  /** Peeks at the next item without taking it. */
  peek(): T | undefined {
    return this.size > 0 ? this.items[this.head] : undefined;
  }

  /** No more items come in. 'drain' (default): the consumer still gets what is queued; 'drop': it is dropped. */
  close(mode: 'drain' | 'drop' = 'drain'): void {
    if (mode === 'drop') this.clear();
    this.closed = true;
    this.wakeTaker();
    this.wakePutters();
  }

  /** No more items come in; the consumer gets what is queued, then `err` (the first failure wins). */
  fail(err: unknown): void {
    if (this.done) return;
    this.failure = { error: err };
    this.wakeTaker();
    this.wakePutters();
  }

  /** Drops everything queued (used after a fatal error) and returns what was dropped. */
  clear(): T[] {
    const dropped = this.items.slice(this.head);
    this.items.length = 0;
    this.sizes.length = 0;
    this.head = 0;
    this.queuedBytes = 0;
    this.wakePutters();
    return dropped;
  }

  /** Nothing left to take: null once closed, the failure once failed. */
  private ended(): null {
    if (this.failure) throw this.failure.error;
    return null;
  }

  private append(item: T): void {
    this.items.push(item);
    if (this.sizeOf) {
      const n = this.sizeOf(item);
      this.sizes.push(n);
      this.queuedBytes += n;
    }
    this.wakeTaker();
  }

  private waitForSpace(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        this.spaceWaiters = this.spaceWaiters.filter((w) => w !== wake);
        resolve();
      };
      this.spaceWaiters.push(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private wakeTaker(): void {
    this.itemWaiter?.();
  }

  private wakePutters(): void {
    const waiters = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const w of waiters) w();
  }
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('aborted');
}
