import type { JsonValue, Logger, SnapshotProgress, StoredSourceOffset, TableSchema } from '../../api/index.js';
import { tableName } from '../../api/index.js';

/**
 * What is left to read: a key range of a table (the whole table, or one of its ranges when it is
 * read by several readers at once), or a repair (exactly some keys).
 */
export interface Job {
  table: string;
  /** The last key whose chunk is placed in the stream (null: from the start of the range). */
  lastKey: JsonValue[] | null;
  /** End of the range, inclusive (null: the end of the table). */
  until: JsonValue[] | null;
  /** A repair: exactly these rows (key values in key order), not a range. */
  keys?: JsonValue[][];
  reading: boolean;
  /** Average canonical bytes per row seen so far (sizes the next chunk). */
  rowBytes: number | null;
  started: boolean;
  /** Bumped when the table is requested again while read: a chunk of an older round moves nothing. */
  round: number;
}

function job(table: string, lastKey: JsonValue[] | null, until: JsonValue[] | null = null): Job {
  return { table, lastKey, until, reading: false, rowBytes: null, started: false, round: 0 };
}

/**
 * The snapshot engine's bookkeeping: tables to read (in order), tables done, tables captured,
 * the signals offset; what a stored offset says of them and back.
 */
export class SnapshotJobs {
  readonly jobs: Job[] = [];
  readonly done = new Set<string>();
  readonly captured = new Set<string>();
  /** Backfills after ADD COLUMN queued so far (`db.table@version`), see backfill-history.ts. */
  readonly backfilled = new Set<string>();
  signalsOffset: string | undefined;

  constructor(private readonly logger: Logger) {}

  /** Tables known at the start (discover) and what the stored offset says (null: a new pipeline). */
  init(tables: TableSchema[], stored: StoredSourceOffset | null, initialSnapshot: boolean): void {
    const names = tables.map(tableName);
    this.signalsOffset = stored?.signals;
    if (!stored) {
      for (const n of names) this.captured.add(n);
      if (initialSnapshot) for (const n of names) this.addTable(n);
      return;
    }
    for (const n of stored.tables ?? names) this.captured.add(n);
    for (const n of stored.snapshot?.done ?? []) this.done.add(n);
    for (const k of stored.snapshot?.backfilled ?? []) this.backfilled.add(k);
    const progress = stored.snapshot;
    if (progress?.pending) {
      for (const p of progress.pending) {
        const j = job(p.table, p.lastKey, p.until ?? null);
        if (p.keys) {
          j.keys = p.keys;
          j.started = true;
        }
        this.jobs.push(j);
      }
    } else if (stored.phase === 'snapshot') {
      // Written before chunked snapshots: every table not done is pending.
      for (const n of names) {
        if (this.done.has(n)) continue;
        this.jobs.push(job(n, progress?.current?.table === n ? progress.current.lastKey : null));
      }
    }
    // Tables that started to match the filter while the pipeline was stopped.
    for (const n of names) {
      if (this.captured.has(n)) continue;
      this.captured.add(n);
      this.logger.info('a table is captured for the first time: snapshotting it', { table: n });
      this.addTable(n);
    }
  }

  /** A whole table to read (nothing when it is queued already). */
  addTable(table: string): void {
    if (this.jobs.some((j) => j.table === table && !j.keys)) return;
    this.jobs.push(job(table, null));
  }

  /** Reads a table again from its first key: its queued ranges are replaced by one. */
  restart(table: string): void {
    const old = this.jobs.filter((j) => j.table === table && !j.keys);
    const round = Math.max(0, ...old.map((j) => j.round)) + 1;
    for (const j of old) {
      j.round = round; // a chunk in flight of an old range moves nothing any more
      this.jobs.splice(this.jobs.indexOf(j), 1);
    }
    const fresh = job(table, null);
    fresh.round = round;
    this.jobs.push(fresh);
    this.done.delete(table);
  }

  /** Adds keys to read again to the table's waiting repair (or a new one); returns how many are new. */
  addKeys(table: string, keys: JsonValue[][]): number {
    const waiting = this.jobs.find((j) => j.table === table && j.keys && !j.reading);
    const known = new Set((waiting?.keys ?? []).map((k) => JSON.stringify(k)));
    const fresh = keys.filter((k) => !known.has(JSON.stringify(k)));
    if (waiting) waiting.keys!.push(...fresh);
    else {
      const j = job(table, null);
      j.keys = fresh;
      j.started = true;
      this.jobs.push(j);
    }
    return fresh.length;
  }

  /**
   * Splits a range job at the given keys (ascending, inside the range) into consecutive ranges
   * that readers take in parallel.
   */
  split(j: Job, bounds: JsonValue[][]): void {
    if (bounds.length === 0) return;
    const at = this.jobs.indexOf(j);
    const end = j.until;
    j.until = bounds[0]!;
    const parts = bounds.map((b, i) => {
      const part = job(j.table, b, bounds[i + 1] ?? end);
      part.started = true;
      part.round = j.round;
      return part;
    });
    this.jobs.splice(at + 1, 0, ...parts);
  }

  /** Whether no other range of the table is left (the table is done once its last range is). */
  lastRange(j: Job): boolean {
    return !this.jobs.some((o) => o !== j && o.table === j.table && !o.keys);
  }

  remove(j: Job): void {
    const i = this.jobs.indexOf(j);
    if (i >= 0) this.jobs.splice(i, 1);
  }

  next(): Job | null {
    return this.jobs.find((j) => !j.reading) ?? null;
  }

  /** The stored offset for a stream position, with the snapshot progress that belongs to it. */
  decorate(offset: StoredSourceOffset): StoredSourceOffset {
    const out: StoredSourceOffset = {
      ...offset,
      phase: this.jobs.length > 0 ? 'snapshot' : 'stream',
      tables: [...this.captured],
    };
    if (this.signalsOffset !== undefined) out.signals = this.signalsOffset;
    if (this.jobs.length > 0 || this.done.size > 0 || this.backfilled.size > 0) out.snapshot = this.progress();
    else delete out.snapshot;
    return out;
  }

  progress(): SnapshotProgress {
    const pending = this.jobs.map((j) => ({
      table: j.table,
      lastKey: j.keys ? null : j.lastKey,
      ...(j.until ? { until: j.until } : {}),
      ...(j.keys ? { keys: j.keys } : {}),
    }));
    const progress: SnapshotProgress = { done: [...this.done], pending };
    if (this.backfilled.size > 0) progress.backfilled = [...this.backfilled];
    const current = pending.find((p) => p.lastKey !== null);
    if (current?.lastKey) progress.current = { table: current.table, lastKey: current.lastKey };
    return progress;
  }
}
