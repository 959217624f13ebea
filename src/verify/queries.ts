/**
 * The statements verify runs, per side of a table plan: key-range predicates, row counts,
 * chunk checksums (computed inside the database), boundary keys, key lists and row fetches.
 * Identifiers come quoted from the plan; every value is a parameter. Pure string building.
 */
import type { JsonValue } from '../api/json.js';
import type { ParamList } from './dialect.js';
import type { KeySide } from './keys.js';
import type { Side, TablePlan } from './table-plan.js';

/** A primary key as canonical values, in key column order. */
export type Key = JsonValue[];

/** The keys k with lo < k ≤ hi; a null bound is open. */
export interface KeyRange {
  lo: Key | null;
  hi: Key | null;
}

export interface Statement {
  sql: string;
  params: unknown[];
}

function placeholder(k: KeySide, value: JsonValue, params: ParamList): string {
  return k.placeholder(params.add(k.param(value)));
}

/**
 * `key > bound` (op `>`) or `key <= bound` (op `<`, inclusive). MySQL gets the lexicographic
 * expansion with a leading bound on the first column (range optimisable everywhere);
 * PostgreSQL compares row values, which its btree indexes serve directly.
 */
function compareKey(plan: TablePlan, side: Side, bound: Key, op: '>' | '<', params: ParamList): string {
  const ks = plan.key[side];
  const last = op === '>' ? '>' : '<=';
  if (ks.length === 1) return `${ks[0]!.order} ${last} ${placeholder(ks[0]!, bound[0]!, params)}`;
  if (plan.dialect[side].kind === 'postgres') {
    const cols = ks.map((k) => k.order).join(', ');
    const values = ks.map((k, i) => placeholder(k, bound[i]!, params)).join(', ');
    return `(${cols}) ${last} (${values})`;
  }
  const lead = `${ks[0]!.order} ${op}= ${placeholder(ks[0]!, bound[0]!, params)}`;
  const level = (i: number): string => {
    const k = ks[i]!;
    if (i === ks.length - 1) return `${k.order} ${last} ${placeholder(k, bound[i]!, params)}`;
    const strict = `${k.order} ${op} ${placeholder(k, bound[i]!, params)}`;
    const equal = `${k.order} = ${placeholder(k, bound[i]!, params)}`;
    return `(${strict} OR (${equal} AND ${level(i + 1)}))`;
  };
  return `(${lead} AND ${level(0)})`;
}

/** The WHERE condition of a key range. */
export function rangeWhere(plan: TablePlan, side: Side, range: KeyRange, params: ParamList): string {
  const parts: string[] = [];
  if (range.lo) parts.push(compareKey(plan, side, range.lo, '>', params));
  if (range.hi) parts.push(compareKey(plan, side, range.hi, '<', params));
  return parts.length > 0 ? parts.join(' AND ') : '1 = 1';
}

function orderBy(plan: TablePlan, side: Side): string {
  return plan.key[side].map((k) => k.order).join(', ');
}

function keyFetch(plan: TablePlan, side: Side): string[] {
  return plan.keyIndexes.map((i) => plan.columns[i]!.fetch[side]);
}

/** MD5 over the canonical texts of the hashed columns, or NULL when none is hashed. */
export function rowHashExpr(plan: TablePlan, side: Side): string {
  const d = plan.dialect[side];
  const pieces = plan.columns.flatMap((c) => (c.text ? [d.piece(c.text[side])] : []));
  return pieces.length > 0 ? d.rowHash(pieces) : 'NULL';
}

export function countStatement(plan: TablePlan, side: Side, range: KeyRange): Statement {
  const params = plan.dialect[side].params();
  const where = rangeWhere(plan, side, range, params);
  return { sql: `SELECT COUNT(*) FROM ${plan.table[side]} WHERE ${where}`, params: params.values };
}

/** Count and order-independent hash sums of a range, computed by the database. */
export function checksumStatement(plan: TablePlan, side: Side, range: KeyRange): Statement {
  const d = plan.dialect[side];
  const params = d.params();
  const where = rangeWhere(plan, side, range, params);
  const inner = `SELECT ${rowHashExpr(plan, side)} AS h FROM ${plan.table[side]} WHERE ${where}`;
  return { sql: `SELECT ${d.checksumSelect('h')} FROM (${inner}) ${d.quoteId('chunk')}`, params: params.values };
}

/** The key `offset` rows into the range (0 = its first key), in key order. */
export function boundaryStatement(plan: TablePlan, side: Side, range: KeyRange, offset: number): Statement {
  const params = plan.dialect[side].params();
  const where = rangeWhere(plan, side, range, params);
  const sql =
    `SELECT ${keyFetch(plan, side).join(', ')} FROM ${plan.table[side]} WHERE ${where} ` +
    `ORDER BY ${orderBy(plan, side)} LIMIT ${params.add(1)} OFFSET ${params.add(offset)}`;
  return { sql, params: params.values };
}

/** The first `limit` keys of a range, in key order. */
export function keysStatement(plan: TablePlan, side: Side, range: KeyRange, limit: number): Statement {
  const params = plan.dialect[side].params();
  const where = rangeWhere(plan, side, range, params);
  const sql =
    `SELECT ${keyFetch(plan, side).join(', ')} FROM ${plan.table[side]} WHERE ${where} ` +
    `ORDER BY ${orderBy(plan, side)} LIMIT ${params.add(limit)}`;
  return { sql, params: params.values };
}

/** Per row of a range: the key, the row hash, then the client-compared columns. */
export function rowHashStatement(plan: TablePlan, side: Side, range: KeyRange): Statement {
  const params = plan.dialect[side].params();
  const where = rangeWhere(plan, side, range, params);
  const client = plan.clientIndexes.map((i) => plan.columns[i]!.fetch[side]);
  const select = [...keyFetch(plan, side), rowHashExpr(plan, side), ...client].join(', ');
  return { sql: `SELECT ${select} FROM ${plan.table[side]} WHERE ${where}`, params: params.values };
}

/** Per row with one of the given keys: the key, then every compared column. */
export function rowsByKeysStatement(plan: TablePlan, side: Side, keys: Key[]): Statement {
  const params = plan.dialect[side].params();
  const ks = plan.key[side];
  let where: string;
  if (ks.length === 1) {
    where = `${ks[0]!.order} IN (${keys.map((k) => placeholder(ks[0]!, k[0]!, params)).join(', ')})`;
  } else if (plan.dialect[side].kind === 'postgres') {
    const tuples = keys.map((k) => `(${ks.map((p, i) => placeholder(p, k[i]!, params)).join(', ')})`);
    where = `(${ks.map((k) => k.order).join(', ')}) IN (${tuples.join(', ')})`;
  } else {
    const each = keys.map(
      (k) => `(${ks.map((p, i) => `${p.order} = ${placeholder(p, k[i]!, params)}`).join(' AND ')})`,
    );
    where = `(${each.join(' OR ')})`;
  }
  const select = [...keyFetch(plan, side), ...plan.columns.map((c) => c.fetch[side])].join(', ');
  return { sql: `SELECT ${select} FROM ${plan.table[side]} WHERE ${where}`, params: params.values };
}
