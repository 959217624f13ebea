/**
 * Which column renames of a schema version a target table still needs (docs/schema-changes.md),
 * pure. A version marks each renamed column with its previous name (`renamedFrom`); one version
 * can carry several renames at once, also a chain (a → b while b → c) or an exchange of names
 * (a → b while b → a), which the source applied at once. The sink prepares a version again after
 * a restart, so it must tell from the target alone whether the renames are done:
 * - a rename whose old name the target lacks is done (or there is nothing to rename);
 * - a rename whose new name the target has, where no other rename of the set frees that name,
 *   is done;
 * - an exchange of names (a cycle) leaves the same names either way: a rename keeps the column
 *   where it is, at the source and at the target, so the order of the cycle's columns at the
 *   target tells: as the version lists them, done; as they were before the renames, to do.
 */
import { FerryError } from '../api/errors.js';
import type { TableSchema } from '../api/schema.js';

export interface ColumnRename {
  from: string;
  to: string;
}

/**
 * The renames of `schema` that the target table, whose columns are `target` (in their order),
 * still needs: a set to carry out at once (renameSteps gives an order for one at a time).
 */
export function pendingColumnRenames(schema: TableSchema, target: readonly string[]): ColumnRename[] {
  const has = new Set(target);
  let pairs: ColumnRename[] = [];
  for (const c of schema.columns) {
    const from = c.renamedFrom;
    if (from !== undefined && from !== c.name && has.has(from)) pairs.push({ from, to: c.name });
  }
  // Done already: the new name is at the target and no rename of the set frees it.
  for (;;) {
    const freed = new Set(pairs.map((p) => p.from));
    const left = pairs.filter((p) => !has.has(p.to) || freed.has(p.to));
    if (left.length === pairs.length) break;
    pairs = left;
  }
  const byFrom = new Map(pairs.map((p) => [p.from, p]));
  const done = new Set<ColumnRename>();
  const seen = new Set<ColumnRename>();
  for (const p of pairs) {
    if (seen.has(p)) continue;
    const cycle = cycleOf(p, byFrom);
    for (const m of cycle) seen.add(m);
    if (cycle.length === 0) continue;
    const names = new Set(cycle.map((m) => m.from));
    const atTarget = target.filter((n) => names.has(n));
    const wanted = schema.columns.map((c) => c.name).filter((n) => names.has(n));
    if (sameOrder(atTarget, wanted)) {
      for (const m of cycle) done.add(m);
    } else if (
      !sameOrder(
        atTarget.map((n) => byFrom.get(n)!.to),
        wanted,
      )
    ) {
      const list = cycle.map((m) => `${m.from} → ${m.to}`).join(', ');
      throw new FerryError(
        'FERRY_SCHEMA',
        `table ${schema.db}.${schema.table}: the source exchanged the names of columns (${list}), and the order of ` +
          `those columns at the target (${atTarget.join(', ')}) shows neither the names before nor after, so ferry ` +
          'cannot tell which target column holds which data. Rename the target columns as the source has them ' +
          `(${wanted.join(', ')} in the source's order), then restart the sink.`,
        { details: { table: `${schema.db}.${schema.table}` } },
      );
    }
  }
  return pairs.filter((p) => !done.has(p));
}

/** The renames of the cycle `p` is part of, starting with `p`; empty when `p` is on a chain. */
function cycleOf(p: ColumnRename, byFrom: ReadonlyMap<string, ColumnRename>): ColumnRename[] {
  const out = [p];
  for (let cur = byFrom.get(p.to); cur !== undefined; cur = byFrom.get(cur.to)) {
    if (cur === p) return out;
    out.push(cur);
    if (out.length > byFrom.size) break;
  }
  return [];
}

function sameOrder(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

/**
 * One-at-a-time steps for renames meant at once, on a table whose columns are `existing`: a
 * rename whose new name is free goes first; in a cycle, one column moves to a free name
 * (`ferry_tmp_<n>`) first and to its new name last.
 */
export function renameSteps(renames: readonly ColumnRename[], existing: Iterable<string>): ColumnRename[] {
  const names = new Set(existing);
  const left = renames.map((r) => ({ ...r }));
  const out: ColumnRename[] = [];
  const move = (r: ColumnRename): void => {
    out.push(r);
    names.delete(r.from);
    names.add(r.to);
  };
  while (left.length > 0) {
    const free = left.findIndex((r) => !names.has(r.to));
    if (free >= 0) {
      move(left.splice(free, 1)[0]!);
      continue;
    }
    const first = left[0]!;
    let n = 1;
    while (names.has(`ferry_tmp_${n}`)) n++;
    const tmp = `ferry_tmp_${n}`;
    move({ from: first.from, to: tmp });
    first.from = tmp;
  }
  return out;
}
