/**
 * Reading topics written by Debezium (docs/sinks.md#debezium-input), so that the sink side can
 * be switched first. Two cases:
 * - with `schemas.enable` (a `{schema, payload}` wrapper): the table schema is derived from the
 *   envelope's `after`/`before` struct, and values in Debezium's logical types (Date as days,
 *   MicroTimestamp, Decimal as bytes, Bits little-endian, EnumSet, Json…) are converted to
 *   ferry's canonical values;
 * - without: columns are inferred from the row JSON (number -> decimal, string ->
 *   string, boolean, object/array -> json), widened as new columns appear. Values stay as
 *   Debezium wrote them: dates arriving as epoch numbers land in bigint columns, decimals as
 *   base64 text; numbers become exact decimals (a column may carry 4 first and 1.5 later).
 *   Pre-create the target tables with the right types, or enable schemas.
 * The key columns come from the Kafka key (its schema or its fields).
 */
import {
  type ColumnKind,
  type ColumnSchema,
  encodeTimestampTz,
  encodeTimeTz,
  FerryError,
  formatInterval,
  type JsonObject,
  type JsonValue,
  type Row,
  type TableSchema,
  UNCHANGED,
  withVersion,
} from '../../api/index.js';

type SourceKind = 'mysql' | 'postgresql' | undefined;

interface ConnectField {
  field?: string;
  type?: string;
  optional?: boolean;
  name?: string;
  parameters?: Record<string, string>;
  fields?: ConnectField[];
  items?: ConnectField;
}

export interface DebeziumTable {
  db: string;
  table: string;
  sourceKind: SourceKind;
}

/** Where a Debezium event comes from: MySQL database or PostgreSQL schema, and table. */
export function debeziumTable(source: JsonObject): DebeziumTable {
  const connector = String(source['connector'] ?? '');
  const sourceKind: SourceKind =
    connector === 'postgresql' ? 'postgresql' : connector === 'mysql' || connector === 'mariadb' ? 'mysql' : undefined;
  const db = sourceKind === 'postgresql' ? (source['schema'] ?? source['db']) : (source['db'] ?? source['schema']);
  const table = source['table'];
  if (typeof db !== 'string' || typeof table !== 'string' || db === '' || table === '') {
    throw new FerryError('FERRY_DECODE', 'the envelope source block names no database/schema and table');
  }
  return { db, table, sourceKind };
}

/** Key column names from a Kafka key (plain JSON object, or a `{schema, payload}` wrapper). */
export function debeziumKeyColumns(keyText: string | null): string[] {
  if (keyText === null) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(keyText);
  } catch {
    return [];
  }
  if (!isObject(parsed)) return [];
  if ('payload' in parsed && 'schema' in parsed) {
    const schema = parsed['schema'] as ConnectField | null;
    if (schema?.fields) return schema.fields.map((f) => f.field).filter((f): f is string => typeof f === 'string');
    return isObject(parsed['payload']) ? Object.keys(parsed['payload']) : [];
  }
  return Object.keys(parsed);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

function civil(days: number): string {
  const d = new Date(days * 86_400_000);
  const y = d.getUTCFullYear();
  const year = y < 0 ? `-${pad(-y, 4)}` : pad(y, 4);
  return `${year}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

function fraction(micros: bigint): string {
  const f = String(micros).padStart(6, '0').replace(/0+$/, '');
  return f ? `.${f}` : '';
}

/** Epoch microseconds -> canonical timestamp without zone. */
function timestampFromMicros(us: bigint): string {
  const days = us >= 0n ? us / 86_400_000_000n : -((-us + 86_399_999_999n) / 86_400_000_000n);
  const sod = us - days * 86_400_000_000n;
  return `${civil(Number(days))}T${clock(sod)}`;
}

/** Microseconds of the day -> HH:MM:SS[.ffffff]. */
function clock(us: bigint): string {
  const neg = us < 0n;
  const a = neg ? -us : us;
  const s = a / 1_000_000n;
  return `${neg ? '-' : ''}${pad(Number(s / 3600n))}:${pad(Number((s / 60n) % 60n))}:${pad(Number(s % 60n))}${fraction(a % 1_000_000n)}`;
}

function toBigInt(v: JsonValue): bigint {
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  throw new FerryError('FERRY_DECODE', `expected an integer, got ${JSON.stringify(v)}`);
}

/** Kafka Connect Decimal: base64 big-endian two's complement unscaled value, with a scale. */
export function decodeConnectDecimal(base64: string, scale: number): string {
  const bytes = Buffer.from(base64, 'base64');
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  if (bytes.length > 0 && (bytes[0]! & 0x80) !== 0) n -= 1n << BigInt(bytes.length * 8);
  const neg = n < 0n;
  let digits = (neg ? -n : n).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  }
  return neg ? `-${digits}` : digits;
}

/** io.debezium.data.Bits: little-endian bytes -> canonical bit string of `length` bits. */
export function decodeBits(base64: string, length: number | undefined): string {
  const bytes = Buffer.from(base64, 'base64');
  let bits = '';
  for (let i = bytes.length - 1; i >= 0; i--) bits += bytes[i]!.toString(2).padStart(8, '0');
  if (length === undefined) return bits;
  return bits.length >= length ? bits.slice(bits.length - length) : bits.padStart(length, '0');
}

interface FieldMapping {
  column: ColumnSchema;
  convert: (v: JsonValue) => JsonValue;
}

const identity = (v: JsonValue): JsonValue => v;

function param(f: ConnectField, name: string): string | undefined {
  return f.parameters?.[name];
}

function mapField(f: ConnectField): FieldMapping {
  const name = f.field ?? '';
  const sourceType = param(f, '__debezium.source.column.type') ?? f.name ?? f.type ?? 'unknown';
  const length = param(f, '__debezium.source.column.length') ?? param(f, 'length');
  const base: ColumnSchema = { name, kind: 'string', sourceType, nullable: f.optional !== false };
  const col = (kind: ColumnKind, extra: Partial<ColumnSchema> = {}): ColumnSchema => ({ ...base, kind, ...extra });
  switch (f.name) {
    case 'io.debezium.time.Date':
    case 'org.apache.kafka.connect.data.Date':
      return { column: col('date'), convert: (v) => civil(Number(v)) };
    case 'io.debezium.time.Timestamp':
    case 'org.apache.kafka.connect.data.Timestamp':
      return { column: col('timestamp', { fsp: 3 }), convert: (v) => timestampFromMicros(toBigInt(v) * 1000n) };
    case 'io.debezium.time.MicroTimestamp':
      return { column: col('timestamp', { fsp: 6 }), convert: (v) => timestampFromMicros(toBigInt(v)) };
    case 'io.debezium.time.NanoTimestamp':
      return { column: col('timestamp', { fsp: 6 }), convert: (v) => timestampFromMicros(toBigInt(v) / 1000n) };
    case 'io.debezium.time.ZonedTimestamp':
      return { column: col('timestamptz', { fsp: 6 }), convert: (v) => encodeTimestampTz(base, v) };
    case 'io.debezium.time.Time':
    case 'org.apache.kafka.connect.data.Time':
      return { column: col('time', { fsp: 3 }), convert: (v) => clock(toBigInt(v) * 1000n) };
    case 'io.debezium.time.MicroTime':
      return { column: col('time', { fsp: 6 }), convert: (v) => clock(toBigInt(v)) };
    case 'io.debezium.time.NanoTime':
      return { column: col('time', { fsp: 6 }), convert: (v) => clock(toBigInt(v) / 1000n) };
    case 'io.debezium.time.ZonedTime':
      return { column: col('timetz'), convert: (v) => encodeTimeTz(base, v) };
    case 'io.debezium.time.Year':
      return { column: col('year'), convert: identity };
    case 'io.debezium.time.MicroDuration':
      return {
        column: col('interval'),
        convert: (v) => formatInterval({ months: 0, days: 0, micros: toBigInt(v) }),
      };
    case 'io.debezium.time.Interval':
      return { column: col('interval'), convert: identity };
    case 'org.apache.kafka.connect.data.Decimal': {
      const scale = Number(param(f, 'scale') ?? 0);
      const precision = param(f, 'connect.decimal.precision');
      return {
        column: col('decimal', { scale, ...(precision ? { precision: Number(precision) } : {}) }),
        convert: (v) => (typeof v === 'string' ? decodeConnectDecimal(v, scale) : String(v)),
      };
    }
    case 'io.debezium.data.VariableScaleDecimal':
      return {
        column: col('decimal'),
        convert: (v) => {
          if (!isObject(v)) return String(v);
          return decodeConnectDecimal(String(v['value']), Number(v['scale'] ?? 0));
        },
      };
    case 'io.debezium.data.Json':
      return { column: col('json'), convert: identity };
    case 'io.debezium.data.Uuid':
      return { column: col('uuid'), convert: identity };
    case 'io.debezium.data.Enum': {
      const allowed = param(f, 'allowed');
      return { column: col('enum', allowed ? { enumValues: allowed.split(',') } : {}), convert: identity };
    }
    case 'io.debezium.data.EnumSet': {
      const allowed = param(f, 'allowed');
      return {
        column: col('set', allowed ? { enumValues: allowed.split(',') } : {}),
        convert: (v) => (typeof v === 'string' ? (v === '' ? [] : v.split(',')) : v),
      };
    }
    case 'io.debezium.data.Bits': {
      const bits = length === undefined ? undefined : Number(length);
      return {
        column: col('bit', bits === undefined ? {} : { length: bits }),
        convert: (v) => decodeBits(String(v), bits),
      };
    }
  }
  const len = length === undefined ? {} : { length: Number(length) };
  switch (f.type) {
    case 'boolean':
      return { column: col('boolean'), convert: identity };
    case 'int8':
      return { column: col('int8'), convert: identity };
    case 'int16':
      return { column: col('int16'), convert: identity };
    case 'int32':
      return { column: col('int32'), convert: identity };
    case 'int64':
      return { column: col('int64'), convert: identity };
    case 'float':
    case 'float32':
      return { column: col('float32'), convert: identity };
    case 'double':
    case 'float64':
      return { column: col('float64'), convert: identity };
    case 'bytes':
      return { column: col('bytes'), convert: identity };
    case 'array': {
      const element = f.items ? mapField({ ...f.items, field: name }) : undefined;
      const elementKind = element?.column.kind === 'array' ? 'json' : (element?.column.kind ?? 'string');
      return {
        column: col('array', { elementKind }),
        convert: (v) => (Array.isArray(v) && element ? v.map((x) => (x === null ? null : element.convert(x))) : v),
      };
    }
    case 'struct':
    case 'map':
      return { column: col('json'), convert: (v) => JSON.stringify(v) };
    default:
      return { column: col('string', len), convert: identity };
  }
}

export interface DebeziumDecoded {
  schema: TableSchema;
  before: Row | null;
  after: Row | null;
}

function convertRow(row: Row | null, fields: Map<string, FieldMapping> | null): Row | null {
  if (row === null) return null;
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) {
    const m = fields?.get(k);
    if (v === null || v === UNCHANGED || !m) {
      if (!fields && typeof v === 'object' && v !== null) out[k] = JSON.stringify(v);
      else if (!fields && typeof v === 'number') out[k] = String(v);
      else out[k] = v;
    } else {
      out[k] = m.convert(v);
    }
  }
  return out;
}

function inferKind(v: JsonValue): ColumnKind | undefined {
  if (v === null || v === UNCHANGED) return undefined;
  if (typeof v === 'boolean') return 'boolean';
  // Any number is an exact decimal: the first value seen of a column may be 4 and the next 1.5.
  if (typeof v === 'number') return 'decimal';
  if (typeof v === 'string') return 'string';
  return 'json';
}

/**
 * Derives schemas for Debezium topics: from the envelope's schema block when present, else by
 * inference from the rows seen (one growing schema per table).
 */
export class DebeziumSchemas {
  private readonly inferred = new Map<string, ColumnSchema[]>();

  private readonly last = new Map<string, TableSchema>();
  private readonly derived = new Map<string, { mappings: Map<string, FieldMapping>; columns: ColumnSchema[] }>();
  private readonly versions = new Map<string, TableSchema>();

  /** The last schema seen for a table (a Debezium truncate carries no row to derive one from). */
  lastSchema(table: DebeziumTable): TableSchema | undefined {
    return this.last.get(`${table.db}\u0000${table.table}`);
  }

  decode(
    env: { before: Row | null; after: Row | null; debeziumSchema?: JsonObject },
    table: DebeziumTable,
    keyText: string | null,
  ): DebeziumDecoded {
    const keyColumns = debeziumKeyColumns(keyText);
    const envelopeFields = (env.debeziumSchema as ConnectField | undefined)?.fields;
    const rowStruct =
      envelopeFields?.find((f) => f.field === 'after' && f.fields) ??
      envelopeFields?.find((f) => f.field === 'before' && f.fields);
    let columns: ColumnSchema[];
    let mappings: Map<string, FieldMapping> | null = null;
    if (rowStruct?.fields) {
      // Every event repeats the schema block: derive the mapping once per distinct block.
      const memoKey = JSON.stringify(rowStruct.fields);
      let memo = this.derived.get(memoKey);
      if (!memo) {
        const m = new Map(rowStruct.fields.map((f) => [f.field ?? '', mapField(f)]));
        memo = { mappings: m, columns: [...m.values()].map((x) => x.column) };
        if (this.derived.size > 1000) this.derived.clear();
        this.derived.set(memoKey, memo);
      }
      mappings = memo.mappings;
      columns = memo.columns;
    } else {
      columns = this.infer(table, env.after ?? env.before ?? {});
    }
    const primaryKey = keyColumns.length > 0 ? keyColumns : [];
    if (primaryKey.length === 0 && (env.after !== null || env.before !== null)) {
      throw new FerryError(
        'FERRY_DECODE',
        `Debezium event of ${table.db}.${table.table} has no key; ferry applies changes by key`,
      );
    }
    const schema = this.schemaOf(table, columns, primaryKey);
    this.last.set(`${table.db}\u0000${table.table}`, schema);
    return { schema, before: convertRow(env.before, mappings), after: convertRow(env.after, mappings) };
  }

  /** One TableSchema object per distinct shape (so reduction and ensureTable see stable versions). */
  private schemaOf(table: DebeziumTable, columns: ColumnSchema[], primaryKey: string[]): TableSchema {
    const memoKey = JSON.stringify([table.db, table.table, table.sourceKind ?? null, primaryKey, columns]);
    let schema = this.versions.get(memoKey);
    if (!schema) {
      const pk = new Set(primaryKey);
      const shaped = columns.map((c) => (pk.has(c.name) ? { ...c, nullable: false } : c));
      schema = {
        ...withVersion({ db: table.db, table: table.table, columns: shaped, primaryKey }),
        ...(table.sourceKind ? { sourceKind: table.sourceKind } : {}),
      };
      if (this.versions.size > 1000) this.versions.clear();
      this.versions.set(memoKey, schema);
    }
    return schema;
  }

  private infer(table: DebeziumTable, row: Row): ColumnSchema[] {
    const id = `${table.db}\u0000${table.table}`;
    const known = this.inferred.get(id) ?? [];
    const byName = new Map(known.map((c) => [c.name, c]));
    let changed = false;
    for (const [name, v] of Object.entries(row)) {
      const kind = inferKind(v);
      const existing = byName.get(name);
      // A column joins the schema with its first non-null value, and its kind is fixed then
      // (until then its nulls are simply not written: the target column would be NULL anyway).
      if (!existing && kind) {
        byName.set(name, { name, kind, sourceType: kind, nullable: true });
        changed = true;
      }
    }
    const columns = changed ? [...byName.values()] : known;
    if (changed) this.inferred.set(id, columns);
    return columns;
  }
}
