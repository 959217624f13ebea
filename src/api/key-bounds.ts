import type { JsonValue } from './json.js';
import type { ColumnSchema, TableSchema } from './schema.js';

const INTEGER_KINDS = new Set(['int8', 'int16', 'int32', 'int64', 'uint64']);

/** The key column of a table whose key is a single integer column (the only keys cut into ranges), else null. */
export function integerKeyColumn(table: TableSchema): ColumnSchema | null {
  if (table.primaryKey.length !== 1) return null;
  const column = table.columns.find((c) => c.name === table.primaryKey[0]);
  return column && INTEGER_KINDS.has(column.kind) ? column : null;
}

/**
 * `parts - 1` keys cutting [min, max] into `parts` ranges of equal width, ascending and distinct,
 * as canonical key values (numbers within 2^53, strings beyond). Empty when the range is too
 * narrow to cut.
 */
export function evenBounds(min: bigint, max: bigint, parts: number): JsonValue[][] {
  const out: JsonValue[][] = [];
  const width = max - min;
  if (parts < 2 || width < BigInt(parts)) return out;
  let previous = min;
  for (let i = 1; i < parts; i++) {
    const b = min + (width * BigInt(i)) / BigInt(parts);
    if (b <= previous || b >= max) continue;
    previous = b;
    out.push([integerKey(b)]);
  }
  return out;
}

/** An integer key value in the canonical encoding: a number within 2^53, a string beyond. */
export function integerKey(n: bigint): JsonValue {
  const safe = n <= BigInt(Number.MAX_SAFE_INTEGER) && n >= BigInt(Number.MIN_SAFE_INTEGER);
  return safe ? Number(n) : n.toString();
}
