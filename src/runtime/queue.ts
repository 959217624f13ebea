/**
 * A bounded FIFO between a reader and a consumer. `put` waits while the queue is full, so a fast
 * reader is held back by a slow consumer (backpressure) and memory stays flat. One consumer takes
 * items in batches. Generic: used by the source runtime, usable elsewhere.
 */
export class BoundedQueue<T> {
  readonly capacity: number;
  private readonly items: T[] = [];
  private head = 0;
  private closed = false;
  private spaceWaiters: Array<() => void> = [];
  private itemWaiter: (() => void) | null = null;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`queue capacity must be >= 1, got ${capacity}`);
    this.capacity = capacity;
  }

  get size(): number {
    return this.items.length - this.head;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Waits until there is room, then appends. Throws when the queue was closed, and with the
   * abort reason when `signal` aborts while waiting (the item is then not queued).
   */
  async put(item: T, signal?: AbortSignal): Promise<void> {
    while (this.size >= this.capacity && !this.closed) {
      if (signal?.aborted) throw abortReason(signal);
      await new Promise<void>((resolve) => {
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
    if (this.closed) throw new Error('queue is closed');
    this.items.push(item);
    this.wakeTaker();
  }

  /**
   * Takes up to `max` items, waiting for at least one. Resolves with [] when `timeoutMs` passes
   * with nothing to take, and with null once the queue is closed and empty.
   */
  async take(max: number, timeoutMs?: number): Promise<T[] | null> {
    if (this.size === 0) {
      if (this.closed) return null;
      await new Promise<void>((resolve) => {
        let timer: NodeJS.Timeout | undefined;
        this.itemWaiter = () => {
          if (timer) clearTimeout(timer);
          this.itemWaiter = null;
          resolve();
        };
        if (timeoutMs !== undefined) timer = setTimeout(() => this.itemWaiter?.(), timeoutMs);
      });
      if (this.size === 0) return this.closed ? null : [];
    }
    const n = Math.min(max, this.size);
    const out = this.items.slice(this.head, this.head + n);
    this.head += n;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    this.wakePutters();
    return out;
  }

  /** Peeks at the next item without taking it. */
  peek(): T | undefined {
    return this.size > 0 ? this.items[this.head] : undefined;
  }

  /** No more puts; the consumer drains what is left, then `take` returns null. */
  close(): void {
    this.closed = true;
    this.wakeTaker();
    this.wakePutters();
  }

  /** Drops everything queued (used after a fatal error) and returns what was dropped. */
  clear(): T[] {
    const dropped = this.items.slice(this.head);
    this.items.length = 0;
    this.head = 0;
    this.wakePutters();
    return dropped;
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
