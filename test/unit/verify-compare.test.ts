/**
 * The engine-free part of verify (chunk planning, checksum drill-down, row comparison,
 * re-checks) against in-memory tables behind the SideAccess interface.
 */
import { describe, expect, it, vi } from 'vitest';
import type { JsonValue } from '../../src/api/index.js';
import type { Checksum, FullRow, HashedRow, SideAccess } from '../../src/verify/access.js';
import { planChunks, splitRange } from '../../src/verify/chunks.js';
import { type CompareInput, compareTable } from '../../src/verify/compare-table.js';
import { compareKeys } from '../../src/verify/findings.js';
import type { Key, KeyRange } from '../../src/verify/queries.js';
import { DEFAULT_SETTINGS, type VerifySettings } from '../../src/verify/types.js';

interface MemRow {
  key: number[];
  values: JsonValue[];
}

/** A table in memory: rows sorted by key; `client` columns are left out of the row hash. */
class MemTable implements SideAccess {
  rows: MemRow[];
  /** Largest number of rows returned by one row fetch (memory bound). */
  maxFetched = 0;
  calls = { count: 0, checksum: 0, boundary: 0, keys: 0, rowHashes: 0, rowsByKeys: 0 };

  constructor(
    rows: MemRow[],
    private readonly client: number[] = [],
  ) {
    this.rows = [...rows].sort((a, b) => compareKeys(a.key, b.key));
  }

  private inRange(range: KeyRange): MemRow[] {
    return this.rows.filter(
      (r) =>
        (range.lo === null || compareKeys(r.key, range.lo) > 0) &&
        (range.hi === null || compareKeys(r.key, range.hi) <= 0),
    );
  }

  private hash(r: MemRow): string {
    return JSON.stringify(r.values.filter((_, i) => !this.client.includes(i)));
  }

  set(key: number, values: JsonValue[] | null): void {
    this.rows = this.rows.filter((r) => r.key[0] !== key);
    if (values) this.rows = [...this.rows, { key: [key], values }].sort((a, b) => compareKeys(a.key, b.key));
  }

  async count(range: KeyRange): Promise<number> {
    this.calls.count++;
    return this.inRange(range).length;
  }

  async checksum(range: KeyRange): Promise<Checksum> {
    this.calls.checksum++;
    const rows = this.inRange(range);
    return { count: rows.length, sums: rows.map((r) => `${JSON.stringify(r.key)}=${this.hash(r)}`).join(';') };
  }

  async boundary(range: KeyRange, offset: number): Promise<Key | null> {
    this.calls.boundary++;
    return this.inRange(range)[offset]?.key ?? null;
  }

  async keys(range: KeyRange, limit: number): Promise<Key[]> {
    this.calls.keys++;
    return this.inRange(range)
      .slice(0, limit)
      .map((r) => r.key);
  }

  async rowHashes(range: KeyRange): Promise<HashedRow[]> {
    this.calls.rowHashes++;
    const rows = this.inRange(range);
    this.maxFetched = Math.max(this.maxFetched, rows.length);
    return rows.map((r) => ({ key: r.key, hash: this.hash(r), values: this.client.map((i) => r.values[i] ?? null) }));
  }

  async rowsByKeys(keys: Key[]): Promise<FullRow[]> {
    this.calls.rowsByKeys++;
    const wanted = new Set(keys.map((k) => JSON.stringify(k)));
    return this.rows.filter((r) => wanted.has(JSON.stringify(r.key))).map((r) => ({ key: r.key, values: r.values }));
  }
}

const COLUMNS = ['id', 'name', 'amount'];
const row = (id: number): MemRow => ({ key: [id], values: [id, `name ${id}`, `${id}.50`] });
const rows = (from: number, to: number): MemRow[] => Array.from({ length: to - from + 1 }, (_, i) => row(from + i));

function settings(extra: Partial<VerifySettings> = {}): VerifySettings {
  return {
    ...DEFAULT_SETTINGS,
    chunkSize: 100,
    leafRows: 10,
    splitFactor: 4,
    recheck: { attempts: 2, delayMs: 0 },
    ...extra,
  };
}

function run(source: MemTable, target: MemTable, extra: Partial<CompareInput> = {}, s = settings()) {
  return compareTable({
    access: { source, target },
    columnNames: COLUMNS,
    method: 'checksum',
    settings: s,
    wait: async () => undefined,
    ...extra,
  });
}

describe('planChunks / splitRange', () => {
  it('walks the key space in chunks of chunkSize rows, the last one open', async () => {
    const t = new MemTable(rows(1, 250));
    const chunks: KeyRange[] = [];
    for await (const c of planChunks(t, 100)) chunks.push(c);
    expect(chunks).toEqual([
      { lo: null, hi: [100] },
      { lo: [100], hi: [200] },
      { lo: [200], hi: null },
    ]);
  });

  it('plans one open chunk for an empty table', async () => {
    const chunks: KeyRange[] = [];
    for await (const c of planChunks(new MemTable([]), 100)) chunks.push(c);
    expect(chunks).toEqual([{ lo: null, hi: null }]);
  });

  it('splits a range into parts of about equal size and drops an empty tail', async () => {
    const t = new MemTable(rows(1, 100));
    expect(await splitRange(t, { lo: [0], hi: [100] }, 100, 4)).toEqual([
      { lo: [0], hi: [25] },
      { lo: [25], hi: [50] },
      { lo: [50], hi: [75] },
      { lo: [75], hi: [100] },
    ]);
  });
});

describe('compareTable', () => {
  it('finds equal tables equal from checksums alone, without fetching rows', async () => {
    const source = new MemTable(rows(1, 1000));
    const target = new MemTable(rows(1, 1000));
    const out = await run(source, target);
    expect(out).toMatchObject({ chunks: 11, mismatchedChunks: 0, recheckRounds: 0 });
    expect(out.findings.total()).toBe(0);
    expect(source.calls.rowHashes + target.calls.rowHashes + source.calls.rowsByKeys).toBe(0);
  });

  it('names a changed value, a missing row and an extra row by key, with the differing column', async () => {
    const source = new MemTable(rows(1, 1000));
    const target = new MemTable(rows(1, 1000));
    target.set(437, [437, 'name 437', '437.51']);
    target.set(12, null);
    target.set(5000, [5000, 'extra', '0.00']);
    const out = await run(source, target);
    expect([...out.findings.missing.values()]).toEqual([[12]]);
    expect([...out.findings.extra.values()]).toEqual([[5000]]);
    expect([...out.findings.different.values()]).toEqual([{ key: [437], columns: ['amount'] }]);
    expect(out.findings.counts).toEqual({ missing: 1, extra: 1, different: 1 });
    expect(out.mismatchedChunks).toBe(3);
    // Drill-down compares small ranges only.
    expect(Math.max(source.maxFetched, target.maxFetched)).toBeLessThanOrEqual(10);
  });

  it('counts every key of a range empty on one side, listing at most maxReportedKeys', async () => {
    const source = new MemTable(rows(1, 500));
    const target = new MemTable([]);
    const out = await run(source, target, {}, settings({ maxReportedKeys: 7, recheck: { attempts: 0, delayMs: 0 } }));
    expect(out.findings.counts.missing).toBe(500);
    expect(out.findings.missing.size).toBe(7);
    expect(source.calls.rowHashes).toBe(0);
  });

  it('reports every target row as extra when the source is empty', async () => {
    const out = await run(new MemTable([]), new MemTable(rows(1, 30)));
    expect(out.findings.counts).toEqual({ missing: 0, extra: 30, different: 0 });
    expect(out.chunks).toBe(1);
  });

  it('does not report rows that arrive while it re-checks (rows in flight)', async () => {
    const source = new MemTable(rows(1, 300));
    const target = new MemTable(rows(1, 300));
    target.set(250, null);
    target.set(251, [251, 'old', '0']);
    const wait = vi.fn(async () => {
      target.set(250, row(250).values);
      target.set(251, row(251).values);
    });
    const out = await run(source, target, { wait });
    expect(wait).toHaveBeenCalledTimes(1);
    expect(out.recheckRounds).toBe(1);
    expect(out.findings.total()).toBe(0);
  });

  it('keeps re-checking up to the attempts and reports what still differs, re-classified', async () => {
    const source = new MemTable(rows(1, 50));
    const target = new MemTable(rows(1, 50));
    target.set(20, null);
    let round = 0;
    const wait = async () => {
      round++;
      if (round === 1) target.set(20, [20, 'half-applied', '20.50']);
    };
    const out = await run(source, target, { wait }, settings({ recheck: { attempts: 3, delayMs: 0 } }));
    expect(out.recheckRounds).toBe(3);
    expect(out.findings.counts).toEqual({ missing: 0, extra: 0, different: 1 });
    expect([...out.findings.different.values()]).toEqual([{ key: [20], columns: ['name'] }]);
  });

  it('compares every range row by row with the client method, in bounded fetches', async () => {
    const evens = rows(1, 1000).map((r) => row(r.key[0]! * 2));
    const source = new MemTable(evens, [2]);
    // The target holds every key: twice the source's rows in each chunk, so chunks must be split to fetch.
    const target = new MemTable(rows(1, 2000), [2]);
    target.set(998, [998, 'name 998', '998.5']);
    const out = await run(source, target, { method: 'client' });
    expect(out.findings.counts).toEqual({ missing: 0, extra: 1000, different: 1 });
    expect([...out.findings.different.values()]).toEqual([{ key: [998], columns: ['amount'] }]);
    expect(source.calls.checksum + target.calls.checksum).toBe(0);
    expect(out.mismatchedChunks).toBe(10);
    expect(Math.max(source.maxFetched, target.maxFetched)).toBeLessThanOrEqual(100);
  });

  it('stays within the chunk size per fetch when the checksum drill-down stops at maxDrillDepth', async () => {
    const source = new MemTable(rows(1, 1000));
    const target = new MemTable(rows(1, 1000).map((r) => ({ ...r, values: [...r.values.slice(0, 2), 'x'] })));
    const out = await run(source, target, {}, settings({ maxDrillDepth: 0, maxReportedKeys: 5000 }));
    expect(out.findings.counts.different).toBe(1000);
    expect(Math.max(source.maxFetched, target.maxFetched)).toBeLessThanOrEqual(100);
  });

  it('does not count rows that hash differently but compare equal', async () => {
    const source = new MemTable(rows(1, 20));
    const target = new MemTable(rows(1, 20));
    const hashes = target.rowHashes.bind(target);
    target.rowHashes = async (range) =>
      (await hashes(range)).map((r) => (r.key[0] === 7 ? { ...r, hash: 'other' } : r));
    const checksum = target.checksum.bind(target);
    target.checksum = async (range) => ({ ...(await checksum(range)), sums: 'differs' });
    const out = await run(source, target);
    expect(out.findings.total()).toBe(0);
    expect(out.findings.hashOnly).toBe(1);
  });

  it('stops with the abort signal', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      run(new MemTable(rows(1, 10)), new MemTable(rows(1, 10)), { signal: controller.signal }),
    ).rejects.toThrow();
  });
});
