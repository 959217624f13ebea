/**
 * How one source column and its target column are compared: the canonical kind both sides are
 * rendered in, and the adjustments a type pair needs. Pure.
 *
 * The kind is the source column's, except where the target type holds the same canonical value
 * under another kind (a MySQL TINYINT(1) target of a PostgreSQL boolean, a DATETIME holding a
 * UTC timestamptz, a text[] holding a MySQL SET…). See docs/verify.md for the full table.
 */
import type { CanonKind, NativeColumn } from './native-types.js';

export interface PairSpec {
  kind: CanonKind;
  /** Decimal scales differ: compare by value (trailing fractional zeros dropped on both sides). */
  trimDecimal: boolean;
  /** The target normalises JSON differently from the source: compare parsed JSON, client-side. */
  jsonSemantic: boolean;
  /** Same engine and same declared type on both sides. */
  sameType: boolean;
  /**
   * A MySQL date, DATETIME or TIMESTAMP in a NULL-able PostgreSQL column: zero and partial-zero
   * dates (`0000-00-00`, `2024-00-00`, `2024-05-00`, zero DATETIME/TIMESTAMP) count as NULL,
   * because that is what the PostgreSQL sink stores for them (docs/type-mapping.md). In a NOT
   * NULL column the sink refuses such rows instead, so they stay what they are.
   */
  zeroDateAsNull: boolean;
}

const TEMPORAL_KINDS = new Set<CanonKind>(['date', 'timestamp', 'timestamptz']);

function zeroDateAsNull(kind: CanonKind, s: NativeColumn, t: NativeColumn): boolean {
  return (
    TEMPORAL_KINDS.has(kind) &&
    TEMPORAL_KINDS.has(s.kind) &&
    s.engine === 'mysql' &&
    t.engine === 'postgres' &&
    t.nullable
  );
}

const INTEGER_KINDS = new Set<CanonKind>(['int8', 'int16', 'int32', 'int64', 'uint64', 'year']);

export const isIntegerKind = (k: CanonKind): boolean => INTEGER_KINDS.has(k);

function scaleOf(col: NativeColumn): number | undefined {
  if (INTEGER_KINDS.has(col.kind)) return 0;
  return col.kind === 'decimal' ? col.scale : undefined;
}

function jsonFlavorOf(col: NativeColumn): string {
  return col.kind === 'json' ? (col.jsonFlavor ?? 'text') : 'text';
}

function normaliseType(col: NativeColumn): string {
  return `${col.engine}:${col.columnType.toLowerCase().replace(/\s+/g, ' ')}`;
}

export function resolvePair(s: NativeColumn, t: NativeColumn): PairSpec {
  const sameType = normaliseType(s) === normaliseType(t);
  const spec = (kind: CanonKind, extra: Partial<PairSpec> = {}): PairSpec => ({
    kind,
    trimDecimal: false,
    jsonSemantic: false,
    sameType,
    zeroDateAsNull: zeroDateAsNull(kind, s, t),
    ...extra,
  });
  const sk = s.kind;
  const tk = t.kind;
  if (sk === 'json' || tk === 'json') {
    const textLike = (c: NativeColumn) => c.kind === 'json' || c.kind === 'string';
    if (textLike(s) && textLike(t)) {
      // The sink writes the source's JSON text; a target that keeps text as given holds exactly
      // that. A target that normalises JSON (jsonb, MySQL 8 JSON) matches by text only when the
      // source normalised it the same way.
      const tf = jsonFlavorOf(t);
      return spec('json', { jsonSemantic: tf !== 'text' && tf !== jsonFlavorOf(s) });
    }
    return spec(sk);
  }
  const sNumeric = INTEGER_KINDS.has(sk) || sk === 'decimal';
  const tNumeric = INTEGER_KINDS.has(tk) || tk === 'decimal';
  if (sNumeric && tNumeric) {
    if (sk === 'decimal' || tk === 'decimal') {
      const ss = scaleOf(s);
      const ts = scaleOf(t);
      // An integer source in NUMERIC(p,0) (or unconstrained NUMERIC) stays an integer.
      if (sk !== 'decimal' && (ts === undefined || ts === 0)) return spec(sk);
      // Text is compared as is only when both scales are declared and equal, or both are free
      // (unconstrained NUMERIC keeps the scale it was given); otherwise by value.
      const sameScale = ss === ts;
      return spec('decimal', { trimDecimal: !sameScale });
    }
    return spec(sk);
  }
  if ((sk === 'boolean' && INTEGER_KINDS.has(tk)) || (INTEGER_KINDS.has(sk) && tk === 'boolean')) {
    return spec('boolean');
  }
  if (sk === 'bit' && tk === 'boolean' && s.length === 1) return spec('boolean');
  if (sk === 'enum' && tk === 'string') return spec('enum');
  if (sk === 'string' && tk === 'enum') return spec('string');
  if (sk === 'set' && (tk === 'array' || tk === 'string')) return spec('set');
  if (sk === 'uuid' && tk === 'string') return spec('uuid');
  if (sk === 'timestamptz' && tk === 'timestamp') return spec('timestamptz');
  if ((sk === 'float32' || sk === 'float64') && (tk === 'float32' || tk === 'float64')) return spec(sk);
  return spec(sk);
}
