import type { ChunkResult, Row } from '../../api/index.js';
import type { Chunk } from './snapshot-chunk.js';

/**
 * The last `capacity` row changes the stream passed on (table, key, transaction), so that a chunk
 * can learn which of its rows were changed by transactions still running when its view was
 * taken (PostgreSQL: such a transaction may already have been streamed before the chunk was
 * requested). A ring: memory is bounded by `capacity`.
 */
export class RecentChanges {
  private readonly tables: string[];
  private readonly keys: Array<string | null>;
  private readonly txs: Array<string | null>;
  /** Changes seen so far; the next one gets this sequence number. */
  seq = 0;

  constructor(private readonly capacity: number) {
    this.tables = new Array<string>(capacity);
    this.keys = new Array<string | null>(capacity);
    this.txs = new Array<string | null>(capacity);
  }

  add(table: string, key: string | null, txId: string | null): void {
    const i = this.seq % this.capacity;
    this.tables[i] = table;
    this.keys[i] = key;
    this.txs[i] = txId;
    this.seq++;
  }

  /**
   * Where the look-back for a chunk requested at `seq` starts: a transaction still running at a
   * view taken after `seq` was streamed, if at all, just before it.
   */
  lookBackFrom(seq: number): number {
    return Math.max(0, seq - Math.min(2000, Math.floor(this.capacity / 2)));
  }

  /** Whether every change from `from` up to now is still held. */
  covers(from: number): boolean {
    return Math.max(0, this.seq - this.capacity) <= from;
  }

  /** Keys of `table` changed from change `from` on by a transaction in `txIds` ('*': any). */
  keysOf(table: string, txIds: Set<string>, from: number): string[] {
    const out: string[] = [];
    const any = txIds.has('*');
    for (let s = Math.max(from, this.seq - this.capacity); s < this.seq; s++) {
      const k = s % this.capacity;
      const key = this.keys[k];
      if (key === null || key === undefined || this.tables[k] !== table) continue;
      const tx = this.txs[k];
      if (any || (tx !== null && tx !== undefined && txIds.has(tx))) out.push(key);
    }
    return out;
  }
}

/** Approximate bytes of a row in its canonical JSON form. */
export function rowBytes(row: Row): number {
  let n = 2;
  for (const [k, v] of Object.entries(row)) {
    n += k.length + 4;
    if (typeof v === 'string') n += v.length + 2;
    else if (v === null || typeof v === 'number' || typeof v === 'boolean') n += 8;
    else n += JSON.stringify(v).length;
  }
  return n;
}

/**
 * Rows to ask for in the next chunk: `chunkSize`, fewer when rows are large, so that a chunk
 * stays near `chunkBytes`. The first chunk of a table (row size unknown) is small.
 */
export function chunkLimit(chunkSize: number, chunkBytes: number, avgRowBytes: number | null): number {
  if (avgRowBytes === null) return Math.max(1, Math.min(chunkSize, 256));
  return Math.max(1, Math.min(chunkSize, Math.floor(chunkBytes / Math.max(1, avgRowBytes))));
}

/**
 * Keys (JSON) of a placed chunk whose rows come from the stream instead: those the stream changed
 * since the chunk was requested, and those of transactions still running when its view was taken
 * (they may have been streamed before the request). null: what was streamed then is no longer
 * recorded, so the chunk cannot be checked and is read again.
 */
export function streamedKeys(chunk: Chunk, result: ChunkResult, recent: RecentChanges): Set<string> | null {
  const skip = new Set(chunk.changed);
  if (result.runningTx && result.runningTx.length > 0) {
    const from = recent.lookBackFrom(chunk.requestSeq);
    if (!recent.covers(from)) return null;
    for (const key of recent.keysOf(chunk.table, new Set(result.runningTx), from)) skip.add(key);
  }
  return skip;
}
