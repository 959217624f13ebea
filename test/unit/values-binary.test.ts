import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  bitToBuffer,
  decodeBytes,
  encodeBit,
  encodeBytes,
  encodeUuid,
  encodeValue,
  type ValueColumn,
} from '../../src/api/values/encode.js';
import { expectError } from '../helpers/expect-error.js';

describe('bytes', () => {
  const bytes: ValueColumn = { name: 'payload', kind: 'bytes' };

  it('encodes Buffers as padded base64', () => {
    expect(encodeBytes(bytes, Buffer.from([0, 1, 2, 255]))).toBe('AAEC/w==');
    expect(encodeBytes(bytes, Buffer.alloc(0))).toBe('');
    expect(encodeBytes(bytes, Buffer.from('hi'))).toBe('aGk=');
  });

  it('reads only the viewed part of a Uint8Array', () => {
    const backing = new Uint8Array([9, 9, 1, 2, 3, 9]);
    expect(encodeBytes(bytes, backing.subarray(2, 5))).toBe('AQID');
  });

  it('reads PostgreSQL bytea hex text', () => {
    expect(encodeBytes(bytes, '\\x0102ff')).toBe('AQL/');
    expect(encodeBytes(bytes, '\\xDEADBEEF')).toBe('3q2+7w==');
    expect(encodeBytes(bytes, '\\x')).toBe('');
  });

  it('round-trips through decodeBytes', () => {
    const original = randomBytes(257);
    const decoded = decodeBytes(encodeBytes(bytes, original));
    expect(decoded.equals(original)).toBe(true);
    expect(decodeBytes('AAEC/w==')).toEqual(Buffer.from([0, 1, 2, 255]));
  });

  it('rejects other input, naming the column', () => {
    expectError(() => encodeBytes(bytes, '\\x012'), 'FERRY_ENCODE', '"payload"', '(bytes)', 'bytea hex text');
    expectError(() => encodeBytes(bytes, 'AQI='), 'FERRY_ENCODE', '"payload"', 'bytea hex text');
    expectError(() => encodeBytes(bytes, [1, 2]), 'FERRY_ENCODE', '"payload"', 'not bytes');
    expectError(() => decodeBytes('AQI'), 'FERRY_DECODE', 'base64');
    expectError(() => decodeBytes('A@=='), 'FERRY_DECODE', 'base64');
  });
});

describe('bit', () => {
  const bit = (length?: number): ValueColumn => ({ name: 'flags', kind: 'bit', length });

  it('renders MySQL BIT Buffers as exactly `length` bits', () => {
    expect(encodeBit(bit(1), Buffer.from([1]))).toBe('1');
    expect(encodeBit(bit(1), Buffer.from([0]))).toBe('0');
    expect(encodeBit(bit(10), Buffer.from([0x02, 0x01]))).toBe('1000000001');
    expect(encodeBit(bit(10), Buffer.from([0x00, 0x05]))).toBe('0000000101');
    expect(encodeBit(bit(64), Buffer.alloc(8, 0xff))).toBe('1'.repeat(64));
    expect(encodeBit(bit(64), Buffer.from([0x80, 0, 0, 0, 0, 0, 0, 1]))).toBe(`1${'0'.repeat(62)}1`);
    expect(encodeBit(bit(12), Buffer.from([0x01]))).toBe('000000000001');
    expect(encodeBit(bit(), Buffer.from([5]))).toBe('00000101');
  });

  it('takes integers too', () => {
    expect(encodeBit(bit(4), 5)).toBe('0101');
    expect(encodeBit(bit(64), 1n << 63n)).toBe(`1${'0'.repeat(63)}`);
  });

  it('keeps PostgreSQL bit strings as given (varbit may be shorter)', () => {
    expect(encodeBit(bit(4), '0101')).toBe('0101');
    expect(encodeBit(bit(10), '101')).toBe('101');
    expect(encodeBit(bit(), '')).toBe('');
  });

  it('never drops set bits', () => {
    expectError(() => encodeBit(bit(10), Buffer.from([0x04, 0x00])), 'FERRY_ENCODE', '"flags"', 'beyond BIT(10)');
    expectError(() => encodeBit(bit(4), '01010'), 'FERRY_ENCODE', 'longer than BIT(4)');
    expectError(() => encodeBit(bit(4), '0102'), 'FERRY_ENCODE', 'not a bit string');
    expectError(() => encodeBit(bit(4), -1), 'FERRY_ENCODE', 'not a bit value');
  });

  it('bitToBuffer is the inverse for MySQL targets', () => {
    expect(bitToBuffer('1000000001')).toEqual(Buffer.from([0x02, 0x01]));
    expect(bitToBuffer('1')).toEqual(Buffer.from([1]));
    expect(bitToBuffer('1'.repeat(64))).toEqual(Buffer.alloc(8, 0xff));
    expect(bitToBuffer('')).toEqual(Buffer.alloc(0));
    for (const [length, bits] of [
      [1, '0'],
      [10, '0110000001'],
      [64, `1${'0'.repeat(62)}1`],
    ] as const) {
      expect(encodeBit(bit(length), bitToBuffer(bits))).toBe(bits);
    }
    expectError(() => bitToBuffer('102'), 'FERRY_DECODE', 'bit string');
  });
});

describe('uuid', () => {
  const uuid: ValueColumn = { name: 'id', kind: 'uuid' };

  it('is lowercase canonical text', () => {
    expect(encodeUuid(uuid, 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11')).toBe('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
    expect(encodeUuid(uuid, '{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}')).toBe('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
    expect(encodeUuid(uuid, 'a0eebc999c0b4ef8bb6d6bb9bd380a11')).toBe('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
    expect(encodeValue(uuid, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')).toBe('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
  });

  it('rejects non-UUIDs and bytes', () => {
    expectError(() => encodeUuid(uuid, 'a0eebc99-9c0b-4ef8-bb6d'), 'FERRY_ENCODE', '"id"', '(uuid)', 'not a UUID');
    expectError(() => encodeUuid(uuid, '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'), 'FERRY_ENCODE', 'not a UUID');
    expectError(() => encodeUuid(uuid, Buffer.alloc(16)), 'FERRY_ENCODE', 'not a UUID', '16 bytes');
  });
});
