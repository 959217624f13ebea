/**
 * Shared pieces of the canonical value encoding (docs/values.md): the column shape the encoders
 * need, and the errors they raise.
 */
import { FerryError } from '../errors.js';
import type { ColumnSchema } from '../schema.js';

/**
 * What an encoder needs to know about a column: its name (for error messages) and kind, plus the
 * optional details some kinds use (`unsigned` for integer ranges, `length` for BIT, `elementKind`
 * for arrays). A full ColumnSchema fits.
 */
export type ValueColumn = Pick<ColumnSchema, 'name' | 'kind'> & Partial<Omit<ColumnSchema, 'name' | 'kind'>>;

const MAX_DESCRIBED = 60;

/** A short, type-tagged rendering of a raw value for error messages (at most ~60 characters). */
export function describeValue(raw: unknown): string {
  let text: string;
  let type: string = typeof raw;
  if (typeof raw === 'string') {
    text = JSON.stringify(raw);
  } else if (typeof raw === 'bigint') {
    text = `${raw}n`;
  } else if (raw instanceof Uint8Array) {
    type = Buffer.isBuffer(raw) ? 'Buffer' : 'Uint8Array';
    text = `${raw.length} bytes 0x${Buffer.from(raw.buffer, raw.byteOffset, Math.min(raw.length, 24)).toString('hex')}`;
  } else if (raw instanceof Date) {
    type = 'Date';
    text = Number.isNaN(raw.getTime()) ? 'Invalid Date' : raw.toISOString();
  } else if (raw === null || raw === undefined || typeof raw === 'number' || typeof raw === 'boolean') {
    text = String(raw);
  } else {
    if (Array.isArray(raw)) type = 'array';
    try {
      text = JSON.stringify(raw) ?? String(raw);
    } catch {
      text = String(raw);
    }
  }
  const chars = Array.from(text);
  if (chars.length > MAX_DESCRIBED) text = `${chars.slice(0, MAX_DESCRIBED - 3).join('')}...`;
  return `${text} (${type})`;
}

/**
 * The FERRY_ENCODE error: names the column, its kind, the offending value, what is wrong and what
 * is accepted.
 */
export function encodeError(column: ValueColumn, raw: unknown, problem: string, accepted: string): FerryError {
  const value = describeValue(raw);
  return new FerryError(
    'FERRY_ENCODE',
    `Cannot encode column "${column.name}" (${column.kind}): ${problem}: ${value}. Accepted: ${accepted}.`,
    { details: { column: column.name, kind: column.kind, value } },
  );
}

/** Error of the decoders that turn canonical values back into target parameters. */
export function decodeError(what: string, value: unknown, accepted: string): FerryError {
  const described = describeValue(value);
  return new FerryError('FERRY_DECODE', `Not a canonical ${what}: ${described}. Expected ${accepted}.`, {
    details: { value: described },
  });
}

/** A canonical value the target engine cannot store (e.g. a BC date on MySQL): a data problem, not a bug. */
export function unrepresentableError(target: string, value: unknown, reason: string): FerryError {
  const described = describeValue(value);
  return new FerryError('FERRY_APPLY', `${target} cannot store ${described}: ${reason}.`, {
    details: { value: described, target },
  });
}

/** Strips trailing zeros of a fraction; undefined when more than 6 significant digits remain. */
export function trimFraction(digits: string | undefined): string | undefined {
  if (digits === undefined) return '';
  const trimmed = digits.replace(/0+$/, '');
  return trimmed.length > 6 ? undefined : trimmed;
}
