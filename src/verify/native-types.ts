/**
 * Column types as each engine's catalog reports them, and the canonical kind (src/api
 * ColumnKind) each one holds. Pure: the input is one catalog row, already read (catalog.ts).
 *
 * verify keeps its own small classification rather than a connector's: it must read both
 * sides of any pair, including target tables a user created by hand.
 */
import type { ColumnKind } from '../api/schema.js';
import type { EngineKind } from './types.js';

/** A column kind, or `unknown` for types verify has no canonical form for (geometry, …). */
export type CanonKind = ColumnKind | 'unknown';

/** How a JSON column keeps its text: as given, or normalised by the server. */
export type JsonFlavor = 'text' | 'jsonb' | 'mysql-json';

export interface NativeColumn {
  name: string;
  engine: EngineKind;
  /**
   * MySQL: information_schema DATA_TYPE (`bigint`, `varchar`, …). PostgreSQL: the base type as
   * format_type() spells it without modifiers (`numeric`, `character varying`,
   * `timestamp with time zone`, `text[]` for arrays).
   */
  dataType: string;
  /** MySQL COLUMN_TYPE (`bigint(20) unsigned`); PostgreSQL format_type() with modifiers. */
  columnType: string;
  nullable: boolean;
  kind: CanonKind;
  unsigned?: boolean;
  /** Bits of BIT(n), characters of CHAR(n)/VARCHAR(n). */
  length?: number;
  precision?: number;
  scale?: number;
  /** JSON columns only. */
  jsonFlavor?: JsonFlavor;
  /** PostgreSQL arrays: the element kind. */
  elementKind?: CanonKind;
  /** PostgreSQL `character(n)`: its text form is padded; `::text` strips the padding. */
  padded?: boolean;
  /** Character set (MySQL) of text columns. */
  charset?: string | null;
  /** Collation of text columns (PostgreSQL: `default` already resolved to the database's). */
  collation?: string | null;
  /** PostgreSQL enum type (ordered by declaration, not by label). */
  pgEnum?: boolean;
}

const MYSQL_INTEGERS = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint']);
const MYSQL_STRINGS = new Set(['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'inet4', 'inet6']);
const MYSQL_BYTES = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob']);

/** The kind a MySQL/MariaDB column holds. MariaDB JSON is LONGTEXT: it reads as `string`. */
export function mysqlKind(
  dataType: string,
  columnType: string,
): Pick<NativeColumn, 'kind' | 'unsigned' | 'jsonFlavor'> {
  const type = dataType.toLowerCase();
  const unsigned = /\bunsigned\b/i.test(columnType);
  if (MYSQL_INTEGERS.has(type)) {
    return type === 'bigint' && unsigned ? { kind: 'uint64', unsigned } : { kind: 'int64', unsigned };
  }
  if (MYSQL_STRINGS.has(type)) return { kind: 'string' };
  if (MYSQL_BYTES.has(type)) return { kind: 'bytes' };
  switch (type) {
    case 'decimal':
    case 'numeric':
      return { kind: 'decimal', unsigned };
    case 'float':
      return { kind: 'float32' };
    case 'double':
    case 'real':
      return { kind: 'float64' };
    case 'bit':
      return { kind: 'bit' };
    case 'year':
      return { kind: 'year' };
    case 'date':
      return { kind: 'date' };
    case 'time':
      return { kind: 'time' };
    case 'datetime':
      return { kind: 'timestamp' };
    case 'timestamp':
      return { kind: 'timestamptz' };
    case 'enum':
      return { kind: 'enum' };
    case 'set':
      return { kind: 'set' };
    case 'json':
      return { kind: 'json', jsonFlavor: 'mysql-json' };
    case 'uuid':
      return { kind: 'uuid' };
    default:
      return { kind: 'unknown' };
  }
}

const PG_KINDS: Record<string, CanonKind> = {
  smallint: 'int64',
  integer: 'int64',
  bigint: 'int64',
  numeric: 'decimal',
  real: 'float32',
  'double precision': 'float64',
  boolean: 'boolean',
  text: 'string',
  'character varying': 'string',
  character: 'string',
  bpchar: 'string',
  '"char"': 'string',
  name: 'string',
  citext: 'string',
  bytea: 'bytes',
  uuid: 'uuid',
  json: 'json',
  jsonb: 'json',
  bit: 'bit',
  'bit varying': 'bit',
  date: 'date',
  'time without time zone': 'time',
  'time with time zone': 'timetz',
  'timestamp without time zone': 'timestamp',
  'timestamp with time zone': 'timestamptz',
  interval: 'interval',
};

/**
 * The kind a PostgreSQL base type holds (`dataType` as in NativeColumn). Other built-in and
 * extension types (inet, money, xml, ranges…) compare by their text form, as `string`.
 */
export function postgresKind(dataType: string, isEnum: boolean): CanonKind {
  if (isEnum) return 'enum';
  return PG_KINDS[dataType] ?? 'string';
}

export interface ParsedFormatType {
  /** Base name without modifiers (zone words kept), e.g. `timestamp with time zone`. */
  base: string;
  args: number[];
  array: boolean;
}

/** Takes a format_type() spelling apart: `numeric(10,2)`, `timestamp(6) with time zone`, `text[]`. */
export function parseFormatType(text: string): ParsedFormatType {
  const t = text.trim();
  const array = t.endsWith('[]');
  const core = t.replace(/(\[\])+$/, '');
  const m = /^(.*?)\((\d+)(?:,\s*(-?\d+))?\)(.*)$/.exec(core);
  if (!m) return { base: core, args: [], array };
  const args = [Number(m[2])];
  if (m[3] !== undefined) args.push(Number(m[3]));
  return { base: `${m[1]!.trim()}${m[4] ?? ''}`.replace(/\s+/g, ' ').trim(), args, array };
}
