/**
 * Canonical encoding of dates and times (docs/values.md), and the conversions sinks need to hand
 * canonical values back to PostgreSQL and MySQL.
 *
 * Rules shared by every temporal kind:
 * - Years are ISO 8601 astronomical years: 1 BC is 0000, 2 BC is -0001, 44 BC is -0043.
 *   At least four digits; more when needed (10000-01-01).
 * - Fractional seconds: at most 6 digits; trailing zeros (and then the dot) are trimmed, so
 *   "03:04:05.500000" and "03:04:05.5" both encode as "03:04:05.5", and ".000000" disappears.
 * - MySQL zero and partial-zero dates (a month or day of 00) are kept as given.
 * - PostgreSQL infinity and -infinity are the strings "infinity" and "-infinity".
 * - No JS Date ever takes part: Date holds milliseconds only.
 */
import { decodeError, encodeError, trimFraction, unrepresentableError, type ValueColumn } from './common.js';

const OFFSET = '(Z|[+-]\\d{2}(?::?\\d{2}){0,2})';
const DATE_PART = '(-?)(\\d{4,})-(\\d{2})-(\\d{2})';
const TIME_PART = '(\\d{1,2}):(\\d{2}):(\\d{2})(?:\\.(\\d+))?';
const DATE_RE = new RegExp(`^${DATE_PART}( BC)?$`);
const TIMESTAMP_RE = new RegExp(`^${DATE_PART}[ T]${TIME_PART}(?: ?${OFFSET})?( BC)?$`);
const TIMETZ_RE = new RegExp(`^${TIME_PART} ?${OFFSET}$`);
const TIME_RE = /^(-?)(\d{1,3}):(\d{2}):(\d{2})(?:\.(\d+))?$/;
const INFINITY_RE = /^([+-]?)infinity$/i;

interface Civil {
  /** Astronomical year (1 BC = 0). */
  year: number;
  month: number;
  day: number;
}

interface Clock {
  hour: number;
  minute: number;
  second: number;
  /** Significant fraction digits (0..6), trailing zeros trimmed. */
  fraction: string;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** Astronomical year in canonical spelling: 0044, 0000, -0043, 10000. */
export function formatYear(year: number): string {
  return year < 0 ? `-${pad(-year, 4)}` : pad(year, 4);
}

function formatCivil(c: Civil): string {
  return `${formatYear(c.year)}-${pad(c.month)}-${pad(c.day)}`;
}

function formatClock(c: Clock): string {
  return `${pad(c.hour)}:${pad(c.minute)}:${pad(c.second)}${c.fraction ? `.${c.fraction}` : ''}`;
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  return [31, isLeap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm, any year). */
function daysFromCivil({ year, month, day }: Civil): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(days: number): Civil {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

/** Reads the date groups of DATE_RE / TIMESTAMP_RE; undefined when the fields are out of range. */
function readCivil(minus: string, digits: string, mm: string, dd: string, bc: boolean): Civil | undefined {
  const written = Number(digits);
  const month = Number(mm);
  const day = Number(dd);
  // "-0000", "-0044 ... BC" and "0000 BC" name no year.
  if ((minus || bc) && (written === 0 || (minus && bc))) return undefined;
  const year = bc ? 1 - written : minus ? -written : written;
  if (month > 12 || day > 31) return undefined;
  // Zero parts belong to MySQL (zero and partial-zero dates), which has no years before 0000.
  if ((month === 0 || day === 0) && (year < 0 || bc)) return undefined;
  return { year, month, day };
}

function readClock(hh: string, mi: string, ss: string, frac: string | undefined, maxHour: number): Clock | undefined {
  const hour = Number(hh);
  const minute = Number(mi);
  const second = Number(ss);
  const fraction = trimFraction(frac);
  if (fraction === undefined || hour > maxHour || minute > 59 || second > 59) return undefined;
  return { hour, minute, second, fraction };
}

/** Offset in seconds east of UTC from "Z", "+05", "+0530", "+05:30", "-03:00", "+00:19:32". */
function readOffset(text: string): number | undefined {
  if (text === 'Z') return 0;
  const m = /^([+-])(\d{2}):?(\d{2})?:?(\d{2})?$/.exec(text);
  if (!m) return undefined;
  const h = Number(m[2]);
  const mi = Number(m[3] ?? 0);
  const s = Number(m[4] ?? 0);
  if (h > 15 || mi > 59 || s > 59) return undefined;
  const seconds = h * 3600 + mi * 60 + s;
  return m[1] === '-' ? -seconds : seconds;
}

function formatOffset(seconds: number): string {
  const abs = Math.abs(seconds);
  const s = abs % 60;
  const base = `${seconds < 0 ? '-' : '+'}${pad(Math.floor(abs / 3600))}:${pad(Math.floor(abs / 60) % 60)}`;
  return s ? `${base}:${pad(s)}` : base;
}

function infinity(raw: string): string | undefined {
  const m = INFINITY_RE.exec(raw);
  return m ? `${m[1] === '-' ? '-' : ''}infinity` : undefined;
}

const NO_DATE_OBJECTS =
  'JS Date holds milliseconds only and a driver-chosen zone; keep temporal values as strings (mysql2 `dateStrings: true`, pg text type parsers)';

function requireString(column: ValueColumn, raw: unknown, accepted: string): string {
  if (typeof raw === 'string') return raw;
  throw encodeError(column, raw, raw instanceof Date ? NO_DATE_OBJECTS : 'not a string', accepted);
}

/** Month and day of a "YYYY-MM-DD…" text: a real date, or a MySQL zero or partial-zero one. */
function isCalendarOrZeroDate(text: string): boolean {
  const month = Number(text.slice(5, 7));
  const day = Number(text.slice(8, 10));
  return month === 0 || day === 0 || day <= daysInMonth(Number(text.slice(0, 4)), month);
}

const PLAIN_DATE_RE = /^\d{4}-(?:0\d|1[0-2])-(?:[0-2]\d|3[01])$/;

const DATE_ACCEPTED =
  '"YYYY-MM-DD", PostgreSQL "YYYY-MM-DD BC", "infinity"/"-infinity", or a MySQL zero date like "0000-00-00"';

/** DATE: "YYYY-MM-DD" (astronomical years: "-0043-03-15" is 44 BC). */
export function encodeDate(column: ValueColumn, raw: unknown): string {
  const text = requireString(column, raw, DATE_ACCEPTED);
  if (PLAIN_DATE_RE.test(text)) return text; // what formatCivil(readCivil()) gives it back
  const inf = infinity(text);
  if (inf) return inf;
  const m = DATE_RE.exec(text);
  const civil = m && readCivil(m[1]!, m[2]!, m[3]!, m[4]!, m[5] !== undefined);
  if (!civil) throw encodeError(column, raw, 'not a date', DATE_ACCEPTED);
  return formatCivil(civil);
}

const TIME_ACCEPTED = '"[-]HH:MM:SS[.ffffff]" with hours 0..838 (MySQL TIME) or 00..24 (PostgreSQL time)';

/**
 * TIME: "HH:MM:SS[.ffffff]"; MySQL's negative and >24h values keep their sign and hours
 * ("-01:30:00.5", "838:59:59"); hours have at least two digits; "-00:00:00" is "00:00:00".
 */
export function encodeTime(column: ValueColumn, raw: unknown): string {
  const text = requireString(column, raw, TIME_ACCEPTED);
  const m = TIME_RE.exec(text);
  const clock = m && readClock(m[2]!, m[3]!, m[4]!, m[5], 838);
  if (!clock) throw encodeError(column, raw, 'not a time', TIME_ACCEPTED);
  const zero = clock.hour === 0 && clock.minute === 0 && clock.second === 0 && clock.fraction === '';
  return `${m![1] && !zero ? '-' : ''}${formatClock(clock)}`;
}

const TIMETZ_ACCEPTED = '"HH:MM:SS[.ffffff]" followed by an offset such as "+02", "-08:00", "+05:30" or "Z"';

/**
 * TIMETZ (PostgreSQL time with time zone): "HH:MM:SS[.ffffff]+HH:MM". The offset is kept as given
 * (a time of day has no date to convert through), spelled ±HH:MM ("+02" -> "+02:00", "Z" ->
 * "+00:00"), or ±HH:MM:SS when it has seconds.
 */
export function encodeTimeTz(column: ValueColumn, raw: unknown): string {
  const text = requireString(column, raw, TIMETZ_ACCEPTED);
  const m = TIMETZ_RE.exec(text);
  const clock = m && readClock(m[1]!, m[2]!, m[3]!, m[4], 24);
  const offset = m ? readOffset(m[5]!) : undefined;
  const past24 = clock?.hour === 24 && (clock.minute > 0 || clock.second > 0 || clock.fraction !== '');
  if (!clock || offset === undefined || past24) throw encodeError(column, raw, 'not a time with zone', TIMETZ_ACCEPTED);
  return `${formatClock(clock)}${formatOffset(offset)}`;
}

interface ParsedTimestamp {
  civil: Civil;
  clock: Clock;
  /** Seconds east of UTC when the text carries an offset. */
  offset?: number;
}

function parseTimestamp(text: string): ParsedTimestamp | undefined {
  const m = TIMESTAMP_RE.exec(text);
  if (!m) return undefined;
  const civil = readCivil(m[1]!, m[2]!, m[3]!, m[4]!, m[10] !== undefined);
  const clock = readClock(m[5]!, m[6]!, m[7]!, m[8], 23);
  if (!civil || !clock) return undefined;
  if (m[9] === undefined) return { civil, clock };
  const offset = readOffset(m[9]);
  return offset === undefined ? undefined : { civil, clock, offset };
}

/** The usual timestamp text (a four-digit year, two-digit fields, at most six fraction digits, no zone). */
const PLAIN_TIMESTAMP_RE =
  /^\d{4}-(?:0\d|1[0-2])-(?:[0-2]\d|3[01])[ T](?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,6})?$/;

/**
 * formatCivil/formatClock of a PLAIN_TIMESTAMP_RE text, written by slicing it (no parse): what
 * the general path yields for it, byte for byte. undefined: another shape (the general path).
 */
function plainTimestamp(text: string): string | undefined {
  if (!PLAIN_TIMESTAMP_RE.test(text)) return undefined;
  if (text.length === 19) return text.charCodeAt(10) === 84 ? text : `${text.slice(0, 10)}T${text.slice(11)}`;
  let end = text.length;
  while (text.charCodeAt(end - 1) === 48) end--; // trailing zeros of the fraction
  if (end === 20) end = 19; // only zeros: no fraction
  return `${text.slice(0, 10)}T${text.slice(11, end)}`;
}

const TIMESTAMP_ACCEPTED =
  '"YYYY-MM-DD HH:MM:SS[.ffffff]" (space or T, no zone; PostgreSQL " BC" suffix), "infinity"/"-infinity", or a MySQL zero date like "0000-00-00 00:00:00"';

/** TIMESTAMP without zone: "YYYY-MM-DDTHH:MM:SS[.ffffff]" (T separator, no zone letter). */
export function encodeTimestamp(column: ValueColumn, raw: unknown): string {
  const text = requireString(column, raw, TIMESTAMP_ACCEPTED);
  const plain = plainTimestamp(text);
  if (plain !== undefined) return plain;
  const inf = infinity(text);
  if (inf) return inf;
  const p = parseTimestamp(text);
  if (!p || p.offset !== undefined) {
    throw encodeError(
      column,
      raw,
      p ? 'carries a zone, but the column has none' : 'not a timestamp',
      TIMESTAMP_ACCEPTED,
    );
  }
  return `${formatCivil(p.civil)}T${formatClock(p.clock)}`;
}

const TIMESTAMPTZ_ACCEPTED =
  '"YYYY-MM-DD HH:MM:SS[.ffffff]" with an offset ("+02", "+05:30", "Z"; PostgreSQL " BC" suffix), or without one when the source time-zone offset is given (MySQL TIMESTAMP), "infinity"/"-infinity", or the MySQL zero timestamp "0000-00-00 00:00:00"';

/**
 * TIMESTAMPTZ (PostgreSQL timestamptz, MySQL TIMESTAMP): the instant in UTC,
 * "YYYY-MM-DDTHH:MM:SS[.ffffff]Z", converted exactly (microseconds kept, any year, BC too).
 *
 * A text without an offset (MySQL renders TIMESTAMP in the session time zone) is read in
 * `sourceOffsetMinutes` east of UTC; without that it is an error. The MySQL zero timestamp
 * (month or day 00) is not an instant: it is kept as given, with T and Z
 * ("0000-00-00T00:00:00Z").
 */
export function encodeTimestampTz(column: ValueColumn, raw: unknown, sourceOffsetMinutes?: number): string {
  const text = requireString(column, raw, TIMESTAMPTZ_ACCEPTED);
  if (sourceOffsetMinutes === 0) {
    // A UTC text (MySQL TIMESTAMP read with time_zone '+00:00'): only the calendar check is left.
    const plain = plainTimestamp(text);
    if (plain !== undefined && isCalendarOrZeroDate(text)) return `${plain}Z`;
  }
  const inf = infinity(text);
  if (inf) return inf;
  const p = parseTimestamp(text);
  if (!p) throw encodeError(column, raw, 'not a timestamp', TIMESTAMPTZ_ACCEPTED);
  let offset = p.offset;
  if (offset === undefined) {
    if (sourceOffsetMinutes === undefined || !Number.isInteger(sourceOffsetMinutes)) {
      throw encodeError(
        column,
        raw,
        'has no UTC offset and no source time-zone offset was given (encodeValue option sourceTimeZoneOffsetMinutes)',
        TIMESTAMPTZ_ACCEPTED,
      );
    }
    offset = sourceOffsetMinutes * 60;
  }
  const { civil, clock } = p;
  if (civil.month === 0 || civil.day === 0) return `${formatCivil(civil)}T${formatClock(clock)}Z`;
  if (civil.day > daysInMonth(civil.year, civil.month)) {
    throw encodeError(column, raw, 'not a calendar date', TIMESTAMPTZ_ACCEPTED);
  }
  if (offset === 0) return `${formatCivil(civil)}T${formatClock(clock)}Z`;
  const local = clock.hour * 3600 + clock.minute * 60 + clock.second - offset;
  const days = daysFromCivil(civil) + Math.floor(local / 86400);
  const sod = ((local % 86400) + 86400) % 86400;
  const utc: Clock = {
    hour: Math.floor(sod / 3600),
    minute: Math.floor(sod / 60) % 60,
    second: sod % 60,
    fraction: clock.fraction,
  };
  return `${formatCivil(civilFromDays(days))}T${formatClock(utc)}Z`;
}

const CANONICAL_RE = /^(-?\d{4,})-(\d{2})-(\d{2})(?:T(\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)(Z?))?$/;

/**
 * True when a canonical date, timestamp or timestamptz is a MySQL zero or partial-zero date
 * ("0000-00-00", "2024-00-00", "0000-00-00T00:00:00Z"): engines without such dates (PostgreSQL)
 * store NULL or reject the row; that is the sink's decision.
 */
export function isZeroDate(value: string): boolean {
  // The usual canonical shape, checked by position: "YYYY-MM-DD…" with a non-zero month and day.
  if (value.length >= 10 && value.charCodeAt(4) === 45 && value.charCodeAt(7) === 45 && value.charCodeAt(0) !== 45) {
    const monthZero = value.charCodeAt(5) === 48 && value.charCodeAt(6) === 48;
    const dayZero = value.charCodeAt(8) === 48 && value.charCodeAt(9) === 48;
    if (!monthZero && !dayZero) return false;
  }
  const m = CANONICAL_RE.exec(value);
  return m !== null && (m[2] === '00' || m[3] === '00');
}

interface CanonicalParts {
  year: number;
  /** "MM-DD" */
  monthDay: string;
  time?: string;
  utc: boolean;
}

function readCanonical(value: unknown, what: string, accepted: string): CanonicalParts | 'infinity' | '-infinity' {
  if (value === 'infinity' || value === '-infinity') return value;
  const m = typeof value === 'string' ? CANONICAL_RE.exec(value) : null;
  if (!m) throw decodeError(what, value, accepted);
  return { year: Number(m[1]), monthDay: `${m[2]}-${m[3]}`, time: m[4], utc: m[5] === 'Z' };
}

function pgDateText(p: CanonicalParts, value: string): { date: string; bc: boolean } {
  if (p.monthDay.startsWith('00') || p.monthDay.endsWith('00')) {
    throw unrepresentableError('PostgreSQL', value, 'it has no zero dates (map them to NULL or reject the row)');
  }
  return p.year <= 0
    ? { date: `${pad(1 - p.year, 4)}-${p.monthDay}`, bc: true }
    : { date: `${pad(p.year, 4)}-${p.monthDay}`, bc: false };
}

const PLAIN_CANONICAL_RE = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z?)?$/;

/** A canonical date or timestamp of the years 0001..9999 with a non-zero month and day: its text passes as it is. */
function plainCanonical(value: string): boolean {
  return (
    PLAIN_CANONICAL_RE.test(value) &&
    !value.startsWith('0000') &&
    !(value.charCodeAt(5) === 48 && value.charCodeAt(6) === 48) &&
    !(value.charCodeAt(8) === 48 && value.charCodeAt(9) === 48)
  );
}

/** Canonical date -> PostgreSQL date input ("-0043-03-15" -> "0044-03-15 BC"). Zero dates throw FERRY_APPLY. */
export function toPgDate(value: string): string {
  if (value.length === 10 && plainCanonical(value)) return value;
  const p = readCanonical(value, 'date', '"YYYY-MM-DD" or "infinity"/"-infinity"');
  if (typeof p === 'string') return p;
  if (p.time !== undefined) throw decodeError('date', value, '"YYYY-MM-DD"');
  const { date, bc } = pgDateText(p, value);
  return bc ? `${date} BC` : date;
}

/**
 * Canonical timestamp or timestamptz -> PostgreSQL input text: "YYYY-MM-DD HH:MM:SS[.ffffff]",
 * plus "+00" for a timestamptz, plus " BC" for years <= 0. Zero dates throw FERRY_APPLY.
 */
export function toPgTimestamp(value: string): string {
  if (value.length > 10 && plainCanonical(value)) {
    return value.endsWith('Z')
      ? `${value.slice(0, 10)} ${value.slice(11, -1)}+00`
      : `${value.slice(0, 10)} ${value.slice(11)}`;
  }
  const p = readCanonical(value, 'timestamp', '"YYYY-MM-DDTHH:MM:SS[.ffffff][Z]" or "infinity"/"-infinity"');
  if (typeof p === 'string') return p;
  if (p.time === undefined) throw decodeError('timestamp', value, '"YYYY-MM-DDTHH:MM:SS[.ffffff][Z]"');
  const { date, bc } = pgDateText(p, value);
  return `${date} ${p.time}${p.utc ? '+00' : ''}${bc ? ' BC' : ''}`;
}

/**
 * Canonical timestamp or timestamptz (then already UTC) -> MySQL DATETIME/TIMESTAMP text
 * "YYYY-MM-DD HH:MM:SS[.ffffff]" ("2024-01-02T03:04:05.5Z" -> "2024-01-02 03:04:05.5"; write it in
 * a session whose time_zone is "+00:00"). Zero dates pass through. Years outside 0000..9999 and
 * ±infinity throw FERRY_APPLY.
 */
export function toMysqlDatetime(value: string): string {
  const p = readCanonical(value, 'timestamp', '"YYYY-MM-DDTHH:MM:SS[.ffffff][Z]"');
  if (typeof p === 'string') throw unrepresentableError('MySQL', value, 'it has no infinite timestamps');
  if (p.time === undefined) throw decodeError('timestamp', value, '"YYYY-MM-DDTHH:MM:SS[.ffffff][Z]"');
  if (p.year < 0 || p.year > 9999) throw unrepresentableError('MySQL', value, 'years are limited to 0000..9999');
  return `${pad(p.year, 4)}-${p.monthDay} ${p.time}`;
}

/** Canonical date -> MySQL DATE text (the same string; checks the year range and rejects ±infinity). */
export function toMysqlDate(value: string): string {
  const p = readCanonical(value, 'date', '"YYYY-MM-DD"');
  if (typeof p === 'string') throw unrepresentableError('MySQL', value, 'it has no infinite dates');
  if (p.time !== undefined) throw decodeError('date', value, '"YYYY-MM-DD"');
  if (p.year < 0 || p.year > 9999) throw unrepresentableError('MySQL', value, 'years are limited to 0000..9999');
  return value;
}
