import type { ColumnKind, ColumnSchema, JsonValue } from '../../src/api/index.js';
import { encodeValue } from '../../src/api/index.js';
import { normalizeRaw } from './rows.js';

/** Kinds whose DEFAULT literal ferry turns into a value (others: no default is published). */
const NUMBER_KINDS = new Set<ColumnKind>(['int8', 'int16', 'int32', 'float32', 'float64', 'year']);
const SKIPPED_KINDS = new Set<ColumnKind>(['bytes', 'bit', 'timestamptz', 'uuid']);

/**
 * The text of a constant in information_schema.COLUMNS.COLUMN_DEFAULT (MariaDB ≥ 10.2.7 quotes
 * string literals: `'it''s'`; numbers bare; `NULL`), or undefined for NULL and expressions
 * (`current_timestamp()`, `uuid()`, …).
 */
export function defaultLiteral(raw: string | null | undefined): string | undefined {
  if (raw === null || raw === undefined) return undefined;
  const s = raw.trim();
  if (/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(s)) return s;
  const m = /^'((?:[^'\\]|''|\\.)*)'$/s.exec(s);
  if (!m) return undefined;
  return m[1]!.replace(/''|\\(.)/gs, (_all, esc: string | undefined) => {
    if (esc === undefined) return "'";
    const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\u0000', Z: '\u001a', b: '\b' };
    return map[esc] ?? esc;
  });
}

/**
 * The canonical value rows hold for a column whose default is the constant `raw`
 * (docs/schema-changes.md); undefined when there is none or ferry cannot tell it exactly:
 * expressions, binary, BIT, UUID and TIMESTAMP (zone-dependent) defaults.
 */
export function mysqlDefault(column: ColumnSchema, raw: string | null | undefined): JsonValue | undefined {
  if (SKIPPED_KINDS.has(column.kind)) return undefined;
  const text = defaultLiteral(raw);
  if (text === undefined) return undefined;
  let value: unknown = text;
  if (NUMBER_KINDS.has(column.kind)) {
    value = Number(text);
    if (!Number.isFinite(value as number)) return undefined;
  }
  try {
    const out = encodeValue(column, normalizeRaw(column, value), { sourceTimeZoneOffsetMinutes: 0 });
    return out === null ? undefined : out;
  } catch {
    return undefined;
  }
}
