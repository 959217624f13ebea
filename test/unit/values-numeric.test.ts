import { describe, expect, it } from 'vitest';
import {
  encodeDecimal,
  encodeFloat,
  encodeInteger,
  encodeValue,
  encodeYear,
  shortestFloat32,
} from '../../src/api/values/encode.js';
import { kindColumn as col, expectEncodeError } from '../helpers/expect-error.js';

describe('integers', () => {
  const int64 = col('int64');
  const uint64 = col('uint64');

  it('keeps numbers up to 2^53-1 as JSON numbers and turns 2^53 into a string', () => {
    expect(encodeInteger(int64, 9007199254740991)).toBe(9007199254740991);
    expect(encodeInteger(int64, 9007199254740991n)).toBe(9007199254740991);
    expect(encodeInteger(int64, '9007199254740991')).toBe(9007199254740991);
    expect(encodeInteger(int64, 9007199254740992n)).toBe('9007199254740992');
    expect(encodeInteger(int64, '9007199254740992')).toBe('9007199254740992');
    expect(encodeInteger(int64, -9007199254740991)).toBe(-9007199254740991);
    expect(encodeInteger(int64, '-9007199254740992')).toBe('-9007199254740992');
  });

  it('encodes the int64 extremes and the uint64 maximum as strings', () => {
    expect(encodeInteger(int64, '-9223372036854775808')).toBe('-9223372036854775808');
    expect(encodeInteger(int64, 9223372036854775807n)).toBe('9223372036854775807');
    expect(encodeInteger(uint64, '18446744073709551615')).toBe('18446744073709551615');
    expect(encodeInteger(uint64, 18446744073709551615n)).toBe('18446744073709551615');
  });

  it('normalises the spelling of integer strings', () => {
    expect(encodeInteger(int64, '+42')).toBe(42);
    expect(encodeInteger(int64, '-0')).toBe(0);
    expect(encodeInteger(int64, '007')).toBe(7);
    expect(Object.is(encodeInteger(int64, -0), 0)).toBe(true);
  });

  it('rejects values outside the kind range, honouring unsigned', () => {
    expectEncodeError(() => encodeInteger(int64, '9223372036854775808'), int64, 'out of range');
    expectEncodeError(() => encodeInteger(uint64, '18446744073709551616'), uint64, 'out of range');
    expectEncodeError(() => encodeInteger(uint64, -1), uint64, 'out of range');
    const int8 = col('int8');
    expect(encodeInteger(int8, -128)).toBe(-128);
    expectEncodeError(() => encodeInteger(int8, 128), int8, 'out of range -128..127');
    const tinyUnsigned = col('int8', { unsigned: true });
    expect(encodeInteger(tinyUnsigned, 255)).toBe(255);
    expectEncodeError(() => encodeInteger(tinyUnsigned, -1), tinyUnsigned, 'out of range 0..255');
    expect(encodeInteger(col('int32', { unsigned: true }), 4294967295)).toBe(4294967295);
    expect(encodeInteger(col('int16'), '-32768')).toBe(-32768);
  });

  it('rejects non-integers and unsafe JS numbers, naming the column', () => {
    expectEncodeError(() => encodeInteger(int64, 1.5), int64, 'not an integer', '1.5 (number)');
    expectEncodeError(() => encodeInteger(int64, '1.0'), int64, 'not an integer');
    expectEncodeError(() => encodeInteger(int64, ' 1'), int64, 'not an integer');
    expectEncodeError(() => encodeInteger(int64, ''), int64, 'not an integer');
    expectEncodeError(() => encodeInteger(int64, true), int64, 'not an integer');
    expectEncodeError(() => encodeInteger(int64, 2 ** 53), int64, 'may already have lost precision');
    expectEncodeError(() => encodeInteger(int64, Number.NaN), int64, 'not an integer');
  });

  it('dispatches every integer kind through encodeValue', () => {
    expect(encodeValue(col('int8'), 5)).toBe(5);
    expect(encodeValue(col('int16'), '-5')).toBe(-5);
    expect(encodeValue(col('int32'), 2147483647)).toBe(2147483647);
    expect(encodeValue(col('int64'), '123')).toBe(123);
    expect(encodeValue(col('uint64'), '18446744073709551615')).toBe('18446744073709551615');
  });
});

describe('decimal', () => {
  const dec = col('decimal', { precision: 65, scale: 30 });

  it('keeps exact strings and their scale', () => {
    const big = '12345678901234567890123456789012345.123456789012345678901234567890';
    expect(encodeDecimal(dec, big)).toBe(big);
    expect(encodeDecimal(dec, '-99999999999999999999999999999999999.999999999999999999999999999999')).toBe(
      '-99999999999999999999999999999999999.999999999999999999999999999999',
    );
    expect(encodeDecimal(dec, '1.500')).toBe('1.500');
    expect(encodeDecimal(dec, '0.000001')).toBe('0.000001');
    expect(encodeDecimal(dec, '0.000000000000000000000000000001')).toBe('0.000000000000000000000000000001');
    expect(encodeDecimal(dec, '12.000000000000000000000000000000')).toBe('12.000000000000000000000000000000');
    expect(encodeDecimal(dec, '42')).toBe('42');
    expect(encodeDecimal(dec, 123456789012345678901234567890n)).toBe('123456789012345678901234567890');
  });

  it('normalises only the spelling', () => {
    expect(encodeDecimal(dec, '+1.5')).toBe('1.5');
    expect(encodeDecimal(dec, '.5')).toBe('0.5');
    expect(encodeDecimal(dec, '-.5')).toBe('-0.5');
    expect(encodeDecimal(dec, '007.50')).toBe('7.50');
    expect(encodeDecimal(dec, '5.')).toBe('5');
    expect(encodeDecimal(dec, '-0.00')).toBe('0.00');
    expect(encodeDecimal(dec, '-0')).toBe('0');
  });

  it('maps PostgreSQL NaN and infinities to fixed strings', () => {
    expect(encodeDecimal(dec, 'NaN')).toBe('NaN');
    expect(encodeDecimal(dec, 'Infinity')).toBe('Infinity');
    expect(encodeDecimal(dec, '-Infinity')).toBe('-Infinity');
    expect(encodeDecimal(dec, 'nan')).toBe('NaN');
  });

  it('rejects floats and non-decimal text', () => {
    expectEncodeError(
      () => encodeDecimal(dec, 1.5),
      dec,
      'not a decimal string',
      'must not turn DECIMAL/NUMERIC into floats',
    );
    expectEncodeError(() => encodeDecimal(dec, '1e5'), dec, 'not a plain decimal number');
    expectEncodeError(() => encodeDecimal(dec, '.'), dec, 'not a plain decimal number');
    expectEncodeError(() => encodeDecimal(dec, '1,5'), dec, 'not a plain decimal number');
    expectEncodeError(() => encodeDecimal(dec, ''), dec, 'not a plain decimal number');
  });
});

describe('float32 / float64', () => {
  const f32 = col('float32');
  const f64 = col('float64');

  it('keeps doubles as JSON numbers', () => {
    expect(encodeFloat(f64, 0.1)).toBe(0.1);
    expect(encodeFloat(f64, 1.7976931348623157e308)).toBe(1.7976931348623157e308);
    expect(encodeFloat(f64, 5e-324)).toBe(5e-324);
    expect(encodeFloat(f64, '1e+10')).toBe(10000000000);
    expect(encodeFloat(f64, '-2.5')).toBe(-2.5);
  });

  it('writes NaN and the infinities as strings', () => {
    expect(encodeFloat(f64, Number.NaN)).toBe('NaN');
    expect(encodeFloat(f64, Number.POSITIVE_INFINITY)).toBe('Infinity');
    expect(encodeFloat(f64, Number.NEGATIVE_INFINITY)).toBe('-Infinity');
    expect(encodeFloat(f32, 'NaN')).toBe('NaN');
    expect(encodeFloat(f32, 'Infinity')).toBe('Infinity');
    expect(encodeFloat(f64, '-Infinity')).toBe('-Infinity');
  });

  it('float negative zero: keeps the sign of negative zero as the string "-0"', () => {
    expect(encodeFloat(f64, -0)).toBe('-0');
    expect(encodeFloat(f64, '-0')).toBe('-0');
    expect(encodeFloat(f64, '-0.0e5')).toBe('-0');
    expect(Object.is(encodeFloat(f64, 0), 0)).toBe(true);
    expect(Object.is(encodeFloat(f64, '0'), 0)).toBe(true);
  });

  it('reduces float32 to the shortest decimal of the same 32-bit float', () => {
    // MySQL FLOAT 0.1 arrives from the binlog as the exact float32 widened to a double.
    expect(encodeFloat(f32, Math.fround(0.1))).toBe(0.1);
    expect(Math.fround(0.1)).not.toBe(0.1);
    expect(encodeFloat(f32, Math.fround(1.2345678))).toBe(1.2345678);
    expect(encodeFloat(f32, 16777217)).toBe(16777216);
    expect(encodeFloat(f32, '3.4028235e+38')).toBe(3.4028235e38);
    expect(encodeFloat(f32, '1e-07')).toBe(1e-7);
    expect(encodeFloat(f32, 0.1)).toBe(0.1);
    expect(String(shortestFloat32(Math.fround(Math.PI)))).toBe('3.1415927');
  });

  it('rejects what is not a number', () => {
    expectEncodeError(() => encodeFloat(f64, 'abc'), f64, 'not a number');
    expectEncodeError(() => encodeFloat(f64, 1n), f64, 'not a number');
    expectEncodeError(() => encodeFloat(f32, 1e39), f32, 'overflows a 32-bit float');
    expectEncodeError(() => encodeFloat(f64, '1e999'), f64, 'overflows a 64-bit float');
  });
});

describe('year', () => {
  const year = col('year');
  it('is a number', () => {
    expect(encodeYear(year, 2024)).toBe(2024);
    expect(encodeYear(year, '2155')).toBe(2155);
    expect(encodeYear(year, 0)).toBe(0);
    expect(encodeValue(year, 1901)).toBe(1901);
  });
  it('rejects non-years', () => {
    expectEncodeError(() => encodeYear(year, 10000), year, 'not a year');
    expectEncodeError(() => encodeYear(year, '20x4'), year, 'not a year');
    expectEncodeError(() => encodeYear(year, 2024.5), year, 'not a year');
  });
});

describe('the usual number shapes (no bigint, no rewrite)', () => {
  it('checks a safe-integer number against its kind as the bigint path does', () => {
    expect(encodeInteger(col('int8'), -128)).toBe(-128);
    expectEncodeError(() => encodeInteger(col('int8'), 128), col('int8'), 'out of range');
    expect(encodeInteger({ ...col('int32'), unsigned: true }, 4294967295)).toBe(4294967295);
    expectEncodeError(
      () => encodeInteger({ ...col('int32'), unsigned: true }, -1),
      { ...col('int32'), unsigned: true },
      'out of range',
    );
    expect(Object.is(encodeInteger(col('int64'), -0), 0)).toBe(true);
    expectEncodeError(() => encodeInteger(col('uint64'), -1), col('uint64'), 'out of range');
  });

  it('passes canonical decimals through and still rewrites the others', () => {
    for (const d of ['0', '0.000', '12.500', '-12.5', '-0.01', '7']) expect(encodeDecimal(col('decimal'), d)).toBe(d);
    expect(encodeDecimal(col('decimal'), '-0.00')).toBe('0.00');
    expect(encodeDecimal(col('decimal'), '007.50')).toBe('7.50');
    expect(encodeDecimal(col('decimal'), '-0')).toBe('0');
  });
});
