/**
 * Type mapping for MySQL/MariaDB targets (docs/type-mapping.md). Pure functions:
 * - mysqlColumnType(): the target type of a source column (`type`, spelled the way
 *   information_schema.COLUMNS.COLUMN_TYPE spells it after normalizeMysqlType(), and `ddl`,
 *   the same with character set and collation);
 * - compareMysqlTypes(): whether an existing column holds the wanted type (`keep`), should be
 *   widened (`widen`, lossless), or conflicts.
 */
import type { ColumnKind, ColumnSchema } from '../../src/api/index.js';
import { quoteLiteral } from './dialect.js';

export type SourceKind = 'mysql' | 'postgresql' | undefined;

export interface MySqlTypeOptions {
  /**
   * Binary collation for text columns: exact, case- and accent-sensitive comparisons, like
   * PostgreSQL. MariaDB: utf8mb4_nopad_bin (trailing spaces significant); MySQL 8: utf8mb4_0900_bin.
   */
  binCollation: string;
  /** MariaDB stores JSON as LONGTEXT with a JSON_VALID check. */
  mariadb: boolean;
}

export interface MySqlColumnType {
  /** Normalised COLUMN_TYPE spelling, for comparison. */
  type: string;
  /** Type as written in CREATE/ALTER, with character set and collation where it has one. */
  ddl: string;
}

/** Longest VARCHAR used for key columns: 768 utf8mb4 characters = 3072 bytes, InnoDB's index limit. */
export const MAX_KEY_VARCHAR = 768;
/** VARCHAR up to this many characters; longer strings go to the TEXT family (row-size limit of 65,535 bytes). */
export const MAX_PLAIN_VARCHAR = 255;

const TEXT_FAMILY = ['tinytext', 'text', 'mediumtext', 'longtext'];
const BLOB_FAMILY = ['tinyblob', 'blob', 'mediumblob', 'longblob'];
/** Capacity in bytes of TEXT/BLOB family members. */
const FAMILY_BYTES: Record<string, number> = {
  tinytext: 255,
  text: 65_535,
  mediumtext: 16_777_215,
  longtext: 4_294_967_295,
  tinyblob: 255,
  blob: 65_535,
  mediumblob: 16_777_215,
  longblob: 4_294_967_295,
};

function textType(chars: number | undefined, key: boolean): string {
  if (key) return `varchar(${Math.min(chars ?? MAX_PLAIN_VARCHAR, MAX_KEY_VARCHAR)})`;
  if (chars !== undefined && chars >= 1 && chars <= MAX_PLAIN_VARCHAR) return `varchar(${chars})`;
  if (chars === undefined) return 'longtext';
  const bytes = chars * 4;
  return bytes <= FAMILY_BYTES['text']! ? 'text' : bytes <= FAMILY_BYTES['mediumtext']! ? 'mediumtext' : 'longtext';
}

function fspSuffix(fsp: number | undefined, fallback: number): string {
  const p = Math.max(0, Math.min(6, fsp ?? fallback));
  return p > 0 ? `(${p})` : '';
}

function unsigned(col: Pick<ColumnSchema, 'unsigned'>): string {
  return col.unsigned ? ' unsigned' : '';
}

/** MySQL source types kept as declared (the column shape is re-spelled from the parsed type). */
const MYSQL_KEEP_STRING = /^(var)?char\((\d+)\)$|^(tiny|medium|long)?text$/;
const MYSQL_KEEP_BINARY = /^(var)?binary\((\d+)\)$|^(tiny|medium|long)?blob$/;

/** A MySQL integer source type, display width included (`tinyint(1)`, `int(10) unsigned`). */
const MYSQL_INTEGER = /^(tinyint|smallint|mediumint|int|integer|bigint)(\(\d+\))?( unsigned)?( zerofill)?$/;
const INTEGER_KINDS = new Set<ColumnKind>(['boolean', 'int8', 'int16', 'int32', 'int64', 'uint64']);

function baseType(col: ColumnSchema, kind: ColumnKind, source: SourceKind, key: boolean): string {
  const st = col.sourceType.trim().toLowerCase().replace(/\s+/g, ' ');
  // From MySQL, an integer keeps its exact type: the source widens the kind of an unsigned one
  // (TINYINT UNSIGNED is int16) so that other engines hold it, but MySQL holds it as declared.
  const int = source === 'mysql' && INTEGER_KINDS.has(kind) ? MYSQL_INTEGER.exec(st) : null;
  if (int) return `${int[1] === 'integer' ? 'int' : int[1]}${int[2] ?? ''}${int[3] ?? ''}`;
  switch (kind) {
    case 'boolean':
      return 'tinyint(1)';
    case 'int8':
      return `tinyint${unsigned(col)}`;
    case 'int16':
      return `smallint${unsigned(col)}`;
    case 'int32':
      return source === 'mysql' && st.startsWith('mediumint') ? `mediumint${unsigned(col)}` : `int${unsigned(col)}`;
    case 'int64':
      return `bigint${unsigned(col)}`;
    case 'uint64':
      return 'bigint unsigned';
    case 'decimal': {
      const p = col.precision;
      const s = col.scale ?? 0;
      if (p !== undefined && p >= 1 && p <= 65 && s >= 0 && s <= 30 && s <= p) return `decimal(${p},${s})`;
      return 'decimal(65,30)';
    }
    case 'float32':
      return 'float';
    case 'float64':
      return 'double';
    case 'string': {
      if (source === 'mysql') {
        const m = MYSQL_KEEP_STRING.exec(st);
        if (m && !key) return m[2] ? `${m[1] ? 'varchar' : 'char'}(${m[2]})` : st;
        if (m?.[2] && Number(m[2]) <= MAX_KEY_VARCHAR) return `${m[1] ? 'varchar' : 'char'}(${m[2]})`;
      }
      const declared = source !== 'mysql' || /^(var)?char\b|^character\b/.test(st);
      return textType(declared ? col.length : undefined, key);
    }
    case 'bytes': {
      if (source === 'mysql') {
        const m = MYSQL_KEEP_BINARY.exec(st);
        if (m && !key) return m[2] ? `${m[1] ? 'varbinary' : 'binary'}(${m[2]})` : st;
        if (m?.[2] && Number(m[2]) <= 3072) return `${m[1] ? 'varbinary' : 'binary'}(${m[2]})`;
      }
      return key ? 'varbinary(255)' : 'longblob';
    }
    case 'uuid':
      return 'char(36)';
    case 'json':
      return key ? `varchar(${MAX_KEY_VARCHAR})` : 'json';
    case 'enum':
      if (source === 'mysql' && col.enumValues && col.enumValues.length > 0) {
        return `enum(${col.enumValues.map(quoteLiteral).join(',')})`;
      }
      return 'varchar(255)';
    case 'set':
      if (source === 'mysql' && col.enumValues && col.enumValues.length > 0) {
        return `set(${col.enumValues.map(quoteLiteral).join(',')})`;
      }
      return 'text';
    case 'bit': {
      const varying = source === 'postgresql' && /varying|varbit/.test(st);
      if (!varying && col.length !== undefined && col.length >= 1 && col.length <= 64) return `bit(${col.length})`;
      return col.length !== undefined && col.length <= MAX_PLAIN_VARCHAR ? `varchar(${col.length})` : 'longtext';
    }
    case 'year':
      return 'year';
    case 'date':
      return 'date';
    case 'time':
      return `time${fspSuffix(col.fsp, 6)}`;
    case 'timetz':
      return 'varchar(32)';
    case 'timestamp':
    case 'timestamptz':
      return `datetime${fspSuffix(col.fsp, 6)}`;
    case 'interval':
      return 'varchar(64)';
    case 'array':
      return 'json';
  }
}

function isCharacterType(type: string): boolean {
  return /^(var)?char\(|^(tiny|medium|long)?text$|^enum\(|^set\(/.test(type);
}

/** The target type of a source column on MySQL/MariaDB. */
export function mysqlColumnType(
  col: ColumnSchema,
  source: SourceKind,
  key: boolean,
  opts: MySqlTypeOptions,
): MySqlColumnType {
  let type = baseType(col, col.kind, source, key);
  let ddl = type;
  if (col.kind === 'uuid') {
    ddl = `${type} CHARACTER SET ascii COLLATE ascii_bin`;
  } else if (isCharacterType(type)) {
    ddl = `${type} CHARACTER SET utf8mb4 COLLATE ${opts.binCollation}`;
  }
  if (type === 'json' && opts.mariadb) type = 'longtext';
  return { type, ddl };
}

/** Normalises information_schema COLUMN_TYPE: integer display widths and YEAR(4) dropped, except TINYINT(1). */
export function normalizeMysqlType(columnType: string): string {
  const t = columnType.trim().toLowerCase().replace(/\s+/g, ' ');
  if (/^(enum|set)\(/.test(t)) return columnType.trim().replace(/^(enum|set)/i, (m) => m.toLowerCase());
  if (/^tinyint\(1\)$/.test(t)) return t;
  return t
    .replace(/^(tinyint|smallint|mediumint|int|integer|bigint)\(\d+\)/, '$1')
    .replace(/^integer\b/, 'int')
    .replace(/^year\(4\)$/, 'year')
    .replace(/ zerofill$/, '');
}

interface ParsedMySqlType {
  base: string;
  args: number[];
  unsigned: boolean;
  labels?: string[];
}

/** Labels of an ENUM/SET type as COLUMN_TYPE spells them ('' doubles a quote, \\ a backslash). */
export function parseLabels(list: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  while (i < list.length) {
    if (list[i] !== "'") return undefined;
    i++;
    let label = '';
    for (;;) {
      if (i >= list.length) return undefined;
      const ch = list[i]!;
      if (ch === "'" && list[i + 1] === "'") {
        label += "'";
        i += 2;
      } else if (ch === '\\' && i + 1 < list.length) {
        label += list[i + 1];
        i += 2;
      } else if (ch === "'") {
        i++;
        break;
      } else {
        label += ch;
        i++;
      }
    }
    out.push(label);
    if (i < list.length) {
      if (list[i] !== ',') return undefined;
      i++;
    }
  }
  return out;
}

function parseMysqlType(type: string): ParsedMySqlType | undefined {
  const e = /^(enum|set)\((.*)\)$/is.exec(type);
  if (e) {
    const labels = parseLabels(e[2]!);
    return labels ? { base: e[1]!.toLowerCase(), args: [], unsigned: false, labels } : undefined;
  }
  const m = /^([a-z]+)(?:\((\d+)(?:,(\d+))?\))?( unsigned)?$/.exec(normalizeMysqlType(type));
  if (!m) return undefined;
  const args = [m[2], m[3]].filter((a): a is string => a !== undefined).map(Number);
  return { base: m[1]!, args, unsigned: m[4] !== undefined };
}

const INT_RANK: Record<string, number> = { tinyint: 1, smallint: 2, mediumint: 3, int: 4, bigint: 5 };
const INT_DIGITS: Record<string, number> = { tinyint: 3, smallint: 5, mediumint: 8, int: 10, bigint: 19 };

function charCapacityBytes(t: ParsedMySqlType): number | undefined {
  if (t.base === 'varchar' || t.base === 'char') return (t.args[0] ?? 1) * 4;
  if (t.base === 'varbinary' || t.base === 'binary') return t.args[0] ?? 1;
  return FAMILY_BYTES[t.base];
}

function holds(big: ParsedMySqlType, small: ParsedMySqlType): boolean {
  if (
    big.base === small.base &&
    big.args.join() === small.args.join() &&
    big.unsigned === small.unsigned &&
    !big.labels
  ) {
    return true;
  }
  const bigInt = INT_RANK[big.base];
  const smallInt = INT_RANK[small.base];
  if (bigInt !== undefined && smallInt !== undefined) {
    if (small.unsigned) return big.unsigned ? bigInt >= smallInt : bigInt > smallInt;
    return !big.unsigned && bigInt >= smallInt;
  }
  if (big.base === 'decimal' && (smallInt !== undefined || small.base === 'decimal')) {
    const bScale = big.args[1] ?? 0;
    const bInt = (big.args[0] ?? 10) - bScale;
    const sScale = small.base === 'decimal' ? (small.args[1] ?? 0) : 0;
    const sInt =
      small.base === 'decimal' ? (small.args[0] ?? 10) - sScale : INT_DIGITS[small.base]! + (small.unsigned ? 1 : 0);
    return bInt >= sInt && bScale >= sScale;
  }
  if (big.base === 'double' && small.base === 'float') return true;
  const textLike = (t: ParsedMySqlType) => t.base === 'varchar' || TEXT_FAMILY.includes(t.base);
  const binLike = (t: ParsedMySqlType) => t.base === 'varbinary' || BLOB_FAMILY.includes(t.base);
  if ((textLike(big) && textLike(small)) || (binLike(big) && binLike(small))) {
    return charCapacityBytes(big)! >= charCapacityBytes(small)!;
  }
  if (big.base === small.base && ['datetime', 'time', 'timestamp', 'bit'].includes(big.base)) {
    return (big.args[0] ?? 0) >= (small.args[0] ?? 0);
  }
  if (big.labels && small.labels && big.base === small.base) {
    const have = new Set(big.labels);
    return small.labels.every((l) => have.has(l));
  }
  return false;
}

export interface MySqlTypeComparison {
  result: 'same' | 'keep' | 'widen' | 'conflict';
  /** For `widen` of ENUM/SET: the union of both label lists (existing labels first). */
  widenTo?: string;
}

/** Compares an existing column (COLUMN_TYPE) with the wanted normalised type. */
export function compareMysqlTypes(existing: string, wanted: string): MySqlTypeComparison {
  const e0 = normalizeMysqlType(existing);
  if (e0 === wanted) return { result: 'same' };
  const e = parseMysqlType(existing);
  const w = parseMysqlType(wanted);
  if (!e || !w) return { result: 'conflict' };
  if (holds(e, w)) return { result: 'keep' };
  if (e.labels && w.labels && e.base === w.base) {
    const union = [...e.labels, ...w.labels.filter((l) => !e.labels!.includes(l))];
    return { result: 'widen', widenTo: `${e.base}(${union.map(quoteLiteral).join(',')})` };
  }
  if (holds(w, e)) return { result: 'widen' };
  return { result: 'conflict' };
}

/** The DDL spelling (with character set) of a normalised type, as mysqlColumnType() would write it. */
export function ddlOf(type: string, opts: MySqlTypeOptions): string {
  return isCharacterType(type) ? `${type} CHARACTER SET utf8mb4 COLLATE ${opts.binCollation}` : type;
}
