/**
 * Comparing one source row (canonical values, docs/values.md) with what the Redis sink stored for
 * it (docs/redis-sink.md#values): a hash of canonical fields, or a JSON row. Pure.
 */
import type { JsonValue } from '../api/json.js';
import { canonicalEquals, stableJson } from './canonical-client.js';

/** JSON columns are compared by meaning (their source values arrive as stableJson text). */
function sameJson(want: JsonValue, have: JsonValue): boolean {
  if (typeof want !== 'string' || typeof have !== 'string') return false;
  try {
    return stableJson(JSON.parse(have)) === want;
  } catch {
    return false;
  }
}

/** A canonical value as the Redis sink writes it into a hash field (null: no field). */
export function hashFieldOf(v: JsonValue): string | null {
  if (v === null) return null;
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

function decodeField(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

/** Columns whose stored hash field differs from the source value (and fields the source has no column for). */
export function hashDifferences(
  names: string[],
  values: JsonValue[],
  stored: Record<string, string>,
  jsonColumns: ReadonlySet<string> = new Set(),
): string[] {
  const out: string[] = [];
  names.forEach((name, i) => {
    const want = values[i] ?? null;
    const have = Object.hasOwn(stored, name) ? stored[name]! : null;
    if (hashFieldOf(want) === have) return;
    if (jsonColumns.has(name) && sameJson(want, have)) return;
    // Verify may normalise a value (e.g. JSON by meaning): compare canonically too.
    if (want !== null && have !== null && (canonicalEquals(want, have) || canonicalEquals(want, decodeField(have))))
      return;
    out.push(name);
  });
  const known = new Set(names);
  for (const field of Object.keys(stored)) if (!known.has(field)) out.push(field);
  return out;
}

/** Columns whose stored JSON value differs from the source value; the whole row when it is not a JSON object. */
export function jsonDifferences(
  names: string[],
  values: JsonValue[],
  stored: string,
  jsonColumns: ReadonlySet<string> = new Set(),
): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stored);
  } catch {
    return [...names];
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return [...names];
  const row = parsed as Record<string, JsonValue>;
  // A column the stored row lacks (written before the column was added) counts as NULL.
  const out = names.filter((name, i) => {
    const want = values[i] ?? null;
    const have = row[name] ?? null;
    if (jsonColumns.has(name) && sameJson(want, have)) return false;
    return !(canonicalEquals(want, have) || (typeof have === 'string' && canonicalEquals(want, decodeField(have))));
  });
  const known = new Set(names);
  for (const field of Object.keys(row)) if (!known.has(field)) out.push(field);
  return out;
}
