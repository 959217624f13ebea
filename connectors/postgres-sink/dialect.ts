/**
 * PostgresDialect: how identifiers are written in SQL for PostgreSQL. Every table, schema and
 * column name goes through quoteIdent(); no name is ever pasted into SQL as is. Quoting keeps
 * the exact spelling (mixed case, spaces, quotes, unicode, reserved words).
 */
import { FerryError } from '../../src/api/index.js';

/** PostgreSQL silently truncates identifiers longer than NAMEDATALEN-1 = 63 bytes; ferry refuses them instead. */
export const PG_MAX_IDENTIFIER_BYTES = 63;

/** `"name"` with embedded double quotes doubled. */
export function quoteIdent(name: string): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new FerryError('FERRY_SCHEMA', 'an empty identifier cannot be used as a PostgreSQL name');
  }
  if (name.includes('\u0000')) {
    throw new FerryError(
      'FERRY_SCHEMA',
      `the identifier ${JSON.stringify(name)} contains U+0000, which PostgreSQL does not allow`,
    );
  }
  if (Buffer.byteLength(name, 'utf8') > PG_MAX_IDENTIFIER_BYTES) {
    throw new FerryError(
      'FERRY_SCHEMA',
      `the identifier ${JSON.stringify(name)} is longer than ${PG_MAX_IDENTIFIER_BYTES} bytes; PostgreSQL would truncate it ` +
        '(two names could then collide). Map the table to a shorter name or shorten it at the source.',
      { details: { identifier: name } },
    );
  }
  return `"${name.replaceAll('"', '""')}"`;
}

/** `"schema"."table"`. */
export function qualify(schema: string, table: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(table)}`;
}

/** A comma-separated list of quoted identifiers. */
export function quoteList(names: readonly string[]): string {
  return names.map(quoteIdent).join(', ');
}

/**
 * A string literal for the few places PostgreSQL takes no parameters (a column DEFAULT in DDL):
 * single quotes doubled, and the E'' form with backslashes doubled when there are any, so the
 * text means the same whatever standard_conforming_strings says.
 */
export function quoteLiteral(text: string): string {
  if (text.includes('\u0000')) {
    throw new FerryError('FERRY_SCHEMA', 'a default value containing U+0000 cannot be written for PostgreSQL');
  }
  const body = text.replaceAll("'", "''");
  return text.includes('\\') ? `E'${body.replaceAll('\\', '\\\\')}'` : `'${body}'`;
}
