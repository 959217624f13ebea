/**
 * PostgreSQL log sequence numbers. The text form is PostgreSQL's own (`%X/%X`: two upper-case hex
 * halves without padding, e.g. `0/16B3748`); internally an LSN is a bigint so it can be compared.
 */
import { FerryError } from '../../src/api/index.js';

const LSN_RE = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

export function parseLsn(text: string): bigint {
  const m = LSN_RE.exec(text);
  if (!m)
    throw new FerryError('FERRY_DECODE', `not a PostgreSQL LSN: ${JSON.stringify(text)} (expected e.g. "0/16B3748")`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

export function formatLsn(lsn: bigint): string {
  if (lsn < 0n || lsn > 0xffffffffffffffffn) throw new FerryError('FERRY_INTERNAL', `LSN out of range: ${lsn}`);
  const hi = lsn >> 32n;
  const lo = lsn & 0xffffffffn;
  return `${hi.toString(16).toUpperCase()}/${lo.toString(16).toUpperCase()}`;
}

export function isLsn(text: unknown): text is string {
  return typeof text === 'string' && LSN_RE.test(text);
}

/** Normalises any accepted spelling (lower case, padding) to PostgreSQL's. */
export function normalizeLsn(text: string): string {
  return formatLsn(parseLsn(text));
}

export function maxLsn(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

/**
 * The LSN as a JSON number for the envelope's `source.lsn` (Debezium writes a long there).
 * Exact below 2^53 bytes of WAL (8 PiB); beyond that the text form in `source.commit_lsn` stays exact.
 */
export function lsnNumber(lsn: bigint): number {
  return Number(lsn);
}
