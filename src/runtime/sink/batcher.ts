/**
 * Batching across partitions (docs/sinks.md#consuming-and-scaling): the chunks that partition
 * handlers submit are applied together, in one target transaction of up to `batchSize` events.
 * A batch is flushed at once when it is full or when every running partition handler waits for
 * it, else after `lingerMs`. A chunk whose partition state changed since it was cut (a fence or
 * an earlier failure re-read it) is refused with a StaleError, so that its handler refetches.
 */

import type { InRecord } from './decode.js';
import { StaleError } from './errors.js';
import type { PartitionState } from './partition-state.js';
import { sameState } from './partitions.js';

export interface ChunkBatcherOptions {
  batchSize: number;
  lingerMs: number;
  /** The committed state of a partition now. */
  stateOf: (tp: string) => PartitionState | undefined;
  /** Applies the records of the chunks taken together (ordered per partition) with their offsets. */
  apply: (records: InRecord[], heartbeat: () => Promise<void>) => Promise<void>;
  /** The apply failed; afterwards the chunks' submitters are rejected with the same error. */
  onError: (err: unknown) => void;
  /** After every flush, applied or not. */
  afterFlush: () => void;
}

interface ChunkItem {
  tp: string;
  records: InRecord[];
  /** The committed state the chunk was cut against. */
  expected: PartitionState | undefined;
  heartbeat: () => Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class ChunkBatcher {
  private readonly o: ChunkBatcherOptions;
  private pending: ChunkItem[] = [];
  /** Partition handlers running (each may still submit). */
  private active = 0;
  private flushing = false;
  private flushQueued = false;
  private lingerTimer: NodeJS.Timeout | null = null;

  constructor(opts: ChunkBatcherOptions) {
    this.o = opts;
  }

  /** A partition handler starts. */
  enter(): void {
    this.active++;
  }

  /** A partition handler ends: the others may be all that a batch waits for now. */
  leave(): void {
    this.active--;
    this.scheduleFlush();
  }

  /** Resolves once the chunk committed; rejects when it did not (StaleError: refetch it). */
  submit(tp: string, records: InRecord[], heartbeat: () => Promise<void>): Promise<void> {
    return new Promise((resolve, reject) => {
      const state = this.o.stateOf(tp);
      this.pending.push({ tp, records, expected: state ? { ...state } : undefined, heartbeat, resolve, reject });
      this.scheduleFlush();
    });
  }

  close(): void {
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
  }

  private pendingSize(): number {
    return this.pending.reduce((n, it) => n + it.records.length, 0);
  }

  private scheduleFlush(): void {
    if (this.flushing || this.pending.length === 0 || this.flushQueued) return;
    // Flush at once when the batch is full or every running partition handler is waiting for it.
    if (this.pendingSize() >= this.o.batchSize || this.pending.length >= this.active) {
      this.flushQueued = true;
      setImmediate(() => {
        this.flushQueued = false;
        void this.flush();
      });
      return;
    }
    if (!this.lingerTimer) {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = null;
        void this.flush();
      }, this.o.lingerMs);
    }
  }

  private async flush(): Promise<void> {
    if (this.flushing || this.pending.length === 0) return;
    if (this.lingerTimer) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = null;
    }
    this.flushing = true;
    const taken: ChunkItem[] = [];
    let size = 0;
    while (this.pending.length > 0) {
      const next = this.pending[0]!;
      if (taken.length > 0 && size + next.records.length > this.o.batchSize) break;
      taken.push(this.pending.shift()!);
      size += next.records.length;
    }
    const fresh: ChunkItem[] = [];
    for (const it of taken) {
      if (sameState(this.o.stateOf(it.tp), it.expected)) fresh.push(it);
      else it.reject(new StaleError('the partition state changed since the chunk was cut'));
    }
    try {
      if (fresh.length > 0) {
        await this.o.apply(
          fresh.flatMap((it) => it.records),
          fresh[0]!.heartbeat,
        );
      }
      for (const it of fresh) it.resolve();
    } catch (err) {
      this.o.onError(err);
      for (const it of fresh) it.reject(err);
    } finally {
      this.flushing = false;
      this.o.afterFlush();
      this.scheduleFlush();
    }
  }
}
