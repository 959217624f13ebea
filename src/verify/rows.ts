/**
 * Row-level comparison: the rows of a small range are fetched from both sides and matched by
 * key; rows present on both sides whose hashes (or client-compared values) differ are fetched
 * whole and compared column by column with the shared encoders' canonical values. The same
 * by-key comparison re-checks differences later, so rows in flight are not reported.
 */
import type { JsonValue } from '../api/json.js';
import type { HashedRow, SideAccess } from './access.js';
import { canonicalEquals } from './canonical-client.js';
import { type Findings, keyId } from './findings.js';
import type { Key, KeyRange } from './queries.js';
import type { BySide } from './table-plan.js';
import type { RecheckPolicy } from './types.js';

export interface RowContext {
  access: BySide<SideAccess>;
  /** Names of the compared columns, in plan order (source names). */
  columnNames: string[];
  findings: Findings;
}

export type Verdict =
  | { kind: 'missing' }
  | { kind: 'extra' }
  | { kind: 'different'; columns: string[] }
  | { kind: 'equal' }
  | { kind: 'absent' };

export function differingColumns(names: string[], a: JsonValue[], b: JsonValue[]): string[] {
  return names.filter((_, i) => !canonicalEquals(a[i] ?? null, b[i] ?? null));
}

/** Fetches the rows of `keys` from both sides and says, per key, how they compare. */
export async function classifyKeys(ctx: RowContext, keys: Key[]): Promise<Array<{ key: Key; verdict: Verdict }>> {
  const [s, t] = await Promise.all([ctx.access.source.rowsByKeys(keys), ctx.access.target.rowsByKeys(keys)]);
  const sources = new Map(s.map((r) => [keyId(r.key), r]));
  const targets = new Map(t.map((r) => [keyId(r.key), r]));
  return keys.map((key) => {
    const id = keyId(key);
    const a = sources.get(id);
    const b = targets.get(id);
    if (!a && !b) return { key, verdict: { kind: 'absent' } };
    if (!b) return { key, verdict: { kind: 'missing' } };
    if (!a) return { key, verdict: { kind: 'extra' } };
    const columns = differingColumns(ctx.columnNames, a.values, b.values);
    return { key, verdict: columns.length > 0 ? { kind: 'different', columns } : { kind: 'equal' } };
  });
}

function record(findings: Findings, key: Key, verdict: Verdict): boolean {
  switch (verdict.kind) {
    case 'missing':
      findings.addMissing(key);
      return true;
    case 'extra':
      findings.addExtra(key);
      return true;
    case 'different':
      findings.addDifferent(key, verdict.columns);
      return true;
    default:
      return false;
  }
}

function sameClientValues(a: HashedRow, b: HashedRow): boolean {
  return a.values.every((v, i) => canonicalEquals(v, b.values[i] ?? null));
}

/** Compares the rows of a range one by one; returns the differences recorded. */
export async function compareRows(ctx: RowContext, range: KeyRange): Promise<number> {
  const [s, t] = await Promise.all([ctx.access.source.rowHashes(range), ctx.access.target.rowHashes(range)]);
  const targets = new Map(t.map((r) => [keyId(r.key), r]));
  const seen = new Set<string>();
  const suspects: Key[] = [];
  let found = 0;
  for (const a of s) {
    const id = keyId(a.key);
    seen.add(id);
    const b = targets.get(id);
    if (!b) {
      ctx.findings.addMissing(a.key);
      found++;
    } else if (a.hash !== b.hash || !sameClientValues(a, b)) {
      suspects.push(a.key);
    }
  }
  for (const b of t) {
    if (!seen.has(keyId(b.key))) {
      ctx.findings.addExtra(b.key);
      found++;
    }
  }
  if (suspects.length > 0) {
    for (const { key, verdict } of await classifyKeys(ctx, suspects)) {
      if (record(ctx.findings, key, verdict)) found++;
      else if (verdict.kind === 'equal') ctx.findings.hashOnly++;
    }
  }
  return found;
}

/**
 * Re-checks the listed differences: before each round `wait()` (the delay, or the caller's
 * waitFor hook), then every listed key is fetched again from both sides and classified anew.
 * Keys that now compare equal (or exist on neither side) are dropped. Returns the rounds run.
 */
export async function recheck(ctx: RowContext, policy: RecheckPolicy, wait: () => Promise<void>): Promise<number> {
  let rounds = 0;
  for (let attempt = 0; attempt < policy.attempts; attempt++) {
    const keys = ctx.findings.listedKeys();
    if (keys.length === 0) break;
    await wait();
    rounds++;
    const verdicts = await classifyKeys(ctx, keys);
    for (const { key, verdict } of verdicts) {
      ctx.findings.forget(key);
      record(ctx.findings, key, verdict);
    }
  }
  return rounds;
}
