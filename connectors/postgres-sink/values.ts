/**
 * Canonical values (docs/values.md) -> PostgreSQL input text. Every value travels as a text
 * parameter (inside a text[] for unnest) and is cast to the target column's type in SQL, so the
 * server's own input functions parse it. Values PostgreSQL cannot store throw a non-retriable
 * FerryError (FERRY_APPLY / FERRY_DECODE): a data problem, routed to the dead-letter topic.
 */
import {
  type ColumnKind,
  type ColumnSchema,
  decodeBytes,
  FerryError,
  isZeroDate,
  type JsonValue,
  toPgDate,
  toPgInterval,
  toPgTimestamp,
} from '../../src/api/index.js';
import type { ParsedPgType } from './types.js';

/** What the conversion needs to know about the target column. */
export interface PgTargetColumn {
  name: string;
  /** format_type(type, typmod), e.g. `character varying(20)`. */
  type: string;
  /** The parsed type when it is a built-in one. */
  parsed?: ParsedPgType;
  notNull: boolean;
}

function dataError(column: string, message: string, value?: unknown): FerryError {
  return new FerryError('FERRY_APPLY', `column "${column}": ${message}`, {
    details: { column, ...(value === undefined ? {} : { value: String(value).slice(0, 80) }) },
  });
}

function isArrayTarget(target: PgTargetColumn): boolean {
  return target.parsed ? target.parsed.dims > 0 : target.type.endsWith('[]');
}

/** Quotes one element of an array literal: "…" with backslash and double quote escaped. */
function quoteElement(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** A PostgreSQL array literal of already converted element texts (nested arrays = dimensions). */
export function pgArrayLiteral(items: unknown[], element: (v: JsonValue) => string | null): string {
  const parts = items.map((item) => {
    if (Array.isArray(item)) return pgArrayLiteral(item, element);
    if (item === null || item === undefined) return 'NULL';
    const text = element(item as JsonValue);
    return text === null ? 'NULL' : quoteElement(text);
  });
  return `{${parts.join(',')}}`;
}

/** Significant digits after the decimal point (trailing zeros do not count); 0 without a fraction. */
function fractionDigits(value: string): number {
  const dot = value.lastIndexOf('.');
  if (dot < 0) return 0;
  let end = value.length;
  for (let i = dot + 1; i < end; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return 0;
  }
  while (end > dot + 1 && value.charCodeAt(end - 1) === 48) end--;
  return end - dot - 1;
}

function checkScale(column: string, value: string, target: PgTargetColumn): void {
  const p = target.parsed;
  if (p?.base !== 'numeric' || p.args.length === 0 || p.dims > 0) return;
  const scale = p.args[1] ?? 0;
  if (fractionDigits(value) > scale) {
    throw dataError(
      column,
      `${value} has more fractional digits than ${target.type} keeps (it would be rounded)`,
      value,
    );
  }
}

function temporal(column: string, value: string, kind: ColumnKind, target: PgTargetColumn): string | null {
  if (isZeroDate(value)) {
    if (target.notNull) {
      throw dataError(
        column,
        `the MySQL zero date ${value} has no PostgreSQL equivalent and the column is NOT NULL`,
        value,
      );
    }
    return null;
  }
  return kind === 'date' ? toPgDate(value) : toPgTimestamp(value);
}

/** Text of one non-null scalar canonical value of `kind`. */
function scalarText(column: string, kind: ColumnKind, value: JsonValue, target: PgTargetColumn): string | null {
  switch (kind) {
    case 'boolean':
      if (typeof value !== 'boolean') throw dataError(column, 'expected true or false', value);
      return value ? 'true' : 'false';
    case 'bytes':
      if (typeof value !== 'string') throw dataError(column, 'expected base64 text', value);
      return `\\x${decodeBytes(value).toString('hex')}`;
    case 'date':
    case 'timestamp':
    case 'timestamptz':
      if (typeof value !== 'string') throw dataError(column, 'expected a date or timestamp string', value);
      return temporal(column, value, kind, target);
    case 'interval':
      if (typeof value !== 'string') throw dataError(column, 'expected an ISO 8601 interval', value);
      return target.parsed?.base === 'interval' ? toPgInterval(value) : value;
    case 'json':
      return typeof value === 'string' ? value : JSON.stringify(value);
    case 'set': {
      const members = Array.isArray(value) ? value.map(String) : String(value).split(',');
      return isArrayTarget(target) ? pgArrayLiteral(members, (m) => String(m)) : members.join(',');
    }
    case 'decimal': {
      const text = String(value);
      checkScale(column, text, target);
      return text;
    }
    case 'string':
    case 'enum':
      if (typeof value !== 'string') return JSON.stringify(value);
      if (value.includes('\u0000')) {
        throw dataError(column, 'PostgreSQL text cannot contain the character U+0000 (NUL)', value);
      }
      return value;
    default:
      if (typeof value === 'object' && value !== null) return JSON.stringify(value);
      return String(value);
  }
}

/**
 * Converts a canonical value of a source column into the text PostgreSQL parses for the target
 * column, or null for SQL NULL.
 */
export function toPgParam(col: ColumnSchema, value: JsonValue, target: PgTargetColumn): string | null {
  if (value === null) return null;
  if (col.kind === 'array') {
    if (!Array.isArray(value)) throw dataError(col.name, 'expected a JSON array', value);
    if (!isArrayTarget(target)) return JSON.stringify(value);
    const elementKind = col.elementKind ?? 'string';
    const elementTarget: PgTargetColumn = {
      ...target,
      notNull: false,
      ...(target.parsed ? { parsed: { ...target.parsed, dims: 0 } } : {}),
    };
    return pgArrayLiteral(value, (v) => scalarText(col.name, elementKind, v, elementTarget));
  }
  return scalarText(col.name, col.kind, value, target);
}
