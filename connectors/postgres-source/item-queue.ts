/**
 * A small bounded hand-over between the replication connection (producer, driven by socket
 * events) and the stream's async iterator (consumer). When full, `push` waits, which holds the
 * library's flow control, which pauses the socket: memory stays flat. Items queued before a
 * failure are still handed out; then the failure is thrown.
 */
export class ItemQueue<T> {
  private readonly items: T[] = [];
  private error: unknown = null;
  private closed = false;
  private consumer: (() => void) | null = null;
  private producers: (() => void)[] = [];

  constructor(private readonly capacity: number) {}

  /** True once closed or failed: further pushes are dropped. */
  get done(): boolean {
    return this.closed || this.error !== null;
  }

  /** True once failed (not merely closed). */
  get failed(): boolean {
    return this.error !== null;
  }

  get size(): number {
    return this.items.length;
  }

  async push(item: T): Promise<void> {
    if (this.done) return;
    this.items.push(item);
    this.wakeConsumer();
    while (this.items.length >= this.capacity && !this.done) {
      await new Promise<void>((resolve) => this.producers.push(resolve));
    }
  }

  /** The next item; null once closed and empty; throws the failure once failed and empty. */
  async next(): Promise<T | null> {
    for (;;) {
      if (this.items.length > 0) {
        const item = this.items.shift() as T;
        this.wakeProducers();
        return item;
      }
      if (this.error !== null) throw this.error;
      if (this.closed) return null;
      await new Promise<void>((resolve) => {
        this.consumer = resolve;
      });
    }
  }

  fail(err: unknown): void {
    if (this.done) return;
    this.error = err;
    this.wakeConsumer();
    this.wakeProducers();
  }

  close(): void {
    this.closed = true;
    this.items.length = 0;
    this.wakeConsumer();
    this.wakeProducers();
  }

  private wakeConsumer(): void {
    const c = this.consumer;
    this.consumer = null;
    c?.();
  }

  private wakeProducers(): void {
    const list = this.producers;
    this.producers = [];
    for (const p of list) p();
  }
}
