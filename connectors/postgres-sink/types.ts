/**
 * Type mapping for PostgreSQL targets (docs/type-mapping.md). Pure functions:
 * - pgColumnType(): the target type of a source column, spelled the way PostgreSQL's
 *   format_type() prints it, so an existing column can be compared by text.
 * - compareTypes(): whether an existing target column can take values of a wanted type
 *   (`keep`), should be widened to it (`widen`, always lossless), or conflicts.
 *
 * PostgreSQL sources keep their own type when it is a built-in type (the source type is parsed
 * and rebuilt from an allow-list, never pasted); everything else maps by column kind.
 */
import type { ColumnKind, ColumnSchema } from '../../src/api/index.js';

export type SourceKind = 'mysql' | 'postgresql' | undefined;

/** Built-in PostgreSQL types (format_type spelling, no modifiers) a PostgreSQL source may keep as they are. */
const PG_BUILTIN = new Set([
  'smallint',
  'integer',
  'bigint',
  'numeric',
  'real',
  'double precision',
  'boolean',
  'text',
  'character varying',
  'character',
  'name',
  'bytea',
  'date',
  'time without time zone',
  'time with time zone',
  'timestamp without time zone',
  'timestamp with time zone',
  'interval',
  'uuid',
  'json',
  'jsonb',
  'bit',
  'bit varying',
  'money',
  'inet',
  'cidr',
  'macaddr',
  'macaddr8',
  'point',
  'line',
  'lseg',
  'box',
  'path',
  'polygon',
  'circle',
  'xml',
  'tsvector',
  'tsquery',
  'oid',
  'int4range',
  'int8range',
  'numrange',
  'tsrange',
  'tstzrange',
  'daterange',
  'pg_lsn',
]);

/** Base types whose modifier is a single length / precision, or (precision, scale) for numeric. */
const WITH_LENGTH = new Set(['character varying', 'character', 'bit', 'bit varying']);
const TIME_TYPES = new Set(['time', 'timestamp']);

export interface ParsedPgType {
  /** Base name without modifiers, zone included: `timestamp with time zone`, `character varying`. */
  base: string;
  /** Modifiers: [length], [precision], [precision, scale]. */
  args: number[];
  /** Array dimensions written as `[]`. */
  dims: number;
}

const PG_TYPE_RE = /^([a-z][a-z0-9 _]*?)(?:\((\d+)(?:,\s*(-?\d+))?\))?( with(?:out)? time zone)?((?:\[\])*)$/;

/** Parses a format_type() spelling of a built-in type; undefined for anything else. */
export function parsePgType(text: string): ParsedPgType | undefined {
  const m = PG_TYPE_RE.exec(text.trim().toLowerCase());
  if (!m) return undefined;
  let base = m[1]!.trim();
  if (m[4]) {
    if (!TIME_TYPES.has(base)) return undefined;
    base = `${base}${m[4]}`;
  } else if (TIME_TYPES.has(base)) {
    base = `${base} without time zone`;
  }
  if (!PG_BUILTIN.has(base)) return undefined;
  const args: number[] = [];
  if (m[2] !== undefined) args.push(Number(m[2]));
  if (m[3] !== undefined) args.push(Number(m[3]));
  if (args.length === 2 && base !== 'numeric') return undefined;
  if (args.length > 0 && !(WITH_LENGTH.has(base) || base === 'numeric' || base.startsWith('time'))) return undefined;
  return { base, args, dims: (m[5]?.length ?? 0) / 2 };
}

/** The format_type() spelling of a parsed type. */
export function formatPgType(t: ParsedPgType): string {
  let out: string;
  if (t.base.startsWith('time')) {
    const [name, ...zone] = t.base.split(' ');
    out = t.args.length > 0 ? `${name}(${t.args[0]}) ${zone.join(' ')}` : t.base;
  } else {
    out = t.args.length > 0 ? `${t.base}(${t.args.join(',')})` : t.base;
  }
  return out + '[]'.repeat(t.dims);
}

function timeType(base: 'time' | 'timestamp', zone: boolean, fsp: number | undefined): string {
  const z = zone ? 'with time zone' : 'without time zone';
  return fsp === undefined ? `${base} ${z}` : `${base}(${Math.max(0, Math.min(6, fsp))}) ${z}`;
}

const PG_MAX_VARCHAR = 10_485_760;

/** Target type of one scalar kind (arrays are handled by the caller). */
/**
 * A MySQL integer by its declared type: the smallest PostgreSQL integer that holds its range (the
 * MySQL source already widens the kind of an unsigned one, so the kind alone would widen twice).
 */
function mysqlIntegerType(col: Pick<ColumnSchema, 'kind' | 'sourceType' | 'unsigned'>): string | null {
  if (!['int8', 'int16', 'int32', 'int64', 'uint64'].includes(col.kind)) return null;
  const m = /^(tinyint|smallint|mediumint|int|integer|bigint)\b/i.exec(col.sourceType.trim());
  if (!m) return null;
  const unsigned = col.unsigned === true || /\bunsigned\b/i.test(col.sourceType);
  switch (m[1]!.toLowerCase()) {
    case 'tinyint':
      return 'smallint';
    case 'smallint':
      return unsigned ? 'integer' : 'smallint';
    case 'mediumint':
      return 'integer';
    case 'bigint':
      return unsigned ? 'numeric(20,0)' : 'bigint';
    default:
      return unsigned ? 'bigint' : 'integer';
  }
}

function kindType(
  col: Pick<ColumnSchema, 'kind' | 'sourceType' | 'length' | 'precision' | 'scale' | 'unsigned' | 'fsp'>,
  kind: ColumnKind,
  source: SourceKind,
): string {
  const mysqlInt = source === 'mysql' ? mysqlIntegerType(col) : null;
  if (mysqlInt) return mysqlInt;
  switch (kind) {
    case 'boolean':
      return 'boolean';
    case 'int8':
      return 'smallint';
    case 'int16':
      return col.unsigned ? 'integer' : 'smallint';
    case 'int32':
      return col.unsigned ? 'bigint' : 'integer';
    case 'int64':
      return col.unsigned ? 'numeric(20,0)' : 'bigint';
    case 'uint64':
      return 'numeric(20,0)';
    case 'decimal':
      if (col.precision !== undefined && col.precision >= 1 && col.precision <= 1000) {
        const scale = col.scale ?? 0;
        if (scale >= 0 && scale <= col.precision) return `numeric(${col.precision},${scale})`;
      }
      return 'numeric';
    case 'float32':
      return 'real';
    case 'float64':
      return 'double precision';
    case 'string': {
      const st = col.sourceType.toLowerCase();
      const declaredLength = source === 'mysql' ? /^(var)?char\b|^character\b/.test(st) : true;
      if (declaredLength && col.length !== undefined && col.length >= 1 && col.length <= PG_MAX_VARCHAR) {
        return `character varying(${col.length})`;
      }
      return 'text';
    }
    case 'bytes':
      return 'bytea';
    case 'uuid':
      return 'uuid';
    case 'json':
      return col.sourceType.toLowerCase() === 'jsonb' ? 'jsonb' : 'json';
    case 'enum':
      return 'text';
    case 'set':
      return 'text[]';
    case 'bit':
      if (col.length !== undefined && col.length >= 1) {
        return source === 'postgresql' && /varying|varbit/.test(col.sourceType.toLowerCase())
          ? `bit varying(${col.length})`
          : `bit(${col.length})`;
      }
      return 'bit varying';
    case 'year':
      return 'smallint';
    case 'date':
      return 'date';
    case 'time':
      return timeType('time', false, col.fsp);
    case 'timetz':
      return timeType('time', true, col.fsp);
    case 'timestamp':
      return timeType('timestamp', false, col.fsp);
    case 'timestamptz':
      return timeType('timestamp', true, col.fsp);
    case 'interval':
      return 'interval';
    case 'array':
      return 'text[]';
  }
}

/**
 * The PostgreSQL type of a target column for a source column (docs/type-mapping.md).
 * PostgreSQL built-in source types are kept (rebuilt from the parsed type); the rest maps by kind.
 */
export function pgColumnType(col: ColumnSchema, source: SourceKind): string {
  if (source === 'postgresql' || source === undefined) {
    const parsed = parsePgType(col.sourceType);
    if (parsed && (source === 'postgresql' || col.kind !== 'string')) return formatPgType(parsed);
  }
  if (col.kind === 'array') {
    const element = col.elementKind && col.elementKind !== 'array' ? col.elementKind : 'string';
    return `${kindType({ ...col, sourceType: '' }, element, source)}[]`;
  }
  return kindType(col, col.kind, source);
}

export type TypeComparison = 'same' | 'keep' | 'widen' | 'conflict';

const INT_RANK: Record<string, number> = { smallint: 1, integer: 2, bigint: 3 };
const INT_DIGITS: Record<string, number> = { smallint: 5, integer: 10, bigint: 19 };

function precisionOf(t: ParsedPgType): number {
  return t.args[0] ?? 6;
}

/** Integer digits and scale a numeric-ish type holds; undefined = unbounded. */
function numericShape(t: ParsedPgType): { int: number; scale: number } | undefined {
  if (t.base in INT_DIGITS) return { int: INT_DIGITS[t.base]!, scale: 0 };
  if (t.base === 'numeric' && t.args.length > 0) {
    const scale = t.args[1] ?? 0;
    return { int: t.args[0]! - scale, scale };
  }
  return undefined;
}

function isNumeric(t: ParsedPgType): boolean {
  return t.base === 'numeric' || t.base in INT_RANK;
}

/** True when every value of `small` fits `big` exactly. */
function holds(big: ParsedPgType, small: ParsedPgType): boolean {
  if (big.dims !== small.dims) return false;
  if (big.base === small.base && big.args.join() === small.args.join()) return true;
  if (isNumeric(big) && isNumeric(small)) {
    if (big.base in INT_RANK && small.base in INT_RANK) return INT_RANK[big.base]! >= INT_RANK[small.base]!;
    if (big.base in INT_RANK) return false;
    const b = numericShape(big);
    const s = numericShape(small);
    if (!b) return true;
    if (!s) return false;
    return b.int >= s.int && b.scale >= s.scale;
  }
  if (big.base === 'double precision' && small.base === 'real') return true;
  if (big.base === 'text' && (small.base === 'character varying' || small.base === 'text')) return true;
  if (big.base === 'character varying' && small.base === 'character varying') {
    return big.args.length === 0 || (small.args.length > 0 && big.args[0]! >= small.args[0]!);
  }
  if (big.base === 'bit varying' && (small.base === 'bit varying' || small.base === 'bit')) {
    return big.args.length === 0 || (small.args.length > 0 && big.args[0]! >= small.args[0]!);
  }
  if (big.base === small.base && big.base.startsWith('time')) return precisionOf(big) >= precisionOf(small);
  if ((big.base === 'json' || big.base === 'jsonb') && (small.base === 'json' || small.base === 'jsonb')) return true;
  return false;
}

/**
 * Compares an existing target column type (format_type spelling) with the wanted one:
 * `same`; `keep` when the existing type holds every wanted value (an older schema version, or a
 * column the user widened); `widen` when the wanted type holds every existing value and more
 * (ALTER COLUMN TYPE is lossless); `conflict` otherwise.
 */
export function compareTypes(existing: string, wanted: string): TypeComparison {
  if (existing === wanted) return 'same';
  const e = parsePgType(existing);
  const w = parsePgType(wanted);
  if (!e || !w) return 'conflict';
  if (holds(e, w)) return 'keep';
  if (holds(w, e)) return 'widen';
  return 'conflict';
}
