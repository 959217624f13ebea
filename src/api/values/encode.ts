/**
 * The canonical JSON value encoding (docs/values.md, DESIGN.md §Values). Sources encode every
 * column value with encodeValue(); sinks and `ferry verify` rely on the same form, and compare
 * canonical values as JSON.
 *
 * Pure functions, no I/O. Family-specific encoders and the decoders for sinks live in
 * values-*.ts and are re-exported here.
 */
import { FerryError } from '../errors.js';
import { UNCHANGED } from '../event.js';
import type { JsonValue } from '../json.js';
import { parsePgArray } from './array.js';
import { encodeBit, encodeBytes, encodeUuid } from './binary.js';
import { encodeError, type ValueColumn } from './common.js';
import { encodeInterval } from './interval.js';
import { encodeDecimal, encodeFloat, encodeInteger, encodeYear } from './numeric.js';
import { encodeDate, encodeTime, encodeTimestamp, encodeTimestampTz, encodeTimeTz } from './temporal.js';

export { type PgArray, parsePgArray } from './array.js';
export { bitToBuffer, decodeBytes, encodeBit, encodeBytes, encodeUuid } from './binary.js';
export type { ValueColumn } from './common.js';
export {
  encodeInterval,
  formatInterval,
  type IntervalParts,
  parseInterval,
  toPgInterval,
} from './interval.js';
export {
  encodeDecimal,
  encodeFloat,
  encodeInteger,
  encodeYear,
  type FloatJson,
  shortestFloat32,
} from './numeric.js';
export {
  encodeDate,
  encodeTime,
  encodeTimestamp,
  encodeTimestampTz,
  encodeTimeTz,
  isZeroDate,
  toMysqlDate,
  toMysqlDatetime,
  toPgDate,
  toPgTimestamp,
} from './temporal.js';

export interface EncodeOptions {
  /**
   * Minutes east of UTC in which the source rendered timestamptz values that carry no offset
   * (MySQL TIMESTAMP is rendered in the session time zone; ferry's MySQL connector runs its
   * session in UTC, so 0). Values with an explicit offset ignore it.
   */
  sourceTimeZoneOffsetMinutes?: number;
}

const BOOLEAN_TRUE = new Set(['t', 'true', '1']);
const BOOLEAN_FALSE = new Set(['f', 'false', '0']);

/**
 * boolean: true/false. Input: booleans, PostgreSQL text "t"/"f" (also "true"/"false"), and 1/0 as
 * number, bigint, string or a one-byte Buffer (MySQL BOOLEAN = TINYINT(1), BIT(1)). Any other
 * integer is an error: mapping a TINYINT(1) holding 5 to true would lose the 5.
 */
export function encodeBoolean(column: ValueColumn, raw: unknown): boolean {
  if (typeof raw === 'boolean') return raw;
  let probe: unknown = raw;
  if (raw instanceof Uint8Array && raw.length === 1) probe = raw[0];
  if (probe === 1 || probe === 1n) return true;
  if (probe === 0 || probe === 0n) return false;
  if (typeof raw === 'string') {
    const lower = raw.toLowerCase();
    if (BOOLEAN_TRUE.has(lower)) return true;
    if (BOOLEAN_FALSE.has(lower)) return false;
  }
  throw encodeError(
    column,
    raw,
    'not a boolean',
    'true/false, "t"/"f", "true"/"false", or 1/0 (a TINYINT(1) holding other values must be mapped to an integer kind)',
  );
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(column: ValueColumn, raw: Uint8Array, accepted: string): string {
  try {
    return utf8.decode(raw);
  } catch {
    throw encodeError(column, raw, 'bytes that are not valid UTF-8', accepted);
  }
}

/** string: the text as is (utf8mb4, emoji, U+0000 included). A Buffer must be valid UTF-8. */
export function encodeString(column: ValueColumn, raw: unknown): string {
  const accepted = 'a string, or a Buffer holding UTF-8';
  if (typeof raw === 'string') return raw;
  if (raw instanceof Uint8Array) return decodeUtf8(column, raw, accepted);
  throw encodeError(column, raw, 'not a string', accepted);
}

/** enum: the label as a string. */
export function encodeEnum(column: ValueColumn, raw: unknown): string {
  if (typeof raw === 'string') return raw;
  throw encodeError(column, raw, 'not an enum label', 'the label as a string');
}

/**
 * set: a JSON array of member strings, in the order given (MySQL gives declaration order).
 * Input: MySQL's comma-separated text ("a,c"; "" is the empty set; SET members cannot contain
 * commas) or an array of strings.
 */
export function encodeSet(column: ValueColumn, raw: unknown): string[] {
  if (typeof raw === 'string') return raw === '' ? [] : raw.split(',');
  if (Array.isArray(raw) && raw.every((m) => typeof m === 'string')) return [...raw];
  throw encodeError(column, raw, 'not a set', 'comma-separated members ("a,c") or an array of strings');
}

/** Serialises a driver-parsed JSON value; 64-bit integers may arrive as bigint. */
function stringifyJson(column: ValueColumn, value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw encodeError(column, value, 'JSON has no NaN or Infinity', 'JSON text');
  }
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map((v) => (v === undefined ? 'null' : stringifyJson(column, v))).join(',')}]`;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const members = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${JSON.stringify(k)}:${stringifyJson(column, v)}`);
    return `{${members.join(',')}}`;
  }
  throw encodeError(column, value, 'not a JSON value', 'JSON text as a string, or a value parsed by the driver');
}

/**
 * json: the JSON text as a string, byte for byte as the source gave it (key order, spacing and
 * number spelling kept). A value a driver already parsed (object, array, number, boolean) is
 * serialised compactly; its key order and number precision are then the driver's.
 */
export function encodeJson(column: ValueColumn, raw: unknown): string {
  if (typeof raw === 'string') return raw;
  if (raw instanceof Uint8Array) return decodeUtf8(column, raw, 'JSON text as a string or UTF-8 Buffer');
  return stringifyJson(column, raw);
}

/**
 * array (PostgreSQL): a JSON array (nested for multi-dimensional arrays) of canonical element
 * values, each encoded as `column.elementKind`. Input: a PostgreSQL array literal
 * ('{1,2,NULL}') or a JS array (nested arrays are dimensions).
 */
export function encodeArray(column: ValueColumn, raw: unknown, opts: EncodeOptions = {}): JsonValue[] {
  const elementKind = column.elementKind;
  if (elementKind === undefined || elementKind === 'array') {
    throw encodeError(column, raw, 'the column has no element kind', 'an array column with elementKind set');
  }
  const accepted = 'a PostgreSQL array literal such as "{1,2,NULL}" or a JS array';
  let items: unknown[];
  if (typeof raw === 'string') {
    try {
      items = parsePgArray(raw, `column "${column.name}"`);
    } catch (err) {
      if (!(err instanceof FerryError)) throw err;
      const problem = `malformed array literal (${String(err.details['problem'])} at offset ${String(err.details['offset'])})`;
      throw encodeError(column, raw, problem, accepted);
    }
  } else if (Array.isArray(raw)) {
    items = raw;
  } else {
    throw encodeError(column, raw, 'not an array', accepted);
  }
  const element: ValueColumn = { ...column, kind: elementKind, elementKind: undefined };
  const encodeItems = (list: unknown[], path: string): JsonValue[] =>
    list.map((item, i) => {
      const at = `${path}[${i + 1}]`;
      if (Array.isArray(item)) return encodeItems(item, at);
      if (item === null) return null;
      return encodeNonNull({ ...element, name: at }, item, opts);
    });
  return encodeItems(items, column.name);
}

function encodeNonNull(column: ValueColumn, raw: unknown, opts: EncodeOptions): JsonValue {
  switch (column.kind) {
    case 'boolean':
      return encodeBoolean(column, raw);
    case 'int8':
    case 'int16':
    case 'int32':
    case 'int64':
    case 'uint64':
      return encodeInteger(column, raw);
    case 'decimal':
      return encodeDecimal(column, raw);
    case 'float32':
    case 'float64':
      return encodeFloat(column, raw);
    case 'string':
      return encodeString(column, raw);
    case 'bytes':
      return encodeBytes(column, raw);
    case 'uuid':
      return encodeUuid(column, raw);
    case 'json':
      return encodeJson(column, raw);
    case 'enum':
      return encodeEnum(column, raw);
    case 'set':
      return encodeSet(column, raw);
    case 'bit':
      return encodeBit(column, raw);
    case 'year':
      return encodeYear(column, raw);
    case 'date':
      return encodeDate(column, raw);
    case 'time':
      return encodeTime(column, raw);
    case 'timetz':
      return encodeTimeTz(column, raw);
    case 'timestamp':
      return encodeTimestamp(column, raw);
    case 'timestamptz':
      return encodeTimestampTz(column, raw, opts.sourceTimeZoneOffsetMinutes);
    case 'interval':
      return encodeInterval(column, raw);
    case 'array':
      return encodeArray(column, raw, opts);
    default:
      throw encodeError(column, raw, 'unknown column kind', 'a kind from COLUMN_KINDS');
  }
}

/**
 * Encodes one raw driver value of a column into its canonical JSON form (docs/values.md).
 * - null -> null for every kind; the UNCHANGED marker passes through untouched.
 * - undefined is an error: PostgreSQL's "unchanged TOAST" must be turned into UNCHANGED by the
 *   connector, never silently into NULL.
 * - Anything the kind does not accept throws FerryError FERRY_ENCODE naming the column, its kind,
 *   the value (truncated) and what is accepted.
 */
export function encodeValue(column: ValueColumn, raw: unknown, opts: EncodeOptions = {}): JsonValue {
  if (raw === null) return null;
  if (raw === UNCHANGED) return UNCHANGED;
  if (raw === undefined) {
    throw encodeError(
      column,
      raw,
      'no value (an unchanged PostgreSQL TOAST column must be passed as UNCHANGED)',
      'null, UNCHANGED, or a value of the kind',
    );
  }
  return encodeNonNull(column, raw, opts);
}
