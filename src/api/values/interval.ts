/**
 * Canonical encoding of PostgreSQL intervals (docs/values.md): an ISO 8601 duration, spelled
 * exactly as PostgreSQL itself prints it with `IntervalStyle = iso_8601`.
 *
 * PostgreSQL stores an interval as three independent fields: months, days and microseconds. The
 * canonical form is a function of those three, so every spelling of the same interval ("1 year
 * 2 mons", "14 mons", "P1Y2M") encodes alike, while "1 day" and "24:00:00" (different fields in
 * PostgreSQL) stay different:
 * - months as years and months (Y, M), days (D), microseconds as hours, minutes, seconds (H, M, S);
 * - every field carries its own sign ("P-1Y-2M3DT-4H-5M-6.789S"); zero fields are left out;
 * - seconds keep up to 6 fraction digits, trailing zeros trimmed; zero is "PT0S".
 */
import { decodeError, encodeError, trimFraction, type ValueColumn } from './common.js';

/** PostgreSQL's internal interval representation. */
export interface IntervalParts {
  months: number;
  days: number;
  micros: bigint;
}

const MICROS_PER_SECOND = 1_000_000n;
const MICROS_PER_MINUTE = 60n * MICROS_PER_SECOND;
const MICROS_PER_HOUR = 60n * MICROS_PER_MINUTE;

/** "-6.789" -> -6789000n; undefined with more than 6 significant fraction digits. */
function secondsToMicros(text: string): bigint | undefined {
  const m = /^([+-]?)(\d+)(?:\.(\d+))?$/.exec(text);
  const fraction = m ? trimFraction(m[3]) : undefined;
  if (!m || fraction === undefined) return undefined;
  const micros = BigInt(m[2]!) * MICROS_PER_SECOND + BigInt(fraction.padEnd(6, '0'));
  return m[1] === '-' ? -micros : micros;
}

function int(text: string | undefined): number {
  return text === undefined ? 0 : Number(text);
}

const ISO_RE =
  /^P(?:([+-]?\d+)Y)?(?:([+-]?\d+)M)?(?:([+-]?\d+)W)?(?:([+-]?\d+)D)?(?:T(?:([+-]?\d+)H)?(?:([+-]?\d+)M)?(?:([+-]?\d+(?:\.\d+)?)S)?)?$/;

function parseIso(text: string): IntervalParts | undefined {
  const m = ISO_RE.exec(text);
  if (!m || text === 'P' || text.endsWith('T')) return undefined;
  const seconds = m[7] === undefined ? 0n : secondsToMicros(m[7]);
  if (seconds === undefined) return undefined;
  return {
    months: int(m[1]) * 12 + int(m[2]),
    days: int(m[3]) * 7 + int(m[4]),
    micros: BigInt(int(m[5])) * MICROS_PER_HOUR + BigInt(int(m[6])) * MICROS_PER_MINUTE + seconds,
  };
}

const UNITS: Record<string, 'year' | 'month' | 'week' | 'day' | 'hour' | 'minute' | 'second'> = {
  year: 'year',
  years: 'year',
  mon: 'month',
  mons: 'month',
  month: 'month',
  months: 'month',
  week: 'week',
  weeks: 'week',
  day: 'day',
  days: 'day',
  hour: 'hour',
  hours: 'hour',
  min: 'minute',
  mins: 'minute',
  minute: 'minute',
  minutes: 'minute',
  sec: 'second',
  secs: 'second',
  second: 'second',
  seconds: 'second',
};

const CLOCK_RE = /^([+-]?)(\d+):(\d{2})(?::(\d{2}(?:\.\d+)?))?$/;

/**
 * PostgreSQL `postgres` style ("1 year 2 mons -3 days +04:05:06.789") and `postgres_verbose`
 * style ("@ 1 year 2 mons 4 hours 5 mins 6.789 secs ago").
 */
function parsePostgres(text: string): IntervalParts | undefined {
  const tokens = text.trim().split(/\s+/);
  if (tokens[0] === '@') tokens.shift();
  const ago = tokens[tokens.length - 1] === 'ago';
  if (ago) tokens.pop();
  if (tokens.length === 0) return undefined;
  const parts: IntervalParts = { months: 0, days: 0, micros: 0n };
  let clockSeen = false;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const clock = CLOCK_RE.exec(token);
    if (clock) {
      if (clockSeen) return undefined;
      clockSeen = true;
      const seconds = secondsToMicros(clock[4] ?? '0');
      if (seconds === undefined) return undefined;
      const micros = BigInt(clock[2]!) * MICROS_PER_HOUR + BigInt(clock[3]!) * MICROS_PER_MINUTE + seconds;
      parts.micros += clock[1] === '-' ? -micros : micros;
      continue;
    }
    const unit = UNITS[(tokens[i + 1] ?? '').toLowerCase()];
    if (!unit || !/^[+-]?\d+(\.\d+)?$/.test(token)) return undefined;
    i++;
    if (unit === 'second') {
      const micros = secondsToMicros(token);
      if (micros === undefined) return undefined;
      parts.micros += micros;
      continue;
    }
    if (!/^[+-]?\d+$/.test(token)) return undefined;
    const n = Number(token);
    if (unit === 'year') parts.months += n * 12;
    else if (unit === 'month') parts.months += n;
    else if (unit === 'week') parts.days += n * 7;
    else if (unit === 'day') parts.days += n;
    else if (unit === 'hour') parts.micros += BigInt(n) * MICROS_PER_HOUR;
    else parts.micros += BigInt(n) * MICROS_PER_MINUTE;
  }
  return ago ? { months: -parts.months, days: -parts.days, micros: -parts.micros } : parts;
}

/** Reads PostgreSQL interval text (iso_8601, postgres or postgres_verbose style) into its fields. */
export function parseInterval(text: string): IntervalParts | undefined {
  const parts = text.startsWith('P') ? parseIso(text) : parsePostgres(text);
  if (!parts || !Number.isSafeInteger(parts.months) || !Number.isSafeInteger(parts.days)) return undefined;
  return { months: parts.months + 0, days: parts.days + 0, micros: parts.micros };
}

function part(value: number | bigint, unit: string): string {
  return value === 0 || value === 0n ? '' : `${value}${unit}`;
}

/** The canonical ISO 8601 text of an interval's fields (PostgreSQL's iso_8601 output). */
export function formatInterval({ months, days, micros }: IntervalParts): string {
  if (months === 0 && days === 0 && micros === 0n) return 'PT0S';
  const years = Math.trunc(months / 12);
  const hours = micros / MICROS_PER_HOUR;
  const minutes = (micros % MICROS_PER_HOUR) / MICROS_PER_MINUTE;
  const secondsMicros = micros % MICROS_PER_MINUTE;
  let out = `P${part(years, 'Y')}${part(months % 12, 'M')}${part(days, 'D')}`;
  if (micros !== 0n) out += 'T';
  out += `${part(hours, 'H')}${part(minutes, 'M')}`;
  if (secondsMicros !== 0n) {
    const abs = secondsMicros < 0n ? -secondsMicros : secondsMicros;
    const fraction = String(abs % MICROS_PER_SECOND)
      .padStart(6, '0')
      .replace(/0+$/, '');
    out += `${secondsMicros < 0n ? '-' : ''}${abs / MICROS_PER_SECOND}${fraction ? `.${fraction}` : ''}S`;
  }
  return out;
}

const INTERVAL_ACCEPTED =
  'PostgreSQL interval text in IntervalStyle postgres ("1 year 2 mons -3 days +04:05:06.789"), postgres_verbose or iso_8601 ("P1Y2M-3DT4H5M6.789S")';

/** INTERVAL: the canonical ISO 8601 duration (see the module comment). */
export function encodeInterval(column: ValueColumn, raw: unknown): string {
  const parts = typeof raw === 'string' ? parseInterval(raw) : undefined;
  if (!parts) throw encodeError(column, raw, 'not an interval', INTERVAL_ACCEPTED);
  return formatInterval(parts);
}

/**
 * Canonical interval -> PostgreSQL interval input: the ISO text itself, which PostgreSQL accepts
 * as is; checked so that a non-canonical value fails here (FERRY_DECODE) rather than in the target.
 */
export function toPgInterval(value: string): string {
  const parts = typeof value === 'string' && value.startsWith('P') ? parseIso(value) : undefined;
  if (!parts) throw decodeError('interval', value, 'an ISO 8601 duration such as "P1Y2M3DT4H5M6.789S"');
  return value;
}
