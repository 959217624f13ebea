/**
 * Canonical encoding of binary-ish kinds (docs/values.md): bytes (base64), BIT (a string of 0/1),
 * UUID (lowercase canonical text), and their decoders for sinks.
 */
import { decodeError, encodeError, type ValueColumn } from './common.js';

const BYTES_ACCEPTED = 'a Buffer/Uint8Array, or PostgreSQL bytea hex text such as "\\x01ff"';

/** bytes: standard base64 with padding. Input: Buffer/Uint8Array, or PostgreSQL bytea hex text "\x0102". */
export function encodeBytes(column: ValueColumn, raw: unknown): string {
  if (raw instanceof Uint8Array) return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64');
  if (typeof raw === 'string' && /^\\x([0-9a-fA-F]{2})*$/.test(raw)) {
    return Buffer.from(raw.slice(2), 'hex').toString('base64');
  }
  const problem =
    typeof raw === 'string'
      ? 'a string is only taken as bytea hex text ("\\x..." with an even number of digits)'
      : 'not bytes';
  throw encodeError(column, raw, problem, BYTES_ACCEPTED);
}

/** Canonical bytes (base64) -> Buffer. Anything but strict padded base64 throws FERRY_DECODE. */
export function decodeBytes(value: string): Buffer {
  if (typeof value !== 'string' || !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(value)) {
    throw decodeError('bytes value', value, 'standard base64 with padding');
  }
  return Buffer.from(value, 'base64');
}

const BIT_ACCEPTED =
  'a big-endian Buffer (MySQL BIT), a string of 0/1 (PostgreSQL bit/varbit), or a non-negative integer';

/**
 * BIT: a string of "0"/"1", most significant bit first.
 * - Buffer (MySQL BIT(n), big-endian, right-aligned) or a non-negative integer: exactly
 *   `column.length` bits (BIT(10) -> 10 characters); without a length, 8 bits per byte.
 *   Set bits beyond the length are an error, never dropped.
 * - String (PostgreSQL bit(n) and bit varying(n)): kept as given; it may not exceed `length`.
 */
export function encodeBit(column: ValueColumn, raw: unknown): string {
  const length = column.length;
  if (typeof raw === 'string') {
    if (!/^[01]*$/.test(raw)) throw encodeError(column, raw, 'not a bit string', BIT_ACCEPTED);
    if (length !== undefined && raw.length > length) {
      throw encodeError(column, raw, `longer than BIT(${length})`, BIT_ACCEPTED);
    }
    return raw;
  }
  let bits: string;
  if (raw instanceof Uint8Array) {
    bits = Array.from(raw, (b) => b.toString(2).padStart(8, '0')).join('');
    if (length === undefined) return bits;
  } else if (
    (typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= 0) ||
    (typeof raw === 'bigint' && raw >= 0n)
  ) {
    bits = raw.toString(2);
    if (length === undefined) return bits;
  } else {
    throw encodeError(column, raw, 'not a bit value', BIT_ACCEPTED);
  }
  if (bits.length <= length) return bits.padStart(length, '0');
  const extra = bits.slice(0, bits.length - length);
  if (extra.includes('1')) throw encodeError(column, raw, `has bits set beyond BIT(${length})`, BIT_ACCEPTED);
  return bits.slice(bits.length - length);
}

/**
 * Canonical bit string -> big-endian Buffer of ceil(n/8) bytes, right-aligned the way MySQL BIT(n)
 * stores it ("1000000001" -> <02 01>). PostgreSQL takes the bit string itself.
 */
export function bitToBuffer(bits: string): Buffer {
  if (typeof bits !== 'string' || !/^[01]*$/.test(bits)) throw decodeError('bit string', bits, 'a string of 0 and 1');
  const bytes = Math.ceil(bits.length / 8);
  const padded = bits.padStart(bytes * 8, '0');
  const out = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) out[i] = Number.parseInt(padded.slice(i * 8, i * 8 + 8), 2);
  return out;
}

const UUID_RE = /^\{?([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})\}?$/i;

/**
 * UUID: lowercase "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx". Input: text in any case, with or without
 * hyphens or braces. Bytes are not accepted: MariaDB's UUID type does not store RFC byte order,
 * so the connector renders UUIDs as text.
 */
export function encodeUuid(column: ValueColumn, raw: unknown): string {
  if (typeof raw === 'string') {
    const m = UUID_RE.exec(raw);
    if (m && raw.startsWith('{') === raw.endsWith('}')) return `${m[1]}-${m[2]}-${m[3]}-${m[4]}-${m[5]}`.toLowerCase();
  }
  throw encodeError(column, raw, 'not a UUID', 'UUID text such as "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11" (any case)');
}
