/**
 * Parallel apply of transaction mode (docs/transactions.md#parallel-apply): units (whole source
 * transactions, grouped) run on several target connections at once, and commit in the order
 * they were taken, which is the source's commit order. Pure scheduling; the target work is the
 * caller's `run`.
 *
 * - Every unit has a write set: (table, key) of every row it writes, both keys of a key change.
 *   A truncate, or a table schema no unit applied before (ensureTable may change the table),
 *   makes the unit a barrier, which conflicts with every other unit.
 * - A unit starts its writes once every earlier unit that is not committed yet and whose write
 *   set overlaps its own has done ITS writes (it waits in `beforeCommit` holding the locks of
 *   those rows): the target then makes the later unit's statements on those rows wait until the
 *   earlier one commits, so they land after it. A barrier, a unit after a barrier, and a unit
 *   that reads rows back (UNCHANGED columns) or deletes one of the overlapping rows wait for
 *   the overlapping units to COMMIT instead: a delete (PostgreSQL's DELETE … USING in READ
 *   COMMITTED) does not see, and so does not wait for, a row another transaction inserted and
 *   has not committed yet, where an upsert (INSERT … ON CONFLICT, ON DUPLICATE KEY) waits.
 * - `run` does the writes, then calls `beforeCommit`, which resolves once the unit before it has
 *   committed, and then stores the offsets and commits. Commits are in order, so the stored
 *   offsets and the applied commit order stay a contiguous prefix of the source's history.
 * - Any failure (a lock wait the write sets cannot see, e.g. of a unique secondary index, ends
 *   in the target's lock timeout) fails every later unit before it commits (its `beforeCommit`
 *   rejects, its transaction rolls back); earlier units still commit. `failure` then says which
 *   units were not applied, so the caller re-applies them from the stored offsets serially.
 */
import { UNCHANGED } from '../../../api/event.js';
import type { TableChanges } from '../../../api/index.js';
import { rowKey, tableId } from '../reduce.js';

export interface WriteSet {
  /** Conflicts with every other unit. */
  barrier: boolean;
  /** Reads rows back before writing: starts only after the overlapping units committed. */
  strict: boolean;
  /** `table \0 key` of every row written. */
  keys: Set<string>;
  /** The keys it deletes (a subset of `keys`). */
  deletes: Set<string>;
}

/**
 * The write set of a reduced batch. `known`: schema versions (`table \0 version`) of units
 * scheduled before; the batch's own are added to it.
 */
export function writeSetOf(tables: TableChanges[], known: Set<string>): WriteSet {
  const set: WriteSet = { barrier: false, strict: false, keys: new Set(), deletes: new Set() };
  for (const t of tables) {
    const table = tableId(t.schema);
    const version = `${table}\u0000${t.schema.version}`;
    if (!known.has(version)) {
      known.add(version);
      set.barrier = true;
    }
    if (t.truncate) set.barrier = true;
    for (const row of t.deletes) {
      const key = `${table}\u0000${rowKey(t.schema, row)}`;
      set.keys.add(key);
      set.deletes.add(key);
    }
    for (const row of t.upserts) {
      set.keys.add(`${table}\u0000${rowKey(t.schema, row)}`);
      if (!set.strict && Object.values(row).includes(UNCHANGED)) set.strict = true;
    }
  }
  return set;
}

function intersects(a: Set<string>, b: Set<string>): boolean {
  const [small, big] = a.size <= b.size ? [a, b] : [b, a];
  for (const k of small) if (big.has(k)) return true;
  return false;
}

/** What `later` waits for of `earlier` (both in flight) before it starts: nothing, its writes, or its commit. */
export function waitFor(earlier: WriteSet, later: WriteSet): 'none' | 'written' | 'committed' {
  if (earlier.barrier || later.barrier) return 'committed';
  if (!intersects(earlier.keys, later.keys)) return 'none';
  if (later.strict || intersects(later.deletes, earlier.keys)) return 'committed';
  return 'written';
}

/** Thrown into units after a failed one. */
export class AbortedUnitError extends Error {}

interface Signal {
  promise: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

function signal(): Signal {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined); // observed by whoever waits; never an unhandled rejection
  return { promise, resolve, reject };
}

interface Job {
  seq: number;
  writes: WriteSet;
  written: Signal;
  committed: Signal;
}

export interface SchedulerFailure {
  /** The error of the first unit that failed. */
  error: unknown;
  /** Units not applied (the failed one and every later one). */
  notApplied: number;
}

export class ParallelScheduler {
  private readonly parallelism: number;
  private readonly onSettled: () => void;
  private readonly jobs: Job[] = [];
  private last: Job | null = null;
  private seq = 0;
  private failedAt: { seq: number; error: unknown } | null = null;
  private readonly settled: Array<Promise<void>> = [];
  /** Highest number of units in flight at once (for tests and logs). */
  peak = 0;

  /** `onSettled`: called whenever a unit committed or failed. */
  constructor(parallelism: number, onSettled: () => void = () => undefined) {
    this.parallelism = Math.max(1, parallelism);
    this.onSettled = onSettled;
  }

  /** Units started and not settled yet. */
  get inFlight(): number {
    return this.jobs.length;
  }

  /** No unit may be added until one settles (or until a failure was handled). */
  get full(): boolean {
    return this.jobs.length >= this.parallelism || this.failedAt !== null;
  }

  /** Set once a unit failed; every unit after it fails too. */
  get failure(): SchedulerFailure | null {
    if (!this.failedAt) return null;
    return { error: this.failedAt.error, notApplied: this.seq - this.failedAt.seq + 1 };
  }

  /**
   * Schedules a unit. `run(beforeCommit)` writes, awaits `beforeCommit()` inside its transaction,
   * then commits; `committed()` runs right after, in unit order, before the next unit commits.
   */
  add(writes: WriteSet, run: (beforeCommit: () => Promise<void>) => Promise<void>, committed: () => void): void {
    if (this.failedAt) throw new AbortedUnitError('a unit failed; no unit may be added before the failure is handled');
    const job: Job = { seq: ++this.seq, writes, written: signal(), committed: signal() };
    const before = this.last;
    const waits: Array<Promise<void>> = [];
    for (const j of this.jobs) {
      const what = waitFor(j.writes, writes);
      if (what !== 'none') waits.push((what === 'committed' ? j.committed : j.written).promise);
    }
    this.jobs.push(job);
    this.last = job;
    this.peak = Math.max(this.peak, this.jobs.length);
    const abortIfFailed = () => {
      if (this.failedAt && this.failedAt.seq < job.seq) throw new AbortedUnitError('an earlier unit failed');
    };
    const done = (async () => {
      for (const w of waits) await w;
      abortIfFailed();
      await run(async () => {
        job.written.resolve();
        if (before) await before.committed.promise;
        abortIfFailed();
      });
    })().then(
      () => {
        this.remove(job);
        committed();
        job.written.resolve();
        job.committed.resolve();
        this.onSettled();
      },
      (err: unknown) => {
        if (!this.failedAt || job.seq < this.failedAt.seq) this.failedAt = { seq: job.seq, error: err };
        this.remove(job);
        job.written.reject(err);
        job.committed.reject(err);
        this.onSettled();
      },
    );
    this.settled.push(done);
  }

  /** Resolves once every unit added has committed or failed. */
  async drain(): Promise<void> {
    while (this.settled.length > 0) await Promise.all(this.settled.splice(0));
  }

  private remove(job: Job): void {
    const at = this.jobs.indexOf(job);
    if (at >= 0) this.jobs.splice(at, 1);
  }
}
