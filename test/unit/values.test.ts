import { describe, expect, it } from 'vitest';
import { FerryError } from '../../src/api/errors.js';
import { UNCHANGED } from '../../src/api/event.js';
import * as api from '../../src/api/index.js';
import type { JsonValue } from '../../src/api/json.js';
import { COLUMN_KINDS, type ColumnSchema } from '../../src/api/schema.js';
import {
  encodeBoolean,
  encodeEnum,
  encodeJson,
  encodeSet,
  encodeString,
  encodeValue,
  type ValueColumn,
} from '../../src/api/values/encode.js';
import { kindColumn as col } from '../helpers/expect-error.js';

function catchError(fn: () => unknown): FerryError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FerryError);
    return err as FerryError;
  }
  throw new Error('expected a FerryError, nothing was thrown');
}

function expectEncodeError(fn: () => unknown, column: ValueColumn, ...parts: string[]): FerryError {
  const err = catchError(fn);
  expect(err.code).toBe('FERRY_ENCODE');
  for (const part of [`"${column.name}"`, `(${column.kind})`, ...parts]) expect(err.message).toContain(part);
  return err;
}

describe('encodeValue: NULL, UNCHANGED and missing values', () => {
  it.each(COLUMN_KINDS)('encodes NULL as null for %s', (kind) => {
    expect(encodeValue(col(kind, { elementKind: 'int32' }), null)).toBeNull();
  });

  it.each(COLUMN_KINDS)('passes UNCHANGED through for %s', (kind) => {
    expect(encodeValue(col(kind, { elementKind: 'int32' }), UNCHANGED)).toBe(UNCHANGED);
  });

  it.each(COLUMN_KINDS)('refuses undefined for %s, never turning it into NULL', (kind) => {
    expectEncodeError(() => encodeValue(col(kind, { elementKind: 'int32' }), undefined), col(kind), 'UNCHANGED');
  });

  it('accepts a full ColumnSchema', () => {
    const column: ColumnSchema = { name: 'qty', kind: 'int64', sourceType: 'bigint', nullable: false };
    expect(encodeValue(column, '9007199254740993')).toBe('9007199254740993');
  });

  it('is exported through src/api for connectors', () => {
    expect(api.encodeValue).toBe(encodeValue);
    expect(typeof api.parsePgArray).toBe('function');
    expect(typeof api.toMysqlDatetime).toBe('function');
  });
});

describe('encodeValue: error messages', () => {
  it('name the column, kind, value and what is accepted, with details', () => {
    const price: ValueColumn = { name: 'price', kind: 'decimal' };
    const err = expectEncodeError(() => encodeValue(price, 1.5), price, '1.5 (number)', 'Accepted:');
    expect(err.details).toEqual({ column: 'price', kind: 'decimal', value: '1.5 (number)' });
    expect(err.retriable).toBe(false);
  });

  it('truncate long values to about 60 characters', () => {
    const n: ValueColumn = { name: 'n', kind: 'int32' };
    const err = expectEncodeError(() => encodeValue(n, 'x'.repeat(500)), n, `"${'x'.repeat(40)}`, '... (string)');
    expect(err.message).not.toContain('x'.repeat(61));
    expect(String(err.details['value']).length).toBeLessThanOrEqual(60 + ' (string)'.length);
  });

  it('describe Buffers, bigints and Dates', () => {
    const b: ValueColumn = { name: 'b', kind: 'boolean' };
    expectEncodeError(() => encodeValue(b, Buffer.from([1, 2])), b, '2 bytes 0x0102 (Buffer)');
    expectEncodeError(() => encodeValue(b, 7n), b, '7n (bigint)');
    expectEncodeError(() => encodeValue(col('date'), new Date(0)), col('date'), '1970-01-01T00:00:00.000Z (Date)');
  });
});

describe('boolean', () => {
  const b = col('boolean');
  it('accepts booleans, PostgreSQL t/f and MySQL 1/0', () => {
    expect(encodeBoolean(b, true)).toBe(true);
    expect(encodeBoolean(b, false)).toBe(false);
    expect(encodeBoolean(b, 't')).toBe(true);
    expect(encodeBoolean(b, 'f')).toBe(false);
    expect(encodeBoolean(b, 'true')).toBe(true);
    expect(encodeBoolean(b, 'FALSE')).toBe(false);
    expect(encodeBoolean(b, 1)).toBe(true);
    expect(encodeBoolean(b, 0)).toBe(false);
    expect(encodeBoolean(b, '1')).toBe(true);
    expect(encodeBoolean(b, 0n)).toBe(false);
    expect(encodeBoolean(b, Buffer.from([1]))).toBe(true);
    expect(encodeBoolean(b, Buffer.from([0]))).toBe(false);
  });
  it('refuses other integers rather than losing them', () => {
    expectEncodeError(() => encodeBoolean(b, 2), b, 'not a boolean', 'integer kind');
    expectEncodeError(() => encodeBoolean(b, -1), b, 'not a boolean');
    expectEncodeError(() => encodeBoolean(b, 'yes'), b, 'not a boolean');
    expectEncodeError(() => encodeBoolean(b, Buffer.from([2])), b, 'not a boolean');
  });
  it('keeps 1/0 integers as integers when the kind is an integer', () => {
    expect(encodeValue(col('int8'), 1)).toBe(1);
  });
});

describe('string', () => {
  const s = col('string');
  it('keeps UTF-8 text as is, 4-byte emoji included', () => {
    const text = 'héllo 😀 𝄞 中文';
    expect(encodeString(s, text)).toBe(text);
    expect(Buffer.byteLength(encodeString(s, text) as string)).toBe(Buffer.byteLength(text));
    expect(encodeString(s, Buffer.from('😀', 'utf8'))).toBe('😀');
  });
  it('keeps NUL characters (the sink decides what to do with them)', () => {
    expect(encodeString(s, 'a\u0000b')).toBe('a\u0000b');
  });
  it('keeps the empty string (not NULL)', () => {
    expect(encodeString(s, '')).toBe('');
  });
  it('refuses non-strings and invalid UTF-8', () => {
    expectEncodeError(() => encodeString(s, 5), s, 'not a string');
    expectEncodeError(() => encodeString(s, Buffer.from([0xff, 0xfe])), s, 'not valid UTF-8');
  });
});

describe('json', () => {
  const j = col('json');
  it('keeps JSON text byte for byte', () => {
    expect(encodeJson(j, '{"b":1, "a":1.10}')).toBe('{"b":1, "a":1.10}');
    expect(encodeJson(j, ' [1, 2] ')).toBe(' [1, 2] ');
    expect(encodeJson(j, '12345678901234567890.5')).toBe('12345678901234567890.5');
    expect(encodeJson(j, 'null')).toBe('null');
    expect(encodeJson(j, Buffer.from('{"x":"😀"}'))).toBe('{"x":"😀"}');
  });
  it('serialises values a driver already parsed, compactly and in the driver key order', () => {
    expect(encodeJson(j, { b: 1, a: [1.1, true, null, 'x'] })).toBe('{"b":1,"a":[1.1,true,null,"x"]}');
    expect(encodeJson(j, { n: 12345678901234567890n })).toBe('{"n":12345678901234567890}');
    expect(encodeJson(j, 3)).toBe('3');
    expect(encodeJson(j, false)).toBe('false');
    expect(encodeJson(j, [])).toBe('[]');
  });
  it('refuses what JSON cannot hold', () => {
    expectEncodeError(() => encodeJson(j, { x: Number.NaN }), j, 'JSON has no NaN');
    expectEncodeError(() => encodeJson(j, { d: new Date(0) }), j, 'not a JSON value');
  });
});

describe('enum and set', () => {
  it('enum is the label string, commas included', () => {
    const e = col('enum', { enumValues: ['a,b', 'c'] });
    expect(encodeEnum(e, 'a,b')).toBe('a,b');
    expect(encodeEnum(e, '')).toBe('');
    expectEncodeError(() => encodeEnum(e, 1), e, 'not an enum label');
  });
  it('set is an array of member strings', () => {
    const s = col('set', { enumValues: ['x', 'y', 'z'] });
    expect(encodeSet(s, 'x,z')).toEqual(['x', 'z']);
    expect(encodeSet(s, 'y')).toEqual(['y']);
    expect(encodeSet(s, '')).toEqual([]);
    expect(encodeSet(s, ['x', 'y'])).toEqual(['x', 'y']);
    expect(encodeValue(s, 'x,y,z')).toEqual(['x', 'y', 'z']);
    expectEncodeError(() => encodeSet(s, 3), s, 'not a set');
    expectEncodeError(() => encodeSet(s, ['x', 1]), s, 'not a set');
  });
});

describe('canonical values encode to themselves', () => {
  const cases: Array<[ValueColumn, JsonValue]> = [
    [col('boolean'), true],
    [col('int32'), -5],
    [col('int64'), '-9223372036854775808'],
    [col('uint64'), '18446744073709551615'],
    [col('decimal'), '-1.500'],
    [col('decimal'), 'NaN'],
    [col('float32'), 0.1],
    [col('float64'), 'Infinity'],
    [col('string'), 'a\u0000😀'],
    [col('uuid'), 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
    [col('json'), '{"b":1, "a":1.10}'],
    [col('enum'), 'a,b'],
    [col('set'), ['x', 'z']],
    [col('bit', { length: 10 }), '1000000001'],
    [col('year'), 2024],
    [col('date'), '-0043-03-15'],
    [col('date'), '0000-00-00'],
    [col('time'), '-838:59:59'],
    [col('timetz'), '04:05:06.789-08:00'],
    [col('timestamp'), '2024-01-02T03:04:05.000001'],
    [col('timestamptz'), '2024-01-02T03:04:05.5Z'],
    [col('timestamptz'), '-infinity'],
    [col('interval'), 'P-1Y-2M3DT-4H-5M-6.789S'],
    [col('array', { elementKind: 'timestamptz' }), [['2024-01-02T03:04:05Z', null]]],
  ];
  it.each(cases)('%o: %j', (column, canonical) => {
    expect(encodeValue(column, canonical)).toEqual(canonical);
  });
});
