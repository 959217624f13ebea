import { type ColumnSchema, FerryError, type JsonValue, type TableSchema, tableName } from '../../src/api/index.js';
import { quoteId } from './schema.js';

/**
 * SQL of the snapshot's keyset pagination (pure): `SELECT cols FROM t WHERE (key) > (last key)
 * ORDER BY key LIMIT n`, with the row comparison spelled out as `a > ? OR (a = ? AND b > ?)` so
 * every MySQL/MariaDB version uses the primary key range. `afterKey` holds canonical values (as
 * published); they are turned back into values MySQL compares exactly: integers and decimals as
 * literals (a string parameter would be compared as a double), ENUM by index, bytes as Buffers.
 */
export function chunkQuery(
  schema: TableSchema,
  afterKey: JsonValue[] | null,
  limit: number,
  until?: JsonValue[],
): { sql: string; params: unknown[] } {
  const select = schema.columns.map(selectExpr).join(', ');
  const keyCols = schema.primaryKey.map((k) => column(schema, k));
  const order = keyCols.map((c) => quoteId(c.name)).join(', ');
  const params: unknown[] = [];
  let where = '';
  if (afterKey) {
    if (afterKey.length !== keyCols.length) {
      throw new FerryError(
        'FERRY_INTERNAL',
        `snapshot resume key of ${tableName(schema)} has ${afterKey.length} values, the key has ${keyCols.length}`,
      );
    }
    const terms: string[] = [];
    for (let i = 0; i < keyCols.length; i++) {
      const parts: string[] = [];
      for (let j = 0; j < i; j++) parts.push(compare(keyCols[j]!, '=', afterKey[j]!, params));
      parts.push(compare(keyCols[i]!, '>', afterKey[i]!, params));
      terms.push(parts.length === 1 ? parts[0]! : `(${parts.join(' AND ')})`);
    }
    where = ` WHERE ${terms.join(' OR ')}`;
  }
  if (until) {
    // Ranges are cut on single-column keys only (keyBounds).
    if (keyCols.length !== 1 || until.length !== 1) {
      throw new FerryError('FERRY_INTERNAL', `a key range end of ${tableName(schema)} needs a single-column key`);
    }
    const end = compare(keyCols[0]!, '<=', until[0]!, params);
    where = where ? `${where.replace(' WHERE ', ' WHERE (')}) AND ${end}` : ` WHERE ${end}`;
  }
  const from = `${quoteId(schema.db)}.${quoteId(schema.table)}`;
  const n = Math.max(1, Math.floor(limit));
  return { sql: `SELECT ${select} FROM ${from}${where} ORDER BY ${order} LIMIT ${n}`, params };
}

/** SQL of a repair read (pure): exactly the rows with these keys (canonical values, key order). */
export function keysQuery(schema: TableSchema, keys: JsonValue[][]): { sql: string; params: unknown[] } {
  const select = schema.columns.map(selectExpr).join(', ');
  const keyCols = schema.primaryKey.map((k) => column(schema, k));
  const params: unknown[] = [];
  const terms = keys.map((key) => {
    if (key.length !== keyCols.length) {
      throw new FerryError(
        'FERRY_INTERNAL',
        `repair key of ${tableName(schema)} has ${key.length} values, the key has ${keyCols.length}`,
      );
    }
    return `(${keyCols.map((c, i) => compare(c, '=', key[i]!, params)).join(' AND ')})`;
  });
  const from = `${quoteId(schema.db)}.${quoteId(schema.table)}`;
  return { sql: `SELECT ${select} FROM ${from} WHERE ${terms.join(' OR ') || 'FALSE'}`, params };
}

/** FLOAT as text is rounded by the server; CAST to DOUBLE gives the exact 32-bit value (docs/values.md). */
function selectExpr(c: ColumnSchema): string {
  const id = quoteId(c.name);
  return c.kind === 'float32' ? `CAST(${id} AS DOUBLE) AS ${id}` : id;
}

function column(schema: TableSchema, name: string): ColumnSchema {
  const c = schema.columns.find((x) => x.name === name);
  if (!c) throw new FerryError('FERRY_INTERNAL', `key column ${name} missing from the schema of ${tableName(schema)}`);
  return c;
}

function compare(c: ColumnSchema, op: '=' | '>' | '<=', value: JsonValue, params: unknown[]): string {
  const id = quoteId(c.name);
  const bad = () =>
    new FerryError(
      'FERRY_INTERNAL',
      `cannot use ${JSON.stringify(value)} as a ${c.kind} key value of column ${c.name}`,
    );
  switch (c.kind) {
    case 'int8':
    case 'int16':
    case 'int32':
    case 'int64':
    case 'uint64':
    case 'year':
      if (!/^-?\d+$/.test(String(value))) throw bad();
      return `${id} ${op} ${String(value)}`;
    case 'decimal':
      if (!/^-?\d+(\.\d+)?$/.test(String(value))) throw bad();
      return `${id} ${op} ${String(value)}`;
    case 'enum': {
      // An ENUM sorts by its index: `>` is the set of labels after this one, which the key index
      // serves as a range of point lookups (a comparison of `col + 0` would scan every row).
      const labels = c.enumValues ?? [];
      const index = labels.indexOf(String(value));
      if (op === '=') {
        params.push(String(value));
        return `${id} = ?`;
      }
      const after = op === '>' ? labels.slice(index + 1) : labels.slice(0, index + 1);
      if (after.length === 0) return 'FALSE';
      params.push(...after);
      return `${id} IN (${after.map(() => '?').join(', ')})`;
    }
    case 'set': {
      const members = Array.isArray(value) ? value.map(String) : [];
      const mask = members.reduce((m, v) => m | (1n << BigInt(Math.max(0, (c.enumValues ?? []).indexOf(v)))), 0n);
      return `(${id} + 0) ${op} ${mask.toString()}`;
    }
    case 'float32':
      // The canonical value is the shortest decimal of the 32-bit float; compare the exact value.
      // Compared with the column itself, so the key index serves the range.
      params.push(Math.fround(Number(value)));
      return `${id} ${op} ?`;
    case 'bytes':
      params.push(Buffer.from(String(value), 'base64'));
      return `${id} ${op} ?`;
    case 'bit':
      if (!/^[01]*$/.test(String(value))) throw bad();
      return `${id} ${op} b'${String(value) || '0'}'`;
    case 'timestamp':
      params.push(String(value).replace('T', ' '));
      return `${id} ${op} ?`;
    case 'timestamptz':
      params.push(String(value).replace('T', ' ').replace(/Z$/, ''));
      return `${id} ${op} ?`;
    default:
      params.push(value);
      return `${id} ${op} ?`;
  }
}
