/**
 * Batching across partitions (docs/sinks.md#consuming-and-scaling): the chunks that partition
 * handlers submit are applied together, in one target transaction of up to `batchSize` events and
 * `batchBytes` bytes of records (a single larger chunk goes alone).
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
  /** Most bytes of records (keys and values) in one batch. */
  batchBytes: number;
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

/** The bytes a record takes in a batch: its key and value. */
export function recordBytes(r: InRecord): number {
  return (r.key?.length ?? 0) + (r.value?.length ?? 0);
}

/**
 * Cuts a partition's records into chunks of at most `maxCount` records and `maxBytes` bytes
 * (a record larger than `maxBytes` is a chunk of its own), in order.
 */
export function cutChunks(records: InRecord[], maxCount: number, maxBytes: number): InRecord[][] {
  const chunks: InRecord[][] = [];
  let chunk: InRecord[] = [];
  let bytes = 0;
  for (const r of records) {
    const size = recordBytes(r);
    if (chunk.length > 0 && (chunk.length >= maxCount || bytes + size > maxBytes)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(r);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

interface ChunkItem {
  tp: string;
  records: InRecord[];
  /** recordBytes of the records, summed. */
  bytes: number;
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
      const bytes = records.reduce((n, r) => n + recordBytes(r), 0);
      this.pending.push({ tp, records, bytes, expected: state ? { ...state } : undefined, heartbeat, resolve, reject });
      this.scheduleFlush();
    });
  }

  close(): void {
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
  }

  /** A batch of what is pending would be full (events or bytes). */
  private pendingFull(): boolean {
    let events = 0;
    let bytes = 0;
    for (const it of this.pending) {
      events += it.records.length;
      bytes += it.bytes;
    }
    return events >= this.o.batchSize || bytes >= this.o.batchBytes;
  }

  private scheduleFlush(): void {
    if (this.flushing || this.pending.length === 0 || this.flushQueued) return;
    // Flush at once when the batch is full or every running partition handler is waiting for it.
    if (this.pendingFull() || this.pending.length >= this.active) {
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
    let bytes = 0;
    while (this.pending.length > 0) {
      const next = this.pending[0]!;
      if (taken.length > 0 && (size + next.records.length > this.o.batchSize || bytes + next.bytes > this.o.batchBytes))
        break;
      taken.push(this.pending.shift()!);
      size += next.records.length;
      bytes += next.bytes;
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
