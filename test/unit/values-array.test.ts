import { describe, expect, it } from 'vitest';
import type { ColumnKind } from '../../src/api/schema.js';
import { encodeArray, encodeValue, parsePgArray, type ValueColumn } from '../../src/api/values/encode.js';
import { expectError } from '../helpers/expect-error.js';

const arrayOf = (elementKind: ColumnKind, extra: Partial<ValueColumn> = {}): ValueColumn => ({
  name: 'c_array',
  kind: 'array',
  elementKind,
  ...extra,
});

describe('parsePgArray', () => {
  it('reads plain elements and NULL', () => {
    expect(parsePgArray('{1,2,NULL}')).toEqual(['1', '2', null]);
    expect(parsePgArray('{null,NuLl}')).toEqual([null, null]);
    expect(parsePgArray('{}')).toEqual([]);
  });

  it('reads quoted elements exactly as PostgreSQL 15 prints them', () => {
    // select array['a b','c"d', NULL, 'NULL', '', ' x ', 'a,b', 'a\b', '{}']
    const literal = '{"a b","c\\"d",NULL,"NULL",""," x ","a,b","a\\\\b","{}"}';
    expect(parsePgArray(literal)).toEqual(['a b', 'c"d', null, 'NULL', '', ' x ', 'a,b', 'a\\b', '{}']);
  });

  it('trims unquoted whitespace but keeps inner and escaped characters', () => {
    expect(parsePgArray('{ a , b c }')).toEqual(['a', 'b c']);
    expect(parsePgArray('{a\\,b,\\ x\\ }')).toEqual(['a,b', ' x ']);
    expect(parsePgArray('{\\NULL}')).toEqual(['NULL']);
    expect(parsePgArray(' { 1 } ')).toEqual(['1']);
  });

  it('reads nested arrays and other delimiters', () => {
    expect(parsePgArray('{{1,2},{3,4}}')).toEqual([
      ['1', '2'],
      ['3', '4'],
    ]);
    expect(parsePgArray('{{{a}},{{NULL}}}')).toEqual([[['a']], [[null]]]);
    expect(parsePgArray('{(1,1),(0,0);(2,2),(1,1)}', 'boxes', ';')).toEqual(['(1,1),(0,0)', '(2,2),(1,1)']);
  });

  it('rejects malformed literals and explicit bounds', () => {
    expectError(
      () => parsePgArray('[0:1]={1,2}', 'column "xs"'),
      'FERRY_DECODE',
      'column "xs"',
      'explicit array bounds',
    );
    expectError(() => parsePgArray('{1,2'), 'FERRY_DECODE', 'unterminated array');
    expectError(() => parsePgArray('{1,,2}'), 'FERRY_DECODE', 'empty element');
    expectError(() => parsePgArray('{"a}'), 'FERRY_DECODE', 'unterminated quoted element');
    expectError(() => parsePgArray('{1}x'), 'FERRY_DECODE', 'unexpected text after');
    expectError(() => parsePgArray('1,2'), 'FERRY_DECODE', 'expected "{"');
    expectError(() => parsePgArray('{a"b}'), 'FERRY_DECODE', 'unexpected "');
  });
});

describe('array columns', () => {
  it('encodes each element as the element kind', () => {
    expect(encodeValue(arrayOf('int32'), '{1,2,NULL}')).toEqual([1, 2, null]);
    expect(encodeValue(arrayOf('int64'), '{9007199254740993,-1}')).toEqual(['9007199254740993', -1]);
    expect(encodeValue(arrayOf('decimal'), '{1.50,NaN}')).toEqual(['1.50', 'NaN']);
    expect(encodeValue(arrayOf('float32'), '{1.5,NaN,-Infinity}')).toEqual([1.5, 'NaN', '-Infinity']);
    expect(encodeValue(arrayOf('boolean'), '{t,f}')).toEqual([true, false]);
    expect(encodeValue(arrayOf('bytes'), '{"\\\\x0102"}')).toEqual(['AQI=']);
    expect(encodeValue(arrayOf('timestamptz'), '{"2024-01-02 03:04:05+02"}')).toEqual(['2024-01-02T01:04:05Z']);
    expect(encodeValue(arrayOf('json'), '{"{\\"a\\": 1}"}')).toEqual(['{"a": 1}']);
    expect(encodeValue(arrayOf('interval'), '{"1 day"}')).toEqual(['P1D']);
    expect(encodeValue(arrayOf('string'), '{"a b","c\\"d",NULL,"NULL"}')).toEqual(['a b', 'c"d', null, 'NULL']);
    expect(encodeValue(arrayOf('bit', { length: 4 }), '{0101,1111}')).toEqual(['0101', '1111']);
  });

  it('keeps dimensions', () => {
    expect(encodeValue(arrayOf('int32'), '{{1,2},{3,4}}')).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(encodeValue(arrayOf('int32'), '{}')).toEqual([]);
  });

  it('accepts arrays a driver already parsed', () => {
    expect(
      encodeArray(arrayOf('int64'), [
        [1, '2'],
        [null, 3n],
      ]),
    ).toEqual([
      [1, 2],
      [null, 3],
    ]);
    expect(encodeValue(arrayOf('uuid'), ['A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'])).toEqual([
      'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    ]);
  });

  it('names the element position in errors', () => {
    expectError(
      () => encodeValue(arrayOf('int32'), '{1,x}'),
      'FERRY_ENCODE',
      '"c_array[2]"',
      '(int32)',
      'not an integer',
    );
    expectError(() => encodeValue(arrayOf('int32'), '{{1,2},{3,x}}'), 'FERRY_ENCODE', '"c_array[2][2]"');
    expectError(
      () => encodeValue(arrayOf('int32'), '{1,2'),
      'FERRY_ENCODE',
      '"c_array" (array)',
      'malformed array literal (unterminated array at offset 4)',
    );
  });

  it('requires an element kind and an array input', () => {
    const noKind: ValueColumn = { name: 'c_array', kind: 'array' };
    expectError(() => encodeValue(noKind, '{1}'), 'FERRY_ENCODE', '"c_array"', 'no element kind');
    expectError(() => encodeValue(arrayOf('int32'), 5), 'FERRY_ENCODE', '"c_array"', 'not an array');
  });
});
