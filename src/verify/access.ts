/**
 * What the comparison needs from one side of a table, as a small interface: counts, checksums,
 * boundary keys and row fetches, all by key range, with values already canonical. The SQL
 * implementation runs the statements of queries.ts; tests use an in-memory one.
 */
import type { JsonValue } from '../api/json.js';
import type { VerifyDb } from './db.js';
import {
  boundaryStatement,
  checksumStatement,
  countStatement,
  type Key,
  type KeyRange,
  keysStatement,
  rowHashStatement,
  rowsByKeysStatement,
  type Statement,
} from './queries.js';
import type { Side, TablePlan } from './table-plan.js';

export interface Checksum {
  count: number;
  /** The hash sums as text; equal sums and counts mean equal chunks. */
  sums: string;
}

export interface HashedRow {
  key: Key;
  /** Row hash of the columns hashed in the database (null when none is). */
  hash: string | null;
  /** Canonical values of the client-compared columns (plan.clientIndexes order). */
  values: JsonValue[];
}

export interface FullRow {
  key: Key;
  /** Canonical values of every compared column (plan.columns order). */
  values: JsonValue[];
}

export interface SideAccess {
  count(range: KeyRange): Promise<number>;
  checksum(range: KeyRange): Promise<Checksum>;
  /** The key `offset` rows into the range in key order, or null when the range has fewer rows. */
  boundary(range: KeyRange, offset: number): Promise<Key | null>;
  /** The first `limit` keys of the range. */
  keys(range: KeyRange, limit: number): Promise<Key[]>;
  rowHashes(range: KeyRange): Promise<HashedRow[]>;
  /** Rows with these keys (at most one per key; absent keys are left out). */
  rowsByKeys(keys: Key[]): Promise<FullRow[]>;
}

/** Keys per by-key statement. */
const KEY_BATCH = 200;

/** The SQL side of a table plan. */
export function sqlAccess(db: VerifyDb, plan: TablePlan, side: Side): SideAccess {
  const run = (s: Statement) => db.query(s.sql, s.params);
  const keyCanon = plan.keyIndexes.map((i) => plan.columns[i]!.canon[side]);
  const clientCanon = plan.clientIndexes.map((i) => plan.columns[i]!.canon[side]);
  const allCanon = plan.columns.map((c) => c.canon[side]);
  const nk = keyCanon.length;
  const keyOf = (row: unknown[]): Key => keyCanon.map((canon, i) => canon(row[i]));
  return {
    async count(range) {
      const rows = await run(countStatement(plan, side, range));
      return Number(rows[0]?.[0] ?? 0);
    },
    async checksum(range) {
      const r = (await run(checksumStatement(plan, side, range)))[0] ?? [];
      return { count: Number(r[0] ?? 0), sums: `${String(r[1] ?? '')}/${String(r[2] ?? '')}` };
    },
    async boundary(range, offset) {
      const rows = await run(boundaryStatement(plan, side, range, offset));
      return rows[0] ? keyOf(rows[0]) : null;
    },
    async keys(range, limit) {
      return (await run(keysStatement(plan, side, range, limit))).map(keyOf);
    },
    async rowHashes(range) {
      const rows = await run(rowHashStatement(plan, side, range));
      return rows.map((r) => ({
        key: keyOf(r),
        hash: r[nk] === null || r[nk] === undefined ? null : String(r[nk]),
        values: clientCanon.map((canon, i) => canon(r[nk + 1 + i])),
      }));
    },
    async rowsByKeys(keys) {
      const out: FullRow[] = [];
      for (let i = 0; i < keys.length; i += KEY_BATCH) {
        const rows = await run(rowsByKeysStatement(plan, side, keys.slice(i, i + KEY_BATCH)));
        for (const r of rows) out.push({ key: keyOf(r), values: allCanon.map((canon, j) => canon(r[nk + j])) });
      }
      return out;
    },
  };
}
