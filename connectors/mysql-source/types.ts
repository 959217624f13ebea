import type { ColumnKind, ColumnSchema } from '../../src/api/index.js';

/**
 * MySQL/MariaDB column types → ferry column kinds (docs/mysql-source.md). Pure: the input is one
 * row of information_schema.COLUMNS, already read.
 */
export interface InfoColumn {
  name: string;
  /** information_schema DATA_TYPE, lowercase: `bigint`, `varchar`, `longtext`, … */
  dataType: string;
  /** information_schema COLUMN_TYPE: `bigint(20) unsigned`, `enum('a','b')`, … */
  columnType: string;
  nullable: boolean;
  charMaxLength: number | null;
  numericPrecision: number | null;
  numericScale: number | null;
  datetimePrecision: number | null;
  /** Generated (virtual or stored) column. */
  generated: boolean;
  /** MariaDB JSON is LONGTEXT with a json_valid() check; the schema reader finds those. */
  json: boolean;
  /** information_schema COLUMN_DEFAULT as the server shows it (`'text'`, `7`, `NULL`, `current_timestamp()`). */
  default?: string | null;
}

export type MappedColumn = { ok: true; column: ColumnSchema } | { ok: false; reason: string };

const INTEGER_KINDS: Record<string, [signed: ColumnKind, unsigned: ColumnKind]> = {
  tinyint: ['int8', 'int16'],
  smallint: ['int16', 'int32'],
  mediumint: ['int32', 'int32'],
  int: ['int32', 'int64'],
  integer: ['int32', 'int64'],
  bigint: ['int64', 'uint64'],
};

const STRING_TYPES = new Set(['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext']);
const BYTES_TYPES = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob']);
const UNSUPPORTED = new Set([
  'geometry',
  'point',
  'linestring',
  'polygon',
  'multipoint',
  'multilinestring',
  'multipolygon',
  'geometrycollection',
  'vector',
]);

/** Parses the quoted value list of `enum('a','b,c')` / `set('x','y')` (quotes doubled inside). */
export function parseEnumValues(columnType: string): string[] {
  const open = columnType.indexOf('(');
  const close = columnType.lastIndexOf(')');
  if (open < 0 || close < open) return [];
  const body = columnType.slice(open + 1, close);
  const values: string[] = [];
  let i = 0;
  while (i < body.length) {
    if (body[i] !== "'") {
      i++;
      continue;
    }
    let value = '';
    i++;
    while (i < body.length) {
      const ch = body[i]!;
      if (ch === "'" && body[i + 1] === "'") {
        value += "'";
        i += 2;
      } else if (ch === '\\' && i + 1 < body.length) {
        value += body[i + 1];
        i += 2;
      } else if (ch === "'") {
        i++;
        break;
      } else {
        value += ch;
        i++;
      }
    }
    values.push(value);
  }
  return values;
}

export function mapMysqlColumn(c: InfoColumn): MappedColumn {
  const type = c.dataType.toLowerCase();
  const unsigned = /\bunsigned\b/i.test(c.columnType);
  const base: ColumnSchema = {
    name: c.name,
    kind: 'string',
    sourceType: c.columnType.toLowerCase(),
    nullable: c.nullable,
  };
  if (c.generated) base.generated = true;
  const ok = (extra: Partial<ColumnSchema>): MappedColumn => ({ ok: true, column: { ...base, ...extra } });

  const ints = INTEGER_KINDS[type];
  if (ints) return ok({ kind: unsigned ? ints[1] : ints[0], ...(unsigned ? { unsigned: true } : {}) });
  if (c.json) return ok({ kind: 'json' });
  switch (type) {
    case 'decimal':
    case 'numeric':
      return ok({
        kind: 'decimal',
        ...(c.numericPrecision === null ? {} : { precision: c.numericPrecision }),
        ...(c.numericScale === null ? {} : { scale: c.numericScale }),
        ...(unsigned ? { unsigned: true } : {}),
      });
    case 'float':
      return ok({ kind: 'float32', ...(unsigned ? { unsigned: true } : {}) });
    case 'double':
    case 'real':
      return ok({ kind: 'float64', ...(unsigned ? { unsigned: true } : {}) });
    case 'bit':
      return ok({ kind: 'bit', length: c.numericPrecision ?? 1 });
    case 'year':
      return ok({ kind: 'year' });
    case 'date':
      return ok({ kind: 'date' });
    case 'time':
      return ok({ kind: 'time', fsp: c.datetimePrecision ?? 0 });
    case 'datetime':
      return ok({ kind: 'timestamp', fsp: c.datetimePrecision ?? 0 });
    case 'timestamp':
      return ok({ kind: 'timestamptz', fsp: c.datetimePrecision ?? 0 });
    case 'enum':
      return ok({ kind: 'enum', enumValues: parseEnumValues(c.columnType) });
    case 'set':
      return ok({ kind: 'set', enumValues: parseEnumValues(c.columnType) });
    case 'json':
      return ok({ kind: 'json' });
    case 'uuid':
      return ok({ kind: 'uuid' });
    case 'inet4':
    case 'inet6':
      return ok({ kind: 'string' });
  }
  if (STRING_TYPES.has(type))
    return ok({ kind: 'string', ...(c.charMaxLength === null ? {} : { length: c.charMaxLength }) });
  if (BYTES_TYPES.has(type))
    return ok({ kind: 'bytes', ...(c.charMaxLength === null ? {} : { length: c.charMaxLength }) });
  if (UNSUPPORTED.has(type)) return { ok: false, reason: `type ${c.columnType} is not supported` };
  return { ok: false, reason: `unknown type ${c.columnType}` };
}
