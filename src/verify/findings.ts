/**
 * The differences found in one table: keys missing in the target, extra in the target, and rows
 * that differ (with their columns). Totals are always counted; keys are listed up to a cap so
 * that memory stays bounded even when a whole table is missing.
 */
import type { JsonValue } from '../api/json.js';
import type { Key } from './queries.js';

export type Category = 'missing' | 'extra' | 'different';

export interface DifferentRow {
  key: Key;
  columns: string[];
}

/** The identity of a key (its canonical JSON). */
export const keyId = (key: Key): string => JSON.stringify(key);

export class Findings {
  readonly missing = new Map<string, Key>();
  readonly extra = new Map<string, Key>();
  readonly different = new Map<string, DifferentRow>();
  readonly counts: Record<Category, number> = { missing: 0, extra: 0, different: 0 };
  /** Rows whose database hashes differed while their canonical values are equal. */
  hashOnly = 0;
  /** Ranges that could not be narrowed down (described for the report). */
  readonly unresolved: string[] = [];

  constructor(private readonly cap: number) {}

  private list<T>(map: Map<string, T>, id: string, value: T): void {
    if (map.size < this.cap || map.has(id)) map.set(id, value);
  }

  addMissing(key: Key): void {
    this.counts.missing++;
    this.list(this.missing, keyId(key), key);
  }

  addExtra(key: Key): void {
    this.counts.extra++;
    this.list(this.extra, keyId(key), key);
  }

  addDifferent(key: Key, columns: string[]): void {
    this.counts.different++;
    this.list(this.different, keyId(key), { key, columns });
  }

  /** Differences known by count only (beyond the listed keys). */
  addUnlisted(category: Category, n: number): void {
    this.counts[category] += n;
  }

  /** Room left for listing keys of a category. */
  room(category: Category): number {
    return Math.max(0, this.cap - this[category].size);
  }

  total(): number {
    return this.counts.missing + this.counts.extra + this.counts.different;
  }

  /** Every listed key, for re-checking. */
  listedKeys(): Key[] {
    return [...this.missing.values(), ...this.extra.values(), ...[...this.different.values()].map((d) => d.key)];
  }

  /** Forgets a listed key (it is about to be classified again). */
  forget(key: Key): void {
    const id = keyId(key);
    for (const category of ['missing', 'extra', 'different'] as const) {
      if (this[category].delete(id)) this.counts[category]--;
    }
  }
}

function compareValue(a: JsonValue | undefined, b: JsonValue | undefined): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const as = typeof a === 'string' ? a : JSON.stringify(a);
  const bs = typeof b === 'string' ? b : JSON.stringify(b);
  if (/^-?\d+$/.test(as) && /^-?\d+$/.test(bs)) {
    const d = BigInt(as) - BigInt(bs);
    return d < 0n ? -1 : d > 0n ? 1 : 0;
  }
  return as < bs ? -1 : as > bs ? 1 : 0;
}

/** A stable, human-friendly order of keys for the report (numbers numerically). */
export function compareKeys(a: Key, b: Key): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const c = compareValue(a[i], b[i]);
    if (c !== 0) return c;
  }
  return 0;
}
