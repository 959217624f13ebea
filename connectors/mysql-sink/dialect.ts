/**
 * MySqlDialect: identifier and literal quoting for MySQL/MariaDB. Every database, table and
 * column name goes through quoteIdent() (backticks, embedded backticks doubled); no name is ever
 * pasted into SQL as is. Values are never quoted here: they are statement parameters. The only
 * literals are ENUM/SET labels in DDL, quoted by quoteLiteral().
 */
import { FerryError } from '../../src/api/index.js';

/** MySQL and MariaDB limit identifiers to 64 characters. */
export const MYSQL_MAX_IDENTIFIER_CHARS = 64;

export function quoteIdent(name: string): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new FerryError('FERRY_SCHEMA', 'an empty identifier cannot be used as a MySQL name');
  }
  if (name.includes('\u0000')) {
    throw new FerryError(
      'FERRY_SCHEMA',
      `the identifier ${JSON.stringify(name)} contains U+0000, which MySQL does not allow`,
    );
  }
  if ([...name].length > MYSQL_MAX_IDENTIFIER_CHARS) {
    throw new FerryError(
      'FERRY_SCHEMA',
      `the identifier ${JSON.stringify(name)} is longer than ${MYSQL_MAX_IDENTIFIER_CHARS} characters, the MySQL limit. ` +
        'Map the table to a shorter name or shorten it at the source.',
      { details: { identifier: name } },
    );
  }
  return `\`${name.replaceAll('`', '``')}\``;
}

/** `db`.`table`. */
export function qualify(db: string, table: string): string {
  return `${quoteIdent(db)}.${quoteIdent(table)}`;
}

export function quoteList(names: readonly string[]): string {
  return names.map(quoteIdent).join(', ');
}

/**
 * A string literal for DDL (ENUM/SET labels): single quotes doubled, backslashes doubled (the
 * session runs without NO_BACKSLASH_ESCAPES, see sink.ts), NUL and control characters refused.
 */
export function quoteLiteral(text: string): string {
  if (/[\u0000-\u001f]/.test(text)) {
    throw new FerryError(
      'FERRY_SCHEMA',
      `the label ${JSON.stringify(text)} contains a control character; ferry does not put it in DDL`,
    );
  }
  return `'${text.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;
}
