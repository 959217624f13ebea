import { describe, expect, it } from 'vitest';
import {
  encodeDate,
  encodeTime,
  encodeTimestamp,
  encodeTimestampTz,
  encodeTimeTz,
  encodeValue,
  isZeroDate,
  toMysqlDate,
  toMysqlDatetime,
  toPgDate,
  toPgTimestamp,
} from '../../src/api/values/encode.js';
import { kindColumn as col, expectEncodeError, expectError } from '../helpers/expect-error.js';

describe('date', () => {
  const date = col('date');

  it('keeps YYYY-MM-DD', () => {
    expect(encodeDate(date, '2024-02-29')).toBe('2024-02-29');
    expect(encodeDate(date, '1000-01-01')).toBe('1000-01-01');
    expect(encodeDate(date, '9999-12-31')).toBe('9999-12-31');
    expect(encodeDate(date, '10000-01-01')).toBe('10000-01-01');
  });

  it('keeps MySQL zero and partial-zero dates as given', () => {
    expect(encodeDate(date, '0000-00-00')).toBe('0000-00-00');
    expect(encodeDate(date, '2024-00-00')).toBe('2024-00-00');
    expect(encodeDate(date, '2024-05-00')).toBe('2024-05-00');
    expect(encodeDate(date, '2024-00-15')).toBe('2024-00-15');
    expect(isZeroDate('0000-00-00')).toBe(true);
    expect(isZeroDate('2024-05-00')).toBe(true);
    expect(isZeroDate('2024-05-01')).toBe(false);
    expect(isZeroDate('0000-01-01')).toBe(false);
  });

  it('writes PostgreSQL BC dates with astronomical years', () => {
    expect(encodeDate(date, '0044-03-15 BC')).toBe('-0043-03-15');
    expect(encodeDate(date, '0001-01-01 BC')).toBe('0000-01-01');
    expect(encodeDate(date, '4713-01-01 BC')).toBe('-4712-01-01');
    expect(encodeDate(date, '-0043-03-15')).toBe('-0043-03-15');
  });

  it('maps ±infinity to fixed strings', () => {
    expect(encodeDate(date, 'infinity')).toBe('infinity');
    expect(encodeDate(date, '-infinity')).toBe('-infinity');
    expect(encodeDate(date, 'Infinity')).toBe('infinity');
  });

  it('rejects what is not a date, and JS Dates', () => {
    expectEncodeError(() => encodeDate(date, '2024-13-01'), date, 'not a date');
    expectEncodeError(() => encodeDate(date, '2024-01-32'), date, 'not a date');
    expectEncodeError(() => encodeDate(date, '2024-1-1'), date, 'not a date');
    expectEncodeError(() => encodeDate(date, '0000-01-01 BC'), date, 'not a date');
    expectEncodeError(() => encodeDate(date, '2024-01-02 00:00:00'), date, 'not a date');
    expectEncodeError(() => encodeDate(date, new Date(0)), date, 'milliseconds only');
  });
});

describe('time', () => {
  const time = col('time', { fsp: 6 });

  it('keeps HH:MM:SS and up to six fraction digits, trimming trailing zeros', () => {
    expect(encodeTime(time, '03:04:05')).toBe('03:04:05');
    expect(encodeTime(time, '03:04:05.000000')).toBe('03:04:05');
    expect(encodeTime(time, '03:04:05.500000')).toBe('03:04:05.5');
    expect(encodeTime(time, '03:04:05.000001')).toBe('03:04:05.000001');
    expect(encodeTime(time, '23:59:59.999999')).toBe('23:59:59.999999');
    expect(encodeTime(time, '3:04:05')).toBe('03:04:05');
    expect(encodeTime(time, '24:00:00')).toBe('24:00:00');
  });

  it('keeps MySQL negative and beyond-24h times', () => {
    expect(encodeTime(time, '-01:30:00.500000')).toBe('-01:30:00.5');
    expect(encodeTime(time, '838:59:59.000000')).toBe('838:59:59');
    expect(encodeTime(time, '-838:59:59')).toBe('-838:59:59');
    expect(encodeTime(time, '100:00:00')).toBe('100:00:00');
    expect(encodeTime(time, '-00:00:00.000001')).toBe('-00:00:00.000001');
    expect(encodeTime(time, '-00:00:00')).toBe('00:00:00');
  });

  it('rejects malformed times and lost digits', () => {
    expectEncodeError(() => encodeTime(time, '839:00:00'), time, 'not a time');
    expectEncodeError(() => encodeTime(time, '01:60:00'), time, 'not a time');
    expectEncodeError(() => encodeTime(time, '01:00:60'), time, 'not a time');
    expectEncodeError(() => encodeTime(time, '01:00:00.1234567'), time, 'not a time');
    expectEncodeError(() => encodeTime(time, 3600), time, 'not a string');
  });
});

describe('timetz', () => {
  const timetz = col('timetz');

  it('keeps the offset as given, spelled ±HH:MM', () => {
    expect(encodeTimeTz(timetz, '04:05:06.789-08')).toBe('04:05:06.789-08:00');
    expect(encodeTimeTz(timetz, '04:05:06+05:30')).toBe('04:05:06+05:30');
    expect(encodeTimeTz(timetz, '04:05:06.500000+0530')).toBe('04:05:06.5+05:30');
    expect(encodeTimeTz(timetz, '04:05:06Z')).toBe('04:05:06+00:00');
    expect(encodeTimeTz(timetz, '04:05:06-00')).toBe('04:05:06+00:00');
    expect(encodeTimeTz(timetz, '12:00:00+00:19:32')).toBe('12:00:00+00:19:32');
    expect(encodeTimeTz(timetz, '04:05:06+05:30')).toBe(encodeTimeTz(timetz, '04:05:06+05:30'));
  });

  it('rejects a time without an offset', () => {
    expectEncodeError(() => encodeTimeTz(timetz, '04:05:06'), timetz, 'not a time with zone');
    expectEncodeError(() => encodeTimeTz(timetz, '04:05:06+16'), timetz, 'not a time with zone');
    expectEncodeError(() => encodeTimeTz(timetz, '24:00:01+00'), timetz, 'not a time with zone');
    expect(encodeTimeTz(timetz, '24:00:00+00')).toBe('24:00:00+00:00');
  });
});

describe('timestamp (no zone)', () => {
  const ts = col('timestamp');

  it('uses the T separator and trims fraction zeros, so engines agree', () => {
    const mariadb = encodeTimestamp(ts, '2024-01-02 03:04:05.000000');
    const postgres = encodeTimestamp(ts, '2024-01-02 03:04:05');
    expect(mariadb).toBe('2024-01-02T03:04:05');
    expect(postgres).toBe(mariadb);
  });

  it('keeps 0 to 6 fraction digits', () => {
    const base = '2024-01-02 03:04:05';
    expect(encodeTimestamp(ts, `${base}.1`)).toBe('2024-01-02T03:04:05.1');
    expect(encodeTimestamp(ts, `${base}.12`)).toBe('2024-01-02T03:04:05.12');
    expect(encodeTimestamp(ts, `${base}.123`)).toBe('2024-01-02T03:04:05.123');
    expect(encodeTimestamp(ts, `${base}.1234`)).toBe('2024-01-02T03:04:05.1234');
    expect(encodeTimestamp(ts, `${base}.12345`)).toBe('2024-01-02T03:04:05.12345');
    expect(encodeTimestamp(ts, `${base}.123456`)).toBe('2024-01-02T03:04:05.123456');
    expect(encodeTimestamp(ts, `${base}.000001`)).toBe('2024-01-02T03:04:05.000001');
    expect(encodeTimestamp(ts, `${base}.100000`)).toBe('2024-01-02T03:04:05.1');
    expect(encodeTimestamp(ts, `${base}.1234560`)).toBe('2024-01-02T03:04:05.123456');
    expectEncodeError(() => encodeTimestamp(ts, `${base}.1234567`), ts, 'not a timestamp');
  });

  it('accepts its own canonical form', () => {
    expect(encodeTimestamp(ts, '2024-01-02T03:04:05.5')).toBe('2024-01-02T03:04:05.5');
  });

  it('keeps MySQL zero datetimes, BC years and ±infinity', () => {
    expect(encodeTimestamp(ts, '0000-00-00 00:00:00')).toBe('0000-00-00T00:00:00');
    expect(encodeTimestamp(ts, '2024-00-00 10:00:00.000000')).toBe('2024-00-00T10:00:00');
    expect(encodeTimestamp(ts, '0044-03-15 10:00:00.5 BC')).toBe('-0043-03-15T10:00:00.5');
    expect(encodeTimestamp(ts, 'infinity')).toBe('infinity');
    expect(encodeTimestamp(ts, '-infinity')).toBe('-infinity');
    expect(isZeroDate('0000-00-00T00:00:00')).toBe(true);
  });

  it('rejects zones and malformed values', () => {
    expectEncodeError(() => encodeTimestamp(ts, '2024-01-02 03:04:05+02'), ts, 'carries a zone');
    expectEncodeError(() => encodeTimestamp(ts, '2024-01-02T03:04:05Z'), ts, 'carries a zone');
    expectEncodeError(() => encodeTimestamp(ts, '2024-01-02 24:00:00'), ts, 'not a timestamp');
    expectEncodeError(() => encodeTimestamp(ts, '2024-01-02'), ts, 'not a timestamp');
    expectEncodeError(() => encodeTimestamp(ts, new Date()), ts, 'dateStrings');
  });
});

describe('timestamptz', () => {
  const tz = col('timestamptz');

  it('converts PostgreSQL offsets to UTC exactly, keeping microseconds', () => {
    expect(encodeTimestampTz(tz, '2024-01-02 03:04:05.123456+02')).toBe('2024-01-02T01:04:05.123456Z');
    expect(encodeTimestampTz(tz, '2024-01-02 03:04:05+00')).toBe('2024-01-02T03:04:05Z');
    expect(encodeTimestampTz(tz, '2024-01-02 03:04:05.000001-03:00')).toBe('2024-01-02T06:04:05.000001Z');
  });

  it('crosses midnight, month ends, leap days and year boundaries', () => {
    expect(encodeTimestampTz(tz, '2024-01-01 00:10:00+05:30')).toBe('2023-12-31T18:40:00Z');
    expect(encodeTimestampTz(tz, '2023-12-31 22:30:00.5-03:00')).toBe('2024-01-01T01:30:00.5Z');
    expect(encodeTimestampTz(tz, '2024-03-01 10:00:00+14')).toBe('2024-02-29T20:00:00Z');
    expect(encodeTimestampTz(tz, '1900-03-01 01:00:00+02')).toBe('1900-02-28T23:00:00Z');
    expect(encodeTimestampTz(tz, '2024-01-01 00:00:00+05:30:15')).toBe('2023-12-31T18:29:45Z');
    expect(encodeTimestampTz(tz, '9999-12-31 23:59:59.999999-01')).toBe('10000-01-01T00:59:59.999999Z');
  });

  // ~98,000 conversions: about 2 s on an idle 2-core machine, over vitest's default 5 s limit when
  // the machine is busy. The limit is for hung tests, not a speed assertion (speed lives in bench/).
  it('agrees with the proleptic Gregorian calendar on every 37th day of years 1..9999', { timeout: 60_000 }, () => {
    // JS Date serves as the oracle here only: both sides use whole seconds.
    const pad = (n: number, w = 2) => String(n).padStart(w, '0');
    const day = 86_400_000;
    const start = new Date(0).setUTCFullYear(1, 0, 1); // Date.UTC(1, ...) would mean 1901
    const end = Date.UTC(9999, 11, 31);
    let checked = 0;
    for (let t = start; t <= end; t += 37 * day) {
      const d = new Date(t);
      const local = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} 00:30:00.25+01`;
      const u = new Date(t - 30 * 60_000);
      const expected = `${pad(u.getUTCFullYear(), 4)}-${pad(u.getUTCMonth() + 1)}-${pad(u.getUTCDate())}T23:30:00.25Z`;
      if (u.getUTCFullYear() < 1) continue;
      expect(encodeTimestampTz(tz, local)).toBe(expected);
      checked++;
    }
    expect(checked).toBeGreaterThan(98_000);
  });

  it('handles February dates across the month start', () => {
    expect(encodeTimestampTz(tz, '2024-02-15 01:00:00+02')).toBe('2024-02-14T23:00:00Z');
    expect(encodeTimestampTz(tz, '2023-02-28 23:00:00-02')).toBe('2023-03-01T01:00:00Z');
    expect(encodeTimestampTz(tz, '2024-02-28 23:00:00-02')).toBe('2024-02-29T01:00:00Z');
  });

  it('handles BC instants (checked against PostgreSQL 15)', () => {
    expect(encodeTimestampTz(tz, '0044-03-15 10:00:00+02 BC')).toBe('-0043-03-15T08:00:00Z');
    expect(encodeTimestampTz(tz, '0001-01-01 01:00:00+02')).toBe('0000-12-31T23:00:00Z');
    expect(encodeTimestampTz(tz, '0001-03-01 01:00:00+02 BC')).toBe('0000-02-29T23:00:00Z');
    expect(encodeTimestampTz(tz, '0101-03-01 01:00:00+02 BC')).toBe('-0100-02-28T23:00:00Z');
  });

  it('reads MySQL TIMESTAMP text in the given source offset', () => {
    expect(encodeTimestampTz(tz, '2024-01-02 03:04:05.123456', 0)).toBe('2024-01-02T03:04:05.123456Z');
    expect(encodeTimestampTz(tz, '2024-01-01 03:00:00', 330)).toBe('2023-12-31T21:30:00Z');
    expect(encodeTimestampTz(tz, '2024-12-31 22:00:00.000000', -180)).toBe('2025-01-01T01:00:00Z');
    expect(encodeValue(tz, '2024-01-02 03:04:05', { sourceTimeZoneOffsetMinutes: 60 })).toBe('2024-01-02T02:04:05Z');
    // An explicit offset wins over the source offset.
    expect(encodeTimestampTz(tz, '2024-01-02 03:04:05+00', 60)).toBe('2024-01-02T03:04:05Z');
  });

  it('keeps the MySQL zero timestamp as given, in any source offset', () => {
    expect(encodeTimestampTz(tz, '0000-00-00 00:00:00', 0)).toBe('0000-00-00T00:00:00Z');
    expect(encodeTimestampTz(tz, '0000-00-00 00:00:00.000000', 120)).toBe('0000-00-00T00:00:00Z');
    expect(isZeroDate('0000-00-00T00:00:00Z')).toBe(true);
  });

  it('maps ±infinity and accepts its own canonical form', () => {
    expect(encodeTimestampTz(tz, 'infinity')).toBe('infinity');
    expect(encodeTimestampTz(tz, '-infinity')).toBe('-infinity');
    expect(encodeTimestampTz(tz, '2024-01-02T01:04:05.123456Z')).toBe('2024-01-02T01:04:05.123456Z');
    expect(encodeTimestampTz(tz, '-0043-03-15T08:00:00Z')).toBe('-0043-03-15T08:00:00Z');
  });

  it('rejects a missing offset, impossible dates and lost digits', () => {
    expectEncodeError(() => encodeTimestampTz(tz, '2024-01-02 03:04:05'), tz, 'sourceTimeZoneOffsetMinutes');
    expectEncodeError(() => encodeTimestampTz(tz, '2024-02-30 00:00:00+01'), tz, 'not a calendar date');
    expectEncodeError(() => encodeTimestampTz(tz, '2024-01-02 03:04:05.1234567+00'), tz, 'not a timestamp');
    expectEncodeError(() => encodeTimestampTz(tz, new Date()), tz, 'milliseconds only');
  });
});

describe('temporal decoders for sinks', () => {
  it('toMysqlDatetime uses a space and drops Z', () => {
    expect(toMysqlDatetime('2024-01-02T03:04:05.5')).toBe('2024-01-02 03:04:05.5');
    expect(toMysqlDatetime('2024-01-02T03:04:05.123456Z')).toBe('2024-01-02 03:04:05.123456');
    expect(toMysqlDatetime('0000-00-00T00:00:00')).toBe('0000-00-00 00:00:00');
    expectError(() => toMysqlDatetime('-0043-03-15T08:00:00Z'), 'FERRY_APPLY', 'MySQL', '0000..9999');
    expectError(() => toMysqlDatetime('infinity'), 'FERRY_APPLY', 'infinite');
    expectError(() => toMysqlDatetime('2024-01-02 03:04:05'), 'FERRY_DECODE');
  });

  it('toMysqlDate checks the range', () => {
    expect(toMysqlDate('2024-01-02')).toBe('2024-01-02');
    expect(toMysqlDate('0000-00-00')).toBe('0000-00-00');
    expectError(() => toMysqlDate('10000-01-01'), 'FERRY_APPLY');
    expectError(() => toMysqlDate('-infinity'), 'FERRY_APPLY');
  });

  it('toPgDate and toPgTimestamp write BC and refuse zero dates', () => {
    expect(toPgDate('2024-01-02')).toBe('2024-01-02');
    expect(toPgDate('-0043-03-15')).toBe('0044-03-15 BC');
    expect(toPgDate('0000-01-01')).toBe('0001-01-01 BC');
    expect(toPgDate('infinity')).toBe('infinity');
    expect(toPgTimestamp('2024-01-02T03:04:05.5')).toBe('2024-01-02 03:04:05.5');
    expect(toPgTimestamp('2024-01-02T03:04:05.5Z')).toBe('2024-01-02 03:04:05.5+00');
    expect(toPgTimestamp('-0043-03-15T08:00:00Z')).toBe('0044-03-15 08:00:00+00 BC');
    expect(toPgTimestamp('-infinity')).toBe('-infinity');
    expectError(() => toPgDate('0000-00-00'), 'FERRY_APPLY', 'PostgreSQL', 'zero dates');
    expectError(() => toPgTimestamp('2024-05-00T00:00:00Z'), 'FERRY_APPLY', 'zero dates');
    expectError(() => toPgDate('2024-01-02T00:00:00'), 'FERRY_DECODE');
  });
});

describe('the usual timestamp shapes (read by position, without a parse)', () => {
  const ts = col('timestamp');
  const tz = col('timestamptz');

  it('writes them exactly as the general rules do', () => {
    expect(encodeTimestamp(ts, '2024-05-06 07:08:09')).toBe('2024-05-06T07:08:09');
    expect(encodeTimestamp(ts, '2024-05-06T07:08:09')).toBe('2024-05-06T07:08:09');
    expect(encodeTimestamp(ts, '2024-05-06 07:08:09.120000')).toBe('2024-05-06T07:08:09.12');
    expect(encodeTimestamp(ts, '2024-05-06 07:08:09.000000')).toBe('2024-05-06T07:08:09');
    expect(encodeTimestamp(ts, '0000-00-00 00:00:00.000000')).toBe('0000-00-00T00:00:00');
    expect(encodeTimestampTz(tz, '2024-05-06 23:59:59.000001', 0)).toBe('2024-05-06T23:59:59.000001Z');
    expect(encodeTimestampTz(tz, '2024-02-00 10:00:00', 0)).toBe('2024-02-00T10:00:00Z');
    expect(encodeDate(col('date'), '2024-12-31')).toBe('2024-12-31');
  });

  it('still refuses what the general rules refuse', () => {
    expectEncodeError(() => encodeTimestampTz(tz, '2023-02-29 10:00:00', 0), tz, 'not a calendar date');
    expectEncodeError(() => encodeTimestamp(ts, '2024-05-06 24:00:00'), ts, 'not a timestamp');
    expectEncodeError(() => encodeTimestamp(ts, '2024-13-06 10:00:00'), ts, 'not a timestamp');
    expectEncodeError(() => encodeTimestamp(ts, '2024-05-06 10:00:00.1234567'), ts, 'not a timestamp');
  });

  it('tells zero dates by position as the pattern does', () => {
    expect(isZeroDate('2024-05-06T07:08:09')).toBe(false);
    expect(isZeroDate('2024-00-06')).toBe(true);
    expect(isZeroDate('2024-05-00T07:08:09Z')).toBe(true);
    expect(isZeroDate('2024-05-0')).toBe(false);
  });
});
