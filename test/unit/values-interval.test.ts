import { describe, expect, it } from 'vitest';
import {
  encodeInterval,
  encodeValue,
  formatInterval,
  parseInterval,
  toPgInterval,
  type ValueColumn,
} from '../../src/api/values/encode.js';
import { expectError } from '../helpers/expect-error.js';

const interval: ValueColumn = { name: 'c_interval', kind: 'interval' };

describe('interval', () => {
  // Left: PostgreSQL 15 output with IntervalStyle postgres. Right: the same values printed by
  // PostgreSQL 15 with IntervalStyle iso_8601 (checked on a real server).
  const pairs: Array<[string, string]> = [
    ['1 year 2 mons 3 days 04:05:06.789', 'P1Y2M3DT4H5M6.789S'],
    ['-1 years -2 mons +3 days -04:05:06.789', 'P-1Y-2M3DT-4H-5M-6.789S'],
    ['-10 mons', 'P-10M'],
    ['100:00:00', 'PT100H'],
    ['00:00:00', 'PT0S'],
    ['-00:00:00.5', 'PT-0.5S'],
    ['1 day -00:00:01', 'P1DT-1S'],
    ['-1 days +00:00:01', 'P-1DT1S'],
    ['-00:01:00.5', 'PT-1M-0.5S'],
    ['00:00:01', 'PT1S'],
    ['00:00:00.000001', 'PT0.000001S'],
    ['1 mon -1 days', 'P1M-1D'],
    ['-1 mons +1 day', 'P-1M1D'],
    ['-178000000 years', 'P-178000000Y'],
    ['2147483647 days 2562047788:00:54.775807', 'P2147483647DT2562047788H54.775807S'],
  ];

  it.each(pairs)('encodes postgres-style %j as %j', (postgres, iso) => {
    expect(encodeInterval(interval, postgres)).toBe(iso);
  });

  it.each(pairs)('keeps the canonical form of %j (%j) unchanged', (_postgres, iso) => {
    expect(encodeInterval(interval, iso)).toBe(iso);
  });

  it('canonicalises equal field values spelled differently', () => {
    expect(encodeInterval(interval, 'P14M')).toBe('P1Y2M');
    expect(encodeInterval(interval, '14 mons')).toBe('P1Y2M');
    expect(encodeInterval(interval, 'PT60M')).toBe('PT1H');
    expect(encodeInterval(interval, 'P2W')).toBe('P14D');
    expect(encodeInterval(interval, '01:02:03.500000')).toBe('PT1H2M3.5S');
    // PostgreSQL keeps days and hours apart: 1 day is not 24 hours.
    expect(encodeInterval(interval, '1 day')).toBe('P1D');
    expect(encodeInterval(interval, '24:00:00')).toBe('PT24H');
  });

  it('reads postgres_verbose output, including "ago"', () => {
    expect(encodeInterval(interval, '@ 1 year 2 mons 4 hours 5 mins 6.789 secs ago')).toBe('P-1Y-2MT-4H-5M-6.789S');
    expect(encodeInterval(interval, '@ 3 days')).toBe('P3D');
  });

  it('exposes the three PostgreSQL fields', () => {
    expect(parseInterval('-1 years -2 mons +3 days -04:05:06.789')).toEqual({
      months: -14,
      days: 3,
      micros: -14706789000n,
    });
    expect(formatInterval({ months: 0, days: 0, micros: 0n })).toBe('PT0S');
    expect(formatInterval({ months: 25, days: -1, micros: 1n })).toBe('P2Y1M-1DT0.000001S');
  });

  it('rejects other styles and malformed text, naming the column', () => {
    for (const bad of ['P', 'PT', 'P1.5D', '1-2 3 4:05:06', '1.5 days', 'abc', '', '1 fortnight', '00:00:00.1234567']) {
      expectError(() => encodeInterval(interval, bad), 'FERRY_ENCODE', '"c_interval"', '(interval)', 'not an interval');
    }
    expectError(() => encodeValue(interval, 3600), 'FERRY_ENCODE', 'not an interval', '3600 (number)');
  });

  it('toPgInterval passes canonical text through and refuses the rest', () => {
    expect(toPgInterval('P-1Y-2M3DT-4H-5M-6.789S')).toBe('P-1Y-2M3DT-4H-5M-6.789S');
    expectError(() => toPgInterval('1 day'), 'FERRY_DECODE', 'interval');
  });
});
