/**
 * Key columns: how each side compares and orders them so that a key range selects the same
 * rows on both engines, and how a canonical key value becomes a parameter of either side.
 *
 * Ranges only work when both sides order keys the same way. Numbers, dates, times, bytes and
 * UUIDs do. Text does only in byte (= code point) order: PostgreSQL `COLLATE "C"`, MySQL a
 * binary utf8mb4 collation. A key column whose own collation is not byte-ordered is compared
 * through such a collation, which its index cannot serve (slower: see docs/verify.md), unless
 * both sides are the same engine with the same type and collation.
 */
import { FerryError } from '../api/errors.js';
import { isZeroDate, toMysqlDate, toMysqlDatetime, toPgDate, toPgTimestamp } from '../api/index.js';
import type { JsonValue } from '../api/json.js';
import { isByteOrderCollation } from './catalog.js';
import type { Flavor } from './db.js';
import type { CanonKind, NativeColumn } from './native-types.js';
import { isIntegerKind } from './pairing.js';

export const KEY_KINDS: ReadonlySet<CanonKind> = new Set<CanonKind>([
  'int8',
  'int16',
  'int32',
  'int64',
  'uint64',
  'year',
  'decimal',
  'string',
  'enum',
  'uuid',
  'bytes',
  'date',
  'timestamp',
  'timestamptz',
  'time',
  'boolean',
]);

/** How one side handles one key column. */
export interface KeySide {
  /** What WHERE and ORDER BY use: the quoted column, or it under a byte-order collation. */
  order: string;
  /** True when `order` is not the bare column (its index cannot serve range scans). */
  indexless: boolean;
  /** Canonical key value → driver parameter. */
  param(value: JsonValue): unknown;
  /** Wraps a placeholder, e.g. `CAST(? AS UNSIGNED)`. */
  placeholder(p: string): string;
}

const TEXT_KINDS = new Set<CanonKind>(['string', 'enum', 'uuid']);
const UTF8_CHARSETS = new Set(['utf8mb4', 'utf8mb3', 'utf8', 'ascii']);

function mysqlByteOrdered(col: NativeColumn): boolean {
  if (col.dataType === 'enum' || col.dataType === 'set' || col.dataType === 'uuid') return false;
  const collation = (col.collation ?? '').toLowerCase();
  return UTF8_CHARSETS.has((col.charset ?? '').toLowerCase()) && collation.endsWith('_bin');
}

function mysqlOrder(kind: CanonKind, col: NativeColumn, ref: string, flavor: Flavor, same: boolean): string {
  if (!TEXT_KINDS.has(kind) || same || mysqlByteOrdered(col)) return ref;
  const bin = flavor === 'mariadb' ? 'utf8mb4_nopad_bin' : 'utf8mb4_bin';
  const text = col.dataType === 'uuid' ? `CAST(${ref} AS CHAR)` : ref;
  return `CONVERT(${text} USING utf8mb4) COLLATE ${bin}`;
}

/** Text types whose comparison follows their collation (citext, enums and others compare otherwise). */
const PG_COLLATED_TEXT = new Set(['text', 'character varying', 'character', 'bpchar', 'name']);

function postgresOrder(kind: CanonKind, col: NativeColumn, ref: string, same: boolean): string {
  if (!TEXT_KINDS.has(kind) || same || col.dataType === 'uuid') return ref;
  if (!PG_COLLATED_TEXT.has(col.dataType)) return `${ref}::text COLLATE "C"`;
  return isByteOrderCollation(col.collation) ? ref : `${ref} COLLATE "C"`;
}

function notAKey(value: JsonValue): never {
  throw new FerryError('FERRY_DECODE', `a key value ${JSON.stringify(value)} cannot be used in a key range`);
}

function text(value: JsonValue): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return notAKey(value);
}

/** MySQL has no infinite or BC dates: clamp them to the ends of its range (no row can hold them). */
function mysqlTemporal(value: string, date: boolean): string {
  try {
    return date ? toMysqlDate(value) : toMysqlDatetime(value);
  } catch {
    const high = value === 'infinity' || /^\d{5,}/.test(value);
    if (date) return high ? '9999-12-31' : '0000-01-01';
    return high ? '9999-12-31 23:59:59.999999' : '0000-01-01 00:00:00';
  }
}

/** PostgreSQL has no zero dates: a MySQL zero date sorts first, like -infinity. */
function postgresTemporal(value: string, date: boolean): string {
  if (value !== 'infinity' && value !== '-infinity' && isZeroDate(value)) return '-infinity';
  return date ? toPgDate(value) : toPgTimestamp(value);
}

function paramOf(kind: CanonKind, col: NativeColumn): (value: JsonValue) => unknown {
  const mysql = col.engine === 'mysql';
  if (kind === 'boolean') {
    if (mysql || col.dataType !== 'boolean') return (v) => (v === true ? 1 : v === false ? 0 : notAKey(v));
    return (v) => (v === true ? 'true' : v === false ? 'false' : notAKey(v));
  }
  if (kind === 'bytes') return (v) => Buffer.from(text(v), 'base64');
  if (kind === 'date') return (v) => (mysql ? mysqlTemporal(text(v), true) : postgresTemporal(text(v), true));
  if (kind === 'timestamp' || kind === 'timestamptz') {
    return (v) => (mysql ? mysqlTemporal(text(v), false) : postgresTemporal(text(v), false));
  }
  return text;
}

function placeholderOf(kind: CanonKind, col: NativeColumn): (p: string) => string {
  const numeric = isIntegerKind(kind) || kind === 'decimal' || kind === 'boolean';
  if (!numeric) return (p) => p;
  if (col.engine === 'postgres') {
    return kind === 'decimal' && col.kind !== 'decimal' ? (p) => `${p}::numeric` : (p) => p;
  }
  if (col.kind === 'decimal' && col.precision !== undefined) {
    return (p) => `CAST(${p} AS DECIMAL(${col.precision}, ${col.scale ?? 0}))`;
  }
  if (col.dataType === 'bit') return (p) => p;
  return col.unsigned ? (p) => `CAST(${p} AS UNSIGNED)` : (p) => `CAST(${p} AS SIGNED)`;
}

/**
 * One side of a key column compared as `kind`. `same`: both sides are the same engine, type and
 * collation, so each side's native order already agrees with the other's.
 */
export function keySide(kind: CanonKind, col: NativeColumn, ref: string, flavor: Flavor, same: boolean): KeySide {
  const order = col.engine === 'mysql' ? mysqlOrder(kind, col, ref, flavor, same) : postgresOrder(kind, col, ref, same);
  return { order, indexless: order !== ref, param: paramOf(kind, col), placeholder: placeholderOf(kind, col) };
}
