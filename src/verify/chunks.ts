/**
 * Splitting the key space into ranges, memory-bounded: boundaries are read one at a time with
 * an index-ordered query ("the key N rows after the previous boundary"), so nothing but the
 * current boundary is held, whatever the table size.
 */
import type { SideAccess } from './access.js';
import type { Key, KeyRange } from './queries.js';

/**
 * The chunks of a table, from one side's keys: (-∞, k1], (k1, k2], …, (kn, +∞), each holding
 * `chunkSize` rows of that side (the last one at most that many, plus whatever the other side
 * has beyond that side's last key).
 */
export async function* planChunks(side: SideAccess, chunkSize: number): AsyncGenerator<KeyRange> {
  let lo: Key | null = null;
  for (;;) {
    const hi = await side.boundary({ lo, hi: null }, chunkSize - 1);
    yield { lo, hi };
    if (hi === null) return;
    lo = hi;
  }
}

/**
 * Splits a range into up to `parts` ranges of about equal row counts on `side`, which holds
 * `rows` rows of it. Boundaries are walked from the range start, so the total work is one pass
 * over the range.
 */
export async function splitRange(side: SideAccess, range: KeyRange, rows: number, parts: number): Promise<KeyRange[]> {
  const step = Math.max(1, Math.ceil(rows / Math.max(2, parts)));
  const out: KeyRange[] = [];
  let lo = range.lo;
  for (let i = 1; i < parts; i++) {
    const b = await side.boundary({ lo, hi: range.hi }, step - 1);
    if (b === null) break;
    out.push({ lo, hi: b });
    lo = b;
  }
  const emptyTail = lo !== null && range.hi !== null && JSON.stringify(lo) === JSON.stringify(range.hi);
  if (!emptyTail) out.push({ lo, hi: range.hi });
  return out;
}
