import {
  type ColumnSchema,
  encodeValue,
  FerryError,
  type JsonValue,
  type Row,
  type TableSchema,
  tableName,
} from '../../src/api/index.js';

/** TIMESTAMP text is rendered in UTC: zongji with `timezone: 'Z'`, queries with `time_zone = '+00:00'`. */
const ENCODE_OPTS = { sourceTimeZoneOffsetMinutes: 0 };

/**
 * Driver quirks fixed before canonical encoding (pure):
 * - zongji decodes YEAR as `stored + 1900`, so YEAR 0000 (stored 0) arrives as 1900, a year
 *   YEAR cannot hold (1901–2155 or 0000): it is 0.
 * - an ENUM holding the invalid-value index 0 (shown as '' by MySQL) arrives from zongji as
 *   undefined: it is ''.
 * - MariaDB's UUID type arrives from the binlog as 16 bytes (zongji sees binary(16) in the FULL
 *   metadata). The row image holds them in text order (checked on MariaDB 10.11 for UUID
 *   versions 1, 4, 6 and 7 and both variants; the index-friendly swap is a storage detail), so
 *   the hex digits are the UUID text.
 */
export function normalizeRaw(column: ColumnSchema, raw: unknown): unknown {
  if (column.kind === 'year' && raw === 1900) return 0;
  if (column.kind === 'enum' && raw === undefined) return '';
  if (column.kind === 'uuid' && raw instanceof Uint8Array && raw.length === 16) {
    const hex = Buffer.from(raw).toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
  return raw;
}

/**
 * Encodes a raw row (zongji binlog row or mysql2 query row, keyed by column name) into a
 * canonical Row with exactly the schema's columns.
 */
export function encodeRow(schema: TableSchema, raw: Record<string, unknown>): Row {
  const row: Row = {};
  for (const col of schema.columns) {
    if (!(col.name in raw)) {
      throw new FerryError(
        'FERRY_DECODE',
        `a row of ${tableName(schema)} has no value for column ${col.name} (schema version ${schema.version})`,
        { details: { table: tableName(schema), column: col.name } },
      );
    }
    row[col.name] = encodeValue(col, normalizeRaw(col, raw[col.name]), ENCODE_OPTS);
  }
  return row;
}

/** The key object of a canonical row: the key columns in key order. */
export function keyOf(schema: TableSchema, row: Row): Row {
  const key: Row = {};
  for (const k of schema.primaryKey) key[k] = row[k] ?? null;
  return key;
}

export function sameKey(a: Row, b: Row): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function keyValues(schema: TableSchema, row: Row): JsonValue[] {
  return schema.primaryKey.map((k) => row[k] ?? null);
}
