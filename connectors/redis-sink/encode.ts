/**
 * How rows become Redis keys and values (docs/redis-sink.md#values). Pure.
 * - A hash field holds a column's canonical value (docs/values.md): strings as they are, every
 *   other value (numbers, booleans, arrays) as its JSON text. NULL is no field.
 * - A JSON value is the canonical row as one JSON object, columns in table order, NULL as null.
 * - A key is the table's template with each key column's value (as in a hash field), where `\`
 *   and `:` are escaped with a backslash so composite keys can never collide.
 */
import { type JsonValue, type Row, type TableSchema, UNCHANGED } from '../../src/api/index.js';
import type { TablePlan } from './options.js';

/** A canonical value as a hash field (null: no field). */
export function fieldValue(v: JsonValue): string | null {
  if (v === null) return null;
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

const escapeKeyPart = (s: string): string => s.replace(/[\\:]/g, (c) => `\\${c}`);

/** The Redis key of a row (its key columns must be present and not NULL). */
export function rowKey(plan: TablePlan, row: Row): string | null {
  let out = '';
  for (const p of plan.key) {
    if ('text' in p) {
      out += p.text;
      continue;
    }
    const v = row[p.column];
    if (v === undefined || v === null || v === UNCHANGED) return null;
    out += escapeKeyPart(fieldValue(v)!);
  }
  return out;
}

/** Whether a row carries UNCHANGED (or lacks) some column of the schema. */
export function isPartial(schema: TableSchema, row: Row): boolean {
  return schema.columns.some((c) => !Object.hasOwn(row, c.name) || row[c.name] === UNCHANGED);
}

/** A full row as hash fields (column order; NULL columns left out). */
export function hashFields(schema: TableSchema, row: Row): string[] {
  const out: string[] = [];
  for (const c of schema.columns) {
    const v = fieldValue(row[c.name] ?? null);
    if (v !== null) out.push(c.name, v);
  }
  return out;
}

/** A partial row: fields to set, and fields to remove (columns that became NULL). UNCHANGED columns are left alone. */
export function partialHash(schema: TableSchema, row: Row): { set: string[]; del: string[] } {
  const set: string[] = [];
  const del: string[] = [];
  for (const c of schema.columns) {
    if (!Object.hasOwn(row, c.name)) continue;
    const raw = row[c.name]!;
    if (raw === UNCHANGED) continue;
    const v = fieldValue(raw);
    if (v === null) del.push(c.name);
    else set.push(c.name, v);
  }
  return { set, del };
}

/** A full row as the JSON value (every column of the schema, in order). */
export function jsonValue(schema: TableSchema, row: Row): string {
  const out: Row = {};
  for (const c of schema.columns) out[c.name] = row[c.name] ?? null;
  return JSON.stringify(out);
}

/**
 * A partial row merged into the stored JSON row: the stored values of UNCHANGED columns are kept.
 * Returns null when the stored value is not a JSON object holding every UNCHANGED column (nothing
 * is ever invented).
 */
export function mergeJson(schema: TableSchema, stored: string, row: Row): string | null {
  let old: unknown;
  try {
    old = JSON.parse(stored);
  } catch {
    return null;
  }
  if (!old || typeof old !== 'object' || Array.isArray(old)) return null;
  const prev = old as Row;
  const out: Row = {};
  for (const c of schema.columns) {
    const v = row[c.name];
    if (v === undefined || v === UNCHANGED) {
      if (!Object.hasOwn(prev, c.name)) return null;
      out[c.name] = prev[c.name]!;
    } else {
      out[c.name] = v;
    }
  }
  return JSON.stringify(out);
}

/** The fields of a change-stream entry: op, key, before/after images (JSON) and commit time. */
export function streamFields(
  schema: TableSchema,
  change: { op: string; before: Row | null; after: Row | null; tsMs: number },
): string[] {
  const out = ['op', change.op];
  const image = change.after ?? change.before;
  if (image) {
    const key: Row = {};
    for (const k of schema.primaryKey) key[k] = image[k] ?? null;
    out.push('key', JSON.stringify(key));
  }
  if (change.before) out.push('before', JSON.stringify(change.before));
  if (change.after) out.push('after', JSON.stringify(change.after));
  out.push('ts_ms', String(change.tsMs));
  return out;
}
