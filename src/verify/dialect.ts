/**
 * The SQL spelling differences between MySQL/MariaDB and PostgreSQL that verify needs:
 * identifier quoting, parameter placeholders, and the row-hash and chunk-checksum fragments.
 * Every identifier goes through quoteId(); every value goes through a ParamList.
 */
import type { TableId } from '../api/schema.js';
import type { EngineKind } from './types.js';

/** Positional parameters of one statement; `add` returns the placeholder to write in its place. */
export class ParamList {
  readonly values: unknown[] = [];
  constructor(private readonly kind: EngineKind) {}
  add(value: unknown): string {
    this.values.push(value);
    return this.kind === 'mysql' ? '?' : `$${this.values.length}`;
  }
}

export interface Dialect {
  readonly kind: EngineKind;
  quoteId(name: string): string;
  /** `db`.`table` / "schema"."table". */
  table(t: TableId): string;
  params(): ParamList;
  /**
   * One column's contribution to the row text: the text with `~` doubled and `|` escaped as
   * `~|`, then a `|` terminator; NULL is `~N|`, which no escaped text can produce. The
   * concatenation of pieces is therefore unambiguous, and NULL stays apart from the empty string.
   * The text expression is evaluated once (it can be costly, e.g. floats).
   */
  piece(textExpr: string): string;
  /** Lowercase hex MD5 of the concatenated pieces. */
  rowHash(pieces: string[]): string;
  /**
   * Select list of a chunk checksum over a derived column `h` (a row hash): the row count and
   * two sums of 60-bit slices of the hashes. Sums do not depend on row order, so the two
   * engines need not agree on an ORDER BY; they are exact (DECIMAL / numeric), never floats.
   */
  checksumSelect(h: string): string;
}

export const mysqlDialect: Dialect = {
  kind: 'mysql',
  quoteId: (name) => `\`${name.replace(/`/g, '``')}\``,
  table(t) {
    return `${this.quoteId(t.db)}.${this.quoteId(t.table)}`;
  },
  params: () => new ParamList('mysql'),
  // The UTF-8 bytes of the text; `~` and `|` are ASCII, so byte-wise REPLACE is exact.
  piece: (textExpr) =>
    `COALESCE(CONCAT(REPLACE(REPLACE(CAST(${textExpr} AS BINARY), '~', '~~'), '|', '~|'), '|'), '~N|')`,
  rowHash: (pieces) => `MD5(CONCAT(${pieces.join(', ')}))`,
  checksumSelect: (h) =>
    `COUNT(*), SUM(CAST(CONV(SUBSTRING(${h}, 1, 15), 16, 10) AS UNSIGNED)), ` +
    `SUM(CAST(CONV(SUBSTRING(${h}, 16, 15), 16, 10) AS UNSIGNED))`,
};

export const postgresDialect: Dialect = {
  kind: 'postgres',
  quoteId: (name) => `"${name.replace(/"/g, '""')}"`,
  table(t) {
    return `${this.quoteId(t.db)}.${this.quoteId(t.table)}`;
  },
  params: () => new ParamList('postgres'),
  piece: (textExpr) => `COALESCE(replace(replace(${textExpr}, '~', '~~'), '|', '~|') || '|', '~N|')`,
  rowHash: (pieces) => `md5(${pieces.join(' || ')})`,
  checksumSelect: (h) =>
    `count(*), sum(('x' || substr(${h}, 1, 15))::bit(60)::bigint), sum(('x' || substr(${h}, 16, 15))::bit(60)::bigint)`,
};

export function dialectOf(kind: EngineKind): Dialect {
  return kind === 'mysql' ? mysqlDialect : postgresDialect;
}
