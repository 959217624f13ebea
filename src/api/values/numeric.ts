/**
 * Canonical encoding of numbers (docs/values.md): integers, DECIMAL/NUMERIC, FLOAT/DOUBLE, YEAR.
 */
import { encodeError, type ValueColumn } from './common.js';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const INTEGER_ACCEPTED = 'a safe-integer number, a bigint, or a decimal integer string such as "-42"';
const INT_BITS: Partial<Record<ValueColumn['kind'], number>> = { int8: 8, int16: 16, int32: 32, int64: 64 };

/** Inclusive range of an integer kind; `unsigned` widens int8..int64 to 0..2^bits-1. */
function integerRange(column: ValueColumn): [bigint, bigint] | undefined {
  if (column.kind === 'uint64') return [0n, (1n << 64n) - 1n];
  const bits = INT_BITS[column.kind];
  if (bits === undefined) return undefined;
  const b = BigInt(bits);
  return column.unsigned ? [0n, (1n << b) - 1n] : [-(1n << (b - 1n)), (1n << (b - 1n)) - 1n];
}

/** integerRange() as numbers, clamped to the safe integers (every safe integer of a wider kind fits). */
const NUMBER_RANGES = [new Map<string, [number, number] | null>(), new Map<string, [number, number] | null>()];
function numberRange(column: ValueColumn): [number, number] | null {
  const byKind = NUMBER_RANGES[column.unsigned === true ? 1 : 0]!;
  let range = byKind.get(column.kind);
  if (range === undefined) {
    const big = integerRange(column);
    const clamp = (b: bigint) => Number(b < -MAX_SAFE ? -MAX_SAFE : b > MAX_SAFE ? MAX_SAFE : b);
    range = big ? [clamp(big[0]), clamp(big[1])] : null;
    byKind.set(column.kind, range);
  }
  return range;
}

function toBigInt(column: ValueColumn, raw: unknown): bigint {
  if (typeof raw === 'bigint') return raw;
  if (typeof raw === 'number') {
    if (!Number.isInteger(raw)) throw encodeError(column, raw, 'not an integer', INTEGER_ACCEPTED);
    if (!Number.isSafeInteger(raw)) {
      throw encodeError(
        column,
        raw,
        'a JS number beyond ±(2^53-1) may already have lost precision; the driver must deliver it as a bigint or string',
        INTEGER_ACCEPTED,
      );
    }
    return BigInt(raw);
  }
  if (typeof raw === 'string' && /^[+-]?\d+$/.test(raw)) return BigInt(raw);
  throw encodeError(column, raw, 'not an integer', INTEGER_ACCEPTED);
}

/**
 * Integers (int8..int64, uint64): a JSON number when |n| <= 2^53-1, otherwise a decimal string.
 * Values outside the kind's range (signed, or unsigned when `column.unsigned`) are rejected.
 */
export function encodeInteger(column: ValueColumn, raw: unknown): number | string {
  // The common case, a safe-integer number inside its kind's range, needs no bigint.
  if (typeof raw === 'number' && Number.isSafeInteger(raw)) {
    const range = numberRange(column);
    if (range === null || (raw >= range[0] && raw <= range[1])) return raw === 0 ? 0 : raw;
  }
  const n = toBigInt(column, raw);
  const range = integerRange(column);
  if (range && (n < range[0] || n > range[1])) {
    throw encodeError(column, raw, `out of range ${range[0]}..${range[1]}`, INTEGER_ACCEPTED);
  }
  return n >= -MAX_SAFE && n <= MAX_SAFE ? Number(n) : n.toString();
}

const DECIMAL_ACCEPTED =
  'an exact decimal string such as "-12.500" (drivers must not turn DECIMAL/NUMERIC into floats), a bigint, or "NaN"/"Infinity"/"-Infinity"';

/**
 * DECIMAL / NUMERIC: an exact string. The scale is kept as given ("1.500" stays "1.500"); only the
 * spelling is normalised: no "+" sign, no leading zeros ("007.5" -> "7.5", ".5" -> "0.5"), no
 * trailing dot ("5." -> "5"), and no negative zero ("-0.00" -> "0.00"). PostgreSQL's special
 * values are "NaN", "Infinity", "-Infinity".
 */
/** No sign but a "-" before a non-zero digit somewhere, no leading zero, digits on both sides of a dot. */
const CANONICAL_DECIMAL = /^(?:[1-9]\d*(?:\.\d+)?|0\.\d+|0|-(?:[1-9]\d*(?:\.\d+)?|0\.\d*[1-9]\d*))$/;

export function encodeDecimal(column: ValueColumn, raw: unknown): string {
  if (typeof raw === 'bigint') return raw.toString();
  if (typeof raw !== 'string') throw encodeError(column, raw, 'not a decimal string', DECIMAL_ACCEPTED);
  // Already in canonical spelling (what the drivers send for all but zero and odd inputs): as is.
  if (CANONICAL_DECIMAL.test(raw)) return raw;
  if (/^nan$/i.test(raw)) return 'NaN';
  if (/^\+?inf(inity)?$/i.test(raw)) return 'Infinity';
  if (/^-inf(inity)?$/i.test(raw)) return '-Infinity';
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(raw);
  if (!m || (m[2] === '' && !m[3])) throw encodeError(column, raw, 'not a plain decimal number', DECIMAL_ACCEPTED);
  const intPart = m[2]!.replace(/^0+(?=\d)/, '') || '0';
  const fraction = m[3] ?? '';
  const body = fraction ? `${intPart}.${fraction}` : intPart;
  const isZero = /^0*$/.test(intPart + fraction);
  return m[1] === '-' && !isZero ? `-${body}` : body;
}

export type FloatJson = number | 'NaN' | 'Infinity' | '-Infinity' | '-0';

const FLOAT_ACCEPTED = 'a number, or a numeric string such as "1.5", "1e-07", "NaN", "Infinity", "-Infinity"';

/**
 * The shortest decimal that reads back as the same 32-bit float: what PostgreSQL `real` prints
 * (since v12) and what a MySQL FLOAT from the binlog (an exact float32 widened to a double, e.g.
 * 0.10000000149011612) becomes (0.1).
 */
export function shortestFloat32(x: number): number {
  const f = Math.fround(x);
  if (!Number.isFinite(f) || f === 0) return f;
  for (let p = 1; p <= 9; p++) {
    const v = Number(f.toPrecision(p));
    if (Math.fround(v) === f) return v;
  }
  return f;
}

/**
 * float32 / float64: JSON numbers; NaN and ±Infinity as the strings "NaN", "Infinity",
 * "-Infinity"; negative zero as the string "-0" (a JSON number cannot carry its sign through
 * JSON.stringify). float32 values are reduced to the shortest decimal that
 * identifies the same 32-bit float (see shortestFloat32).
 */
export function encodeFloat(column: ValueColumn, raw: unknown): FloatJson {
  let x: number;
  if (typeof raw === 'number') {
    x = raw;
  } else if (typeof raw === 'string') {
    if (/^nan$/i.test(raw)) return 'NaN';
    if (/^\+?inf(inity)?$/i.test(raw)) return 'Infinity';
    if (/^-inf(inity)?$/i.test(raw)) return '-Infinity';
    if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw)) {
      throw encodeError(column, raw, 'not a number', FLOAT_ACCEPTED);
    }
    x = Number(raw);
    if (!Number.isFinite(x)) throw encodeError(column, raw, 'overflows a 64-bit float', FLOAT_ACCEPTED);
  } else {
    throw encodeError(column, raw, 'not a number', FLOAT_ACCEPTED);
  }
  if (Number.isNaN(x)) return 'NaN';
  if (x === Number.POSITIVE_INFINITY) return 'Infinity';
  if (x === Number.NEGATIVE_INFINITY) return '-Infinity';
  if (column.kind === 'float32') {
    const f = shortestFloat32(x);
    if (!Number.isFinite(f)) throw encodeError(column, raw, 'overflows a 32-bit float', FLOAT_ACCEPTED);
    x = f;
  }
  if (x === 0) return Object.is(x, -0) ? '-0' : 0;
  return x;
}

/** YEAR: a JSON number 0..9999 (MySQL YEAR is 0 or 1901..2155). */
export function encodeYear(column: ValueColumn, raw: unknown): number {
  const accepted = 'an integer 0..9999 as a number, bigint or string';
  let n: number | undefined;
  if (typeof raw === 'number' && Number.isInteger(raw)) n = raw;
  else if (typeof raw === 'bigint' && raw >= 0n && raw <= 9999n) n = Number(raw);
  else if (typeof raw === 'string' && /^\d{1,4}$/.test(raw)) n = Number(raw);
  if (n === undefined || n < 0 || n > 9999) throw encodeError(column, raw, 'not a year', accepted);
  return n;
}
