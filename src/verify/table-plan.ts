/**
 * The plan for one table pair: which columns are compared and how (canonical SQL text on each
 * side, or client-side), the key and its range handling, and the method of the whole table.
 * Pure: built from both catalogs, no I/O.
 */
import { FerryError } from '../api/errors.js';
import type { TableId } from '../api/schema.js';
import { type Canonicaliser, clientCanonicaliser } from './canonical-client.js';
import { canonicalText } from './canonical-sql.js';
import type { TableShape } from './catalog.js';
import type { Flavor } from './db.js';
import type { Dialect } from './dialect.js';
import { KEY_KINDS, type KeySide, keySide } from './keys.js';
import type { NativeColumn } from './native-types.js';
import { type PairSpec, resolvePair } from './pairing.js';
import type { TablePair, VerifyMethod } from './types.js';

export type Side = 'source' | 'target';
export const SIDES: readonly Side[] = ['source', 'target'];
export type BySide<T> = Record<Side, T>;

export interface SideInfo {
  dialect: Dialect;
  flavor: Flavor;
}

export interface ColumnPlan {
  /** The source column name; reports use it. */
  name: string;
  pair: PairSpec;
  native: BySide<NativeColumn>;
  /** Canonical text expressions feeding the row hash; null: compared client-side only. */
  text: BySide<string> | null;
  /** What row fetches select (raw values for the encoders). */
  fetch: BySide<string>;
  canon: BySide<Canonicaliser>;
}

export interface TablePlan {
  source: TableId;
  target: TableId;
  table: BySide<string>;
  dialect: BySide<Dialect>;
  columns: ColumnPlan[];
  /** Positions of the key columns in `columns`, in key order. */
  keyIndexes: number[];
  key: BySide<KeySide[]>;
  method: VerifyMethod;
  /** Positions of the columns compared client-side. */
  clientIndexes: number[];
  notes: string[];
}

function fetchExpr(col: NativeColumn, ref: string): string {
  if (col.engine === 'mysql' && col.dataType === 'float') return `(${ref} + 0e0)`;
  return ref;
}

function findTarget(columns: NativeColumn[], name: string): NativeColumn | undefined {
  const exact = columns.find((c) => c.name === name);
  if (exact) return exact;
  const folded = columns.filter((c) => c.name.toLowerCase() === name.toLowerCase());
  return folded.length === 1 ? folded[0] : undefined;
}

const describeType = (c: NativeColumn) => `${c.engine === 'mysql' ? 'MySQL' : 'PostgreSQL'} ${c.columnType}`;

function tableError(pair: TablePair, message: string): FerryError {
  return new FerryError('FERRY_PREFLIGHT', message, {
    details: { source: `${pair.source.db}.${pair.source.table}`, target: `${pair.target.db}.${pair.target.table}` },
  });
}

/**
 * Builds the plan of a pair from both sides' catalogs.
 * @throws FerryError FERRY_PREFLIGHT when the pair cannot be verified (no key, a source column
 *   missing in the target, a key type without a common order).
 */
export function buildTablePlan(pair: TablePair, shapes: BySide<TableShape>, sides: BySide<SideInfo>): TablePlan {
  const sourceName = `${pair.source.db}.${pair.source.table}`;
  const targetName = `${pair.target.db}.${pair.target.table}`;
  const keyNames = pair.keyColumns && pair.keyColumns.length > 0 ? pair.keyColumns : shapes.source.primaryKey;
  if (keyNames.length === 0) {
    throw tableError(pair, `${sourceName} has no primary key; configure source.keyColumns["${sourceName}"]`);
  }
  const excluded = new Set(pair.excludeColumns ?? []);
  const notes: string[] = [];
  const columns: ColumnPlan[] = [];
  const missing: string[] = [];
  for (const s of shapes.source.columns) {
    if (excluded.has(s.name) && !keyNames.includes(s.name)) continue;
    const t = findTarget(shapes.target.columns, s.name);
    if (!t) {
      missing.push(s.name);
      continue;
    }
    const paired = resolvePair(s, t);
    // A key is never NULL: a row whose key holds a zero date is refused by the sink (missing).
    const spec = keyNames.includes(s.name) ? { ...paired, zeroDateAsNull: false } : paired;
    const refs = { source: sides.source.dialect.quoteId(s.name), target: sides.target.dialect.quoteId(t.name) };
    const opts = { trimDecimal: spec.trimDecimal, zeroDateAsNull: spec.zeroDateAsNull };
    let text: BySide<string> | null = null;
    const bothOnly = spec.kind === 'array' || spec.kind === 'unknown';
    if (!spec.jsonSemantic && (!bothOnly || spec.sameType)) {
      const st = canonicalText(spec.kind, s, refs.source, opts);
      const tt = canonicalText(spec.kind, t, refs.target, opts);
      if (st !== null && tt !== null) text = { source: st, target: tt };
    }
    const clientOpts = {
      trimDecimal: spec.trimDecimal,
      jsonSemantic: spec.jsonSemantic,
      zeroDateAsNull: spec.zeroDateAsNull,
    };
    columns.push({
      name: s.name,
      pair: spec,
      native: { source: s, target: t },
      text,
      fetch: { source: fetchExpr(s, refs.source), target: fetchExpr(t, refs.target) },
      canon: {
        source: clientCanonicaliser(spec.kind, s, clientOpts),
        target: clientCanonicaliser(spec.kind, t, clientOpts),
      },
    });
    const pairText = `${describeType(s)} → ${describeType(t)}`;
    if (spec.trimDecimal) {
      notes.push(`column ${s.name} (${pairText}): decimal scales differ, compared by value (trailing zeros ignored)`);
    }
    if (spec.jsonSemantic) {
      notes.push(
        `column ${s.name} (${pairText}): the target normalises JSON differently, compared as parsed JSON client-side`,
      );
    } else if (text === null) {
      notes.push(`column ${s.name} (${pairText}): no identical in-database form, compared client-side`);
    }
  }
  if (missing.length > 0) {
    throw tableError(pair, `the target table ${targetName} has no column(s) ${missing.join(', ')} of ${sourceName}`);
  }
  const keyIndexes = keyNames.map((k) => {
    const i = columns.findIndex((c) => c.name === k);
    if (i < 0) throw tableError(pair, `key column ${k} of ${sourceName} does not exist`);
    return i;
  });
  const key: BySide<KeySide[]> = { source: [], target: [] };
  for (const i of keyIndexes) {
    const c = columns[i]!;
    if (!KEY_KINDS.has(c.pair.kind)) {
      throw tableError(
        pair,
        `key column ${c.name} of ${sourceName} is ${describeType(c.native.source)}; verify splits tables by key ranges and supports integer, decimal, text, UUID, binary, date, time and timestamp keys only`,
      );
    }
    const same =
      c.pair.sameType &&
      (c.native.source.collation ?? '') === (c.native.target.collation ?? '') &&
      sides.source.flavor === sides.target.flavor;
    for (const side of ['source', 'target'] as const) {
      const ks = keySide(
        c.pair.kind,
        c.native[side],
        sides[side].dialect.quoteId(c.native[side].name),
        sides[side].flavor,
        same,
      );
      key[side].push(ks);
      if (ks.indexless) {
        notes.push(
          `key column ${c.name} is compared in byte order on the ${side} (${ks.order}), which its index cannot serve: chunks scan more rows`,
        );
      }
    }
  }
  const clientIndexes = columns.flatMap((c, i) => (c.text === null ? [i] : []));
  return {
    source: pair.source,
    target: pair.target,
    table: { source: sides.source.dialect.table(pair.source), target: sides.target.dialect.table(pair.target) },
    dialect: { source: sides.source.dialect, target: sides.target.dialect },
    columns,
    keyIndexes,
    key,
    method: clientIndexes.length > 0 ? 'client' : 'checksum',
    clientIndexes,
    notes,
  };
}
