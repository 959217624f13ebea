/**
 * Canonicalisation inside the databases: for a column of a given canonical kind, an SQL
 * expression that renders its value as text, such that equal canonical values (docs/values.md)
 * give IDENTICAL text on MariaDB/MySQL and PostgreSQL. These texts feed the row hashes; the
 * values never leave the server for a matching chunk. Pure string building.
 *
 * The texts are a faithful stand-in for the canonical JSON value, not always the JSON itself:
 * bytes are lowercase hex (base64 wraps lines differently per engine), floats are a
 * digits-and-exponent form, SET members carry their count. The drill-down confirms every
 * difference with the shared encoders (canonical-client.ts).
 *
 * null means "no exact in-database form for this column on this engine": the table is then
 * compared client-side (verify-table.ts), and the report says so.
 */
import type { CanonKind, NativeColumn } from './native-types.js';

export interface CanonOptions {
  /** Decimal scales differ between the two sides: compare numbers without trailing zeros. */
  trimDecimal: boolean;
  /** MySQL zero and partial-zero dates render as NULL (a PostgreSQL target stores them so). */
  zeroDateAsNull?: boolean;
}

// ---------------------------------------------------------------- MySQL / MariaDB

const MYSQL_INTS = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint']);
const MYSQL_TEXT = new Set(['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'enum', 'set']);
const MYSQL_BINARY = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob']);

/** `x` with trailing fractional zeros and a bare dot removed; `x` always has a dot. */
const mysqlTrimFraction = (x: string) => `TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM ${x}))`;

/** A decimal text without trailing fractional zeros (`1.50` → `1.5`, `2.00` → `2`, `100` stays). */
const mysqlTrimDecimal = (x: string) => `IF(LOCATE('.', ${x}) > 0, ${mysqlTrimFraction(x)}, ${x})`;

/**
 * A double → one spelling for both engines: `[-]<significant digits>e<exponent>` with value
 * 0.<digits> × 10^exponent, and `0` for zero (negative zero included). MariaDB/MySQL and
 * PostgreSQL both print the shortest round-trip digits of a double, but choose exponent notation
 * at different magnitudes and spell exponents differently (`1e20`, `0.0000001` vs `1e+20`,
 * `1e-07`), so the digits and the decimal exponent are taken out of either spelling.
 * `v` is a numeric expression; its text is built from ABS(v), so it has no sign.
 */
export function mysqlNormaliseFloat(v: string): string {
  const a = `CAST(ABS(${v}) AS CHAR)`;
  const m = `SUBSTRING_INDEX(${a}, 'e', 1)`;
  const x = `CAST(SUBSTRING_INDEX(SUBSTRING_INDEX(CONCAT(${a}, 'e0'), 'e', 2), 'e', -1) AS SIGNED)`;
  const intDigits = `(LOCATE('.', CONCAT(${m}, '.')) - 1)`;
  const d = `REPLACE(${m}, '.', '')`;
  const lead = `(LENGTH(${d}) - LENGTH(TRIM(LEADING '0' FROM ${d})))`;
  const digits = `TRIM(TRAILING '0' FROM TRIM(LEADING '0' FROM ${d}))`;
  return `IF(${v} = 0, '0', CONCAT(IF(${v} < 0, '-', ''), ${digits}, 'e', ${x} + ${intDigits} - ${lead}))`;
}

/**
 * `text`, or NULL when the MySQL date/DATETIME/TIMESTAMP `ref` is a zero or partial-zero date
 * (a month or a day of 0): MONTH() and DAYOFMONTH() return 0 for those, NULL for NULL.
 */
export function mysqlZeroDateAsNull(ref: string, text: string): string {
  return `CASE WHEN MONTH(${ref}) = 0 OR DAYOFMONTH(${ref}) = 0 THEN NULL ELSE ${text} END`;
}

/** A text expression of the column's value in the canonical form of `kind`, or null. */
export function mysqlCanonicalText(kind: CanonKind, col: NativeColumn, ref: string, opts: CanonOptions): string | null {
  const text = mysqlKindText(kind, col, ref, opts);
  const temporal = col.dataType === 'date' || col.dataType === 'datetime' || col.dataType === 'timestamp';
  return text !== null && opts.zeroDateAsNull && temporal ? mysqlZeroDateAsNull(ref, text) : text;
}

function mysqlKindText(kind: CanonKind, col: NativeColumn, ref: string, opts: CanonOptions): string | null {
  const type = col.dataType;
  const isInt = MYSQL_INTS.has(type);
  const isText = MYSQL_TEXT.has(type) || type === 'json' || type === 'inet4' || type === 'inet6' || type === 'uuid';
  const temporal = type === 'datetime' || type === 'timestamp';
  switch (kind) {
    case 'int8':
    case 'int16':
    case 'int32':
    case 'int64':
    case 'uint64':
    case 'year':
    case 'decimal': {
      let text: string;
      if (isInt) text = `CAST(${ref} AS CHAR)`;
      else if (type === 'year') text = `CAST(${ref} + 0 AS CHAR)`;
      else if (type === 'decimal' || type === 'numeric') text = `CAST(${ref} AS CHAR)`;
      else return null;
      return opts.trimDecimal ? mysqlTrimDecimal(text) : text;
    }
    case 'float32':
    case 'float64': {
      if (type !== 'float' && type !== 'double' && type !== 'real') return null;
      // FLOAT widened to DOUBLE exactly (CAST(float AS CHAR) prints only 6 digits); a DOUBLE
      // holding a float32 value is rounded to FLOAT first, as the canonical float32 form is.
      const value = kind === 'float32' && type !== 'float' ? `CAST(${ref} AS FLOAT)` : ref;
      return mysqlNormaliseFloat(`(${value} + 0e0)`);
    }
    case 'boolean':
      if (!isInt && type !== 'bit') return null;
      return `CASE ${ref} + 0 WHEN 1 THEN 'true' WHEN 0 THEN 'false' ELSE CAST(${ref} + 0 AS CHAR) END`;
    case 'string':
    case 'enum':
    case 'interval':
    case 'timetz':
      return isText ? `CONVERT(${ref} USING utf8mb4)` : null;
    case 'set': {
      if (!isText) return null;
      const t = `CONVERT(${ref} USING utf8mb4)`;
      return `IF(${t} = '', '0:', CONCAT(LENGTH(${t}) - LENGTH(REPLACE(${t}, ',', '')) + 1, ':', ${t}))`;
    }
    case 'bit':
      if (type === 'bit') return `LPAD(BIN(${ref} + 0), ${col.length ?? 1}, '0')`;
      return isText ? `CONVERT(${ref} USING utf8mb4)` : null;
    case 'bytes':
      return MYSQL_BINARY.has(type) ? `LOWER(HEX(${ref}))` : null;
    case 'uuid':
      if (type === 'uuid') return `LOWER(CAST(${ref} AS CHAR))`;
      return isText ? `LOWER(CONVERT(${ref} USING utf8mb4))` : null;
    case 'json':
      if (type === 'json') return `CAST(${ref} AS CHAR)`;
      return isText ? `CONVERT(${ref} USING utf8mb4)` : null;
    case 'date':
      return type === 'date' ? `CAST(${ref} AS CHAR)` : null;
    case 'timestamp':
      return temporal ? mysqlTrimFraction(`DATE_FORMAT(${ref}, '%Y-%m-%dT%H:%i:%s.%f')`) : null;
    case 'timestamptz':
      // TIMESTAMP renders in the session zone, which is UTC; a DATETIME holding a timestamptz
      // (PostgreSQL source) holds UTC as the sink wrote it.
      return temporal ? `CONCAT(${mysqlTrimFraction(`DATE_FORMAT(${ref}, '%Y-%m-%dT%H:%i:%s.%f')`)}, 'Z')` : null;
    case 'time':
      return type === 'time' ? mysqlTrimFraction(`TIME_FORMAT(${ref}, '%H:%i:%s.%f')`) : null;
    case 'array':
      return null;
    case 'unknown':
      return `HEX(${ref})`;
  }
}

// ---------------------------------------------------------------- PostgreSQL

const PG_INTS = new Set(['smallint', 'integer', 'bigint']);

const pgTrimDecimal = (x: string) =>
  `CASE WHEN position('.' in ${x}) > 0 THEN rtrim(rtrim(${x}, '0'), '.') ELSE ${x} END`;

/** The PostgreSQL twin of mysqlNormaliseFloat(); `v` is a float8 expression. NaN and ±Infinity keep their names. */
export function postgresNormaliseFloat(v: string): string {
  const a = `abs(${v})::text`;
  const m = `split_part(${a}, 'e', 1)`;
  const x = `split_part(${a} || 'e0', 'e', 2)::int`;
  const intDigits = `(position('.' in ${m} || '.') - 1)`;
  const d = `replace(${m}, '.', '')`;
  const lead = `(length(${d}) - length(ltrim(${d}, '0')))`;
  const digits = `rtrim(ltrim(${d}, '0'), '0')`;
  return (
    `CASE WHEN ${v} = 'NaN' OR ${v} = 'Infinity' OR ${v} = '-Infinity' THEN ${v}::text WHEN ${v} = 0 THEN '0' ` +
    `ELSE (CASE WHEN ${v} < 0 THEN '-' ELSE '' END) || ${digits} || 'e' || (${x} + ${intDigits} - ${lead})::text END`
  );
}

const PG_TEXTUAL = new Set(['text', 'character varying', 'character', 'bpchar', 'name', 'citext', '"char"']);

/** A text expression of the column's value in the canonical form of `kind`, or null. */
export function postgresCanonicalText(
  kind: CanonKind,
  col: NativeColumn,
  ref: string,
  opts: CanonOptions,
): string | null {
  const type = col.dataType;
  const textual = PG_TEXTUAL.has(type) || col.pgEnum === true;
  switch (kind) {
    case 'int8':
    case 'int16':
    case 'int32':
    case 'int64':
    case 'uint64':
    case 'year':
    case 'decimal': {
      if (!PG_INTS.has(type) && type !== 'numeric') return null;
      return opts.trimDecimal ? pgTrimDecimal(`${ref}::text`) : `${ref}::text`;
    }
    case 'float32':
    case 'float64': {
      if (type !== 'real' && type !== 'double precision') return null;
      const value = kind === 'float32' && type !== 'real' ? `${ref}::real` : ref;
      return postgresNormaliseFloat(`${value}::float8`);
    }
    case 'boolean':
      if (type === 'boolean') return `${ref}::text`;
      if (PG_INTS.has(type)) return `CASE ${ref} WHEN 1 THEN 'true' WHEN 0 THEN 'false' ELSE ${ref}::text END`;
      return null;
    case 'string':
    case 'enum':
      if (col.kind !== 'string' && col.kind !== 'enum') return null;
      // character(n) reads with its padding (its output form); ::text would drop it.
      return col.padded && col.length !== undefined ? `rpad(${ref}::text, ${col.length})` : `${ref}::text`;
    case 'set':
      if (type === 'text[]' || type === 'character varying[]') {
        return `cardinality(${ref})::text || ':' || array_to_string(${ref}, ',')`;
      }
      if (!textual) return null;
      return `CASE WHEN ${ref}::text = '' THEN '0:' ELSE (length(${ref}::text) - length(replace(${ref}::text, ',', '')) + 1)::text || ':' || ${ref}::text END`;
    case 'bit':
      return type === 'bit' || type === 'bit varying' || textual ? `${ref}::text` : null;
    case 'bytes':
      return type === 'bytea' ? `encode(${ref}, 'hex')` : null;
    case 'uuid':
      if (type === 'uuid') return `${ref}::text`;
      return textual ? `lower(${ref}::text)` : null;
    case 'json':
      return type === 'json' || type === 'jsonb' || textual ? `${ref}::text` : null;
    case 'date':
      return type === 'date' ? `${ref}::text` : null;
    case 'timestamp':
      return type === 'timestamp without time zone' ? `replace(${ref}::text, ' ', 'T')` : null;
    case 'timestamptz':
      // The session runs in UTC, so the offset is always +00.
      if (type === 'timestamp with time zone') return `replace(replace(${ref}::text, '+00', 'Z'), ' ', 'T')`;
      if (type === 'timestamp without time zone') return `replace(${ref}::text, ' ', 'T') || 'Z'`;
      return null;
    case 'time':
      return type === 'time without time zone' ? `${ref}::text` : null;
    case 'timetz':
      if (type === 'time with time zone') return `regexp_replace(${ref}::text, '([+-][0-9]{2})$', '\\1:00')`;
      return textual ? `${ref}::text` : null;
    case 'interval':
      return type === 'interval' || textual ? `${ref}::text` : null;
    case 'array':
    case 'unknown':
      return `${ref}::text`;
  }
}

/** Dispatch on the engine of the column. */
export function canonicalText(kind: CanonKind, col: NativeColumn, ref: string, opts: CanonOptions): string | null {
  return col.engine === 'mysql'
    ? mysqlCanonicalText(kind, col, ref, opts)
    : postgresCanonicalText(kind, col, ref, opts);
}
