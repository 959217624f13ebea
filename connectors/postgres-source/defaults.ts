import { type ColumnSchema, encodeValue, parsePgArray } from '../../src/api/index.js';

/**
 * The text of the value rows that existed before a column was added hold (docs/schema-changes.md):
 * pg_attribute.attmissingval (PostgreSQL ≥ 11 stores it for ADD COLUMN … DEFAULT with a
 * non-volatile default: exactly what old rows read), else a constant default expression
 * (`'text'::type`, `7`, `-1.5`, `true`). Volatile and other expressions give none.
 */
export function withDefault(missing: string | null, expr: string | null): { defaultText?: string } {
  if (missing !== null) {
    let parsed: unknown;
    try {
      parsed = parsePgArray(missing);
    } catch {
      parsed = undefined;
    }
    const first = Array.isArray(parsed) ? parsed[0] : undefined;
    if (typeof first === 'string') return { defaultText: first };
  }
  if (expr === null) return {};
  const s = expr.trim();
  const quoted = /^'((?:[^']|'')*)'(?:::[a-z_][\w ."[\]()]*)?$/i.exec(s);
  if (quoted) return { defaultText: quoted[1]!.replace(/''/g, "'") };
  const num = /^\(?(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\)?(?:::[a-z_][\w ."()]*)?$/i.exec(s);
  if (num) return { defaultText: num[1]! };
  if (s === 'true' || s === 'false') return { defaultText: s };
  return {};
}

/** `column` with the canonical form of its default text (none when the text does not encode). */
export function withDefaultValue(column: ColumnSchema, text: string | undefined): ColumnSchema {
  if (text === undefined) return column;
  try {
    const value = encodeValue(column, text);
    return value === null ? column : { ...column, default: value };
  } catch {
    return column;
  }
}
