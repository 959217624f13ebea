/**
 * Canonicalisation on the client, with the shared encoders of src/api (docs/values.md): turns
 * a raw driver value of either side into its canonical JSON value, so that rows the databases
 * found different are confirmed, and named column by column, by the very encoding sources and
 * sinks use. Also the comparison for the columns that have no in-database form.
 */

import { encodeValue, isZeroDate, parsePgArray, type ValueColumn } from '../api/index.js';
import type { JsonValue } from '../api/json.js';
import type { CanonKind, NativeColumn } from './native-types.js';

/** A raw value the kind does not accept: kept (as text) so that it shows up as a difference. */
export function invalidValue(raw: unknown): JsonValue {
  if (raw instanceof Uint8Array) return { invalid: `0x${Buffer.from(raw).toString('hex')}` };
  if (typeof raw === 'bigint') return { invalid: raw.toString() };
  return { invalid: typeof raw === 'string' ? raw : (JSON.stringify(raw) ?? String(raw)) };
}

/** JSON text with object keys sorted at every level; the same text for semantically equal JSON. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** `1.500` → `1.5`, `2.00` → `2`; other text unchanged. */
export function trimDecimalText(text: string): string {
  return text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
}

export interface ClientOptions {
  trimDecimal: boolean;
  /** Compare JSON by meaning (parsed, keys sorted) rather than by text. */
  jsonSemantic: boolean;
  /** MySQL zero and partial-zero dates count as NULL (a PostgreSQL target stores them so). */
  zeroDateAsNull?: boolean;
}

export type Canonicaliser = (raw: unknown) => JsonValue;

function rawText(raw: unknown): string {
  if (typeof raw === 'string') return raw;
  if (raw instanceof Uint8Array) return Buffer.from(raw).toString('utf8');
  return String(raw);
}

/**
 * The canonical value of a raw value read from `col` (one side of a pair) for a pair compared as
 * `kind`. MySQL TIMESTAMP/DATETIME text is read as UTC (the verify session runs in UTC, and
 * sinks write timestamptz values to DATETIME in UTC).
 */
export function clientCanonicaliser(kind: CanonKind, col: NativeColumn, opts: ClientOptions): Canonicaliser {
  if (kind === 'unknown') {
    return (raw) => {
      if (raw === null || raw === undefined) return null;
      if (raw instanceof Uint8Array) return Buffer.from(raw).toString('base64');
      return rawText(raw);
    };
  }
  const column: ValueColumn = { name: col.name, kind };
  if (col.engine === 'mysql' && col.dataType === 'bit' && col.length !== undefined) column.length = col.length;
  if (col.unsigned) column.unsigned = true;
  if (kind === 'array') column.elementKind = (col.elementKind === 'unknown' ? 'string' : col.elementKind) ?? 'string';
  const isPgArray = col.engine === 'postgres' && col.dataType.endsWith('[]');
  const zeroDates = opts.zeroDateAsNull === true && col.engine === 'mysql';
  const encode = (raw: unknown): JsonValue => {
    if (raw === null || raw === undefined) return null;
    let value = raw;
    if (kind === 'set' && isPgArray && typeof raw === 'string') value = parsePgArray(raw);
    // An integer column read for a DECIMAL source (mysql2 returns INT as a number).
    if (kind === 'decimal' && typeof raw === 'number' && Number.isSafeInteger(raw)) value = String(raw);
    if (kind === 'array' && !isPgArray) {
      // A PostgreSQL array stored as JSON on MySQL: compare as the JSON it holds.
      return JSON.parse(rawText(raw)) as JsonValue;
    }
    const out = encodeValue(column, value, { sourceTimeZoneOffsetMinutes: 0 });
    // -0 compares equal to 0, as in SQL (MariaDB stores no negative zero; docs/verify.md).
    return out === '-0' ? 0 : out;
  };
  return (raw) => {
    let value: JsonValue;
    try {
      value = encode(raw);
    } catch {
      return invalidValue(raw);
    }
    if (value === null) return null;
    if (zeroDates && typeof value === 'string' && isZeroDate(value)) return null;
    if (kind === 'decimal' && opts.trimDecimal && typeof value === 'string') return trimDecimalText(value);
    if (kind === 'json' && opts.jsonSemantic && typeof value === 'string') {
      try {
        return stableJson(JSON.parse(value));
      } catch {
        return invalidValue(value);
      }
    }
    if (kind === 'array') return stableJson(value);
    return value;
  };
}

/** Canonical JSON equality (docs/values.md: two values are equal exactly when their JSON is). */
export function canonicalEquals(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  return stableJson(a) === stableJson(b);
}
