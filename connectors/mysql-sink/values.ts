/**
 * Canonical values (docs/values.md) -> mysql2 statement parameters. Strings for numbers and
 * temporals (exact; the server converts), Buffers for binary and BIT, JSON text for arrays.
 * Values MySQL would reject or silently change (rounding, NaN, infinite dates) throw a
 * non-retriable FerryError: a data problem, routed to the dead-letter topic.
 */
import {
  bitToBuffer,
  type ColumnKind,
  type ColumnSchema,
  decodeBytes,
  FerryError,
  type JsonValue,
  toMysqlDate,
  toMysqlDatetime,
} from '../../src/api/index.js';

export interface MySqlTargetColumn {
  name: string;
  /** Normalised COLUMN_TYPE, e.g. `decimal(65,30)`, `bit(5)`, `varchar(20)`. */
  type: string;
  notNull: boolean;
  /** NOT NULL with a DEFAULT: rows inserted without the column get the default. */
  hasDefault?: boolean;
}

export type MySqlParam = string | number | Buffer | null;

function dataError(column: string, message: string, value?: unknown): FerryError {
  return new FerryError('FERRY_APPLY', `column "${column}": ${message}`, {
    details: { column, ...(value === undefined ? {} : { value: String(value).slice(0, 80) }) },
  });
}

/** Rejects decimals that DECIMAL(p,s) would round (a note, not an error, even in strict mode) or overflow. */
function checkDecimal(column: string, value: string, target: MySqlTargetColumn): string {
  if (!/^-?\d+(\.\d+)?$/.test(value)) {
    throw dataError(column, `MySQL DECIMAL cannot store ${value}`, value);
  }
  const m = /^decimal\((\d+),(\d+)\)/.exec(target.type);
  if (!m) return value;
  const precision = Number(m[1]);
  const scale = Number(m[2]);
  const [intPart = '', fraction = ''] = value.replace(/^-/, '').split('.');
  const fractionDigits = fraction.replace(/0+$/, '').length;
  const intDigits = intPart.replace(/^0+/, '').length;
  if (fractionDigits > scale || intDigits > precision - scale) {
    throw dataError(column, `${value} does not fit ${target.type} exactly (it would be rounded or overflow)`, value);
  }
  return value;
}

function scalar(column: string, kind: ColumnKind, value: JsonValue, target: MySqlTargetColumn): MySqlParam {
  switch (kind) {
    case 'boolean':
      if (typeof value !== 'boolean') throw dataError(column, 'expected true or false', value);
      return value ? 1 : 0;
    case 'int8':
    case 'int16':
    case 'int32':
    case 'int64':
    case 'uint64':
      return String(value);
    case 'year':
      // Four digits: MySQL reads the string '0' as 2000, '0000' as 0000.
      return String(value).padStart(4, '0');
    case 'decimal':
      return target.type.startsWith('decimal') ? checkDecimal(column, String(value), target) : String(value);
    case 'float32':
    case 'float64':
      // Negative zero: MySQL 8 keeps its sign, MariaDB stores 0 (docs/type-mapping.md).
      if (value === '-0') return '-0';
      if (typeof value !== 'number') throw dataError(column, `MySQL cannot store the float ${String(value)}`, value);
      // A float32's canonical text is its shortest form (3.4028235e38), which MySQL reads as a
      // double and may find beyond FLOAT's range; the float's exact double value never is.
      return kind === 'float32' && target.type.startsWith('float') ? String(Math.fround(value)) : String(value);
    case 'bytes':
      if (typeof value !== 'string') throw dataError(column, 'expected base64 text', value);
      return decodeBytes(value);
    case 'bit':
      if (typeof value !== 'string') throw dataError(column, 'expected a bit string', value);
      return target.type.startsWith('bit') ? bitToBuffer(value) : value;
    case 'date':
      if (typeof value !== 'string') throw dataError(column, 'expected a date string', value);
      return toMysqlDate(value);
    case 'timestamp':
    case 'timestamptz':
      if (typeof value !== 'string') throw dataError(column, 'expected a timestamp string', value);
      return toMysqlDatetime(value);
    case 'set':
      return Array.isArray(value) ? value.map(String).join(',') : String(value);
    case 'json':
      return typeof value === 'string' ? value : JSON.stringify(value);
    default:
      if (typeof value === 'object' && value !== null) return JSON.stringify(value);
      return String(value);
  }
}

/** Converts a canonical value of a source column into the parameter for the target column. */
export function toMySqlParam(col: ColumnSchema, value: JsonValue, target: MySqlTargetColumn): MySqlParam {
  if (value === null) return null;
  if (col.kind === 'array') return JSON.stringify(value);
  return scalar(col.name, col.kind, value, target);
}
