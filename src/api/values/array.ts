/**
 * A parser for PostgreSQL array literals (the text form of array_out): '{1,2,NULL}',
 * '{"a b","c\"d"}', nested '{{1,2},{3,4}}'. Elements come back as text (or null), for the element
 * kind's encoder to read; nesting comes back as nested arrays.
 */
import { FerryError } from '../errors.js';

export type PgArray = Array<string | null | PgArray>;

const WHITESPACE = new Set([' ', '\t', '\n', '\r', '\v', '\f']);

/**
 * Parses a PostgreSQL array literal.
 * - Unquoted elements are trimmed of surrounding whitespace; an unquoted NULL (any case) is null.
 * - Quoted elements keep everything between the quotes; a backslash escapes the next character
 *   (in unquoted elements too).
 * - `delimiter` is "," for every type except box (";").
 * - Explicit bounds ('[0:1]={1,2}') are rejected: the lower bound would be lost.
 * Throws FerryError FERRY_DECODE on malformed input, naming `what` (e.g. the column).
 */
export function parsePgArray(text: string, what = 'array', delimiter = ','): PgArray {
  let i = 0;
  const fail = (problem: string): FerryError => {
    const shown = text.length > 60 ? `${text.slice(0, 57)}...` : text;
    return new FerryError(
      'FERRY_DECODE',
      `Malformed PostgreSQL array literal for ${what} at offset ${i}: ${problem}: ${JSON.stringify(shown)}.`,
      { details: { what, offset: i, problem } },
    );
  };
  const skipWhitespace = (): void => {
    while (i < text.length && WHITESPACE.has(text[i]!)) i++;
  };

  const parseQuoted = (): string => {
    i++; // opening quote
    let out = '';
    for (;;) {
      const c = text[i++];
      if (c === undefined) throw fail('unterminated quoted element');
      if (c === '"') return out;
      if (c === '\\') {
        const next = text[i++];
        if (next === undefined) throw fail('backslash at end of input');
        out += next;
      } else {
        out += c;
      }
    }
  };

  const parseUnquoted = (): string | null => {
    let out = '';
    let kept = 0; // length of `out` up to its last character that is not trailing whitespace
    let escaped = false;
    while (i < text.length) {
      const c = text[i]!;
      if (c === delimiter || c === '}') break;
      if (c === '{' || c === '"') throw fail(`unexpected ${c} inside an unquoted element`);
      i++;
      if (c === '\\') {
        const next = text[i++];
        if (next === undefined) throw fail('backslash at end of input');
        out += next;
        kept = out.length;
        escaped = true;
      } else {
        out += c;
        if (!WHITESPACE.has(c)) kept = out.length;
      }
    }
    out = out.slice(0, kept);
    if (out === '' && !escaped) throw fail('empty element');
    return !escaped && out.toUpperCase() === 'NULL' ? null : out;
  };

  const parseLevel = (): PgArray => {
    i++; // opening brace
    const items: PgArray = [];
    skipWhitespace();
    if (text[i] === '}') {
      i++;
      return items;
    }
    for (;;) {
      skipWhitespace();
      const c = text[i];
      if (c === undefined) throw fail('unterminated array');
      if (c === '{') items.push(parseLevel());
      else if (c === '"') items.push(parseQuoted());
      else items.push(parseUnquoted());
      skipWhitespace();
      const next = text[i];
      if (next === delimiter || next === '}') i++;
      if (next === delimiter) continue;
      if (next === '}') return items;
      throw fail(next === undefined ? 'unterminated array' : `expected "${delimiter}" or "}"`);
    }
  };

  skipWhitespace();
  if (text[i] === '[') throw fail('explicit array bounds are not supported');
  if (text[i] !== '{') throw fail('expected "{"');
  const result = parseLevel();
  skipWhitespace();
  if (i < text.length) throw fail('unexpected text after the array');
  return result;
}
