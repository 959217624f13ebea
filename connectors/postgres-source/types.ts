/**
 * PostgreSQL types -> ferry column kinds (docs/postgres-source.md#types). Pure: the catalog facts
 * come in as PgTypeInfo (catalog.ts reads them). Domains take the kind of their base type,
 * arrays are `array` with the kind of their element, enums carry their labels. Types without a
 * kind of their own (inet, xml, ranges, geometry, composite, money…) are `string` holding
 * PostgreSQL's text form.
 */
import type { ColumnKind, ColumnSchema } from '../../src/api/index.js';

export interface PgTypeInfo {
  oid: number;
  /** Schema of the type (`pg_catalog` for built-ins). */
  schema: string;
  name: string;
  /** pg_type.typtype: b base, c composite, d domain, e enum, p pseudo, r range, m multirange. */
  typtype: string;
  /** pg_type.typcategory: 'A' for arrays. */
  category: string;
  /** Element type of an array. */
  elemOid: number;
  /** Base type of a domain. */
  baseOid: number;
  /** Type modifier a domain applies to its base type (-1: none). */
  baseTypmod: number;
  /** Enum labels in sort order. */
  enumLabels: string[] | null;
}

export type TypeMap = ReadonlyMap<number, PgTypeInfo>;

const BUILTIN: Record<string, ColumnKind> = {
  bool: 'boolean',
  int2: 'int16',
  int4: 'int32',
  int8: 'int64',
  oid: 'int64',
  numeric: 'decimal',
  float4: 'float32',
  float8: 'float64',
  text: 'string',
  varchar: 'string',
  bpchar: 'string',
  char: 'string',
  name: 'string',
  bytea: 'bytes',
  uuid: 'uuid',
  json: 'json',
  jsonb: 'json',
  date: 'date',
  time: 'time',
  timetz: 'timetz',
  timestamp: 'timestamp',
  timestamptz: 'timestamptz',
  interval: 'interval',
  bit: 'bit',
  varbit: 'bit',
};

/** Follows domains down to their base type; returns the base type and the effective type modifier. */
export function resolveDomain(
  types: TypeMap,
  oid: number,
  typmod: number,
): { type: PgTypeInfo | undefined; typmod: number } {
  let type = types.get(oid);
  let mod = typmod;
  for (let depth = 0; type && type.typtype === 'd' && depth < 32; depth++) {
    if (mod < 0) mod = type.baseTypmod;
    type = types.get(type.baseOid);
  }
  return { type, typmod: mod };
}

function scalarKind(type: PgTypeInfo | undefined): ColumnKind {
  if (!type) return 'string';
  if (type.typtype === 'e') return 'enum';
  if (type.schema === 'pg_catalog' && type.typtype === 'b') return BUILTIN[type.name] ?? 'string';
  return 'string';
}

/** Details PostgreSQL keeps in a type modifier: length, precision/scale, fractional digits. */
function modifiers(type: PgTypeInfo | undefined, typmod: number): Partial<ColumnSchema> {
  if (type?.schema !== 'pg_catalog') return {};
  if (typmod < 0) return ['time', 'timetz', 'timestamp', 'timestamptz'].includes(type.name) ? { fsp: 6 } : {};
  switch (type.name) {
    case 'varchar':
    case 'bpchar':
      return typmod >= 4 ? { length: typmod - 4 } : {};
    case 'bit':
    case 'varbit':
      return { length: typmod };
    case 'numeric': {
      if (typmod < 4) return {};
      const m = typmod - 4;
      // The scale is an 11-bit signed field since PostgreSQL 15 (negative scales are allowed).
      const scale = ((m & 0x7ff) ^ 0x400) - 0x400;
      return { precision: (m >> 16) & 0xffff, scale };
    }
    case 'time':
    case 'timetz':
    case 'timestamp':
    case 'timestamptz':
      return { fsp: Math.min(typmod, 6) };
    case 'interval': {
      const precision = typmod & 0xffff;
      return precision === 0xffff ? {} : { fsp: precision };
    }
    default:
      return {};
  }
}

export interface RawColumn {
  name: string;
  typeOid: number;
  typmod: number;
  notNull: boolean;
  /** format_type(type, typmod) as the server spells it, e.g. `numeric(10,2)`, `text[]`, `public.mood`. */
  sourceType: string;
  /** The column's attribute number (pg_attribute.attnum), when read from the catalog. */
  attnum?: number;
  /** Text (the type's output form) of the value rows added before the column hold: pg_attribute.attmissingval or a constant default. */
  defaultText?: string;
  /** The catalog holds a default (pg_attrdef) or a missing value (attmissingval) for the column. */
  hasDefault?: true;
}

/** A ferry column from a PostgreSQL column (catalog or pgoutput Relation message). */
export function columnSchema(raw: RawColumn, types: TypeMap): ColumnSchema {
  const { type, typmod } = resolveDomain(types, raw.typeOid, raw.typmod);
  const col: ColumnSchema = { name: raw.name, kind: 'string', sourceType: raw.sourceType, nullable: !raw.notNull };
  if (type && type.category === 'A' && type.elemOid !== 0) {
    const elem = resolveDomain(types, type.elemOid, typmod);
    col.kind = 'array';
    col.elementKind = scalarKind(elem.type);
    if (elem.type?.typtype === 'e' && elem.type.enumLabels) col.enumValues = [...elem.type.enumLabels];
    Object.assign(col, modifiers(elem.type, elem.typmod));
    return col;
  }
  col.kind = scalarKind(type);
  if (type?.typtype === 'e' && type.enumLabels) col.enumValues = [...type.enumLabels];
  Object.assign(col, modifiers(type, typmod));
  return col;
}

/** Type oids a set of types refers to that are not in the map yet (elements, domain bases). */
export function missingTypeOids(types: TypeMap, oids: Iterable<number>): number[] {
  const missing = new Set<number>();
  const seen = new Set<number>();
  const visit = (oid: number): void => {
    if (oid === 0 || seen.has(oid)) return;
    seen.add(oid);
    const t = types.get(oid);
    if (!t) {
      missing.add(oid);
      return;
    }
    if (t.category === 'A') visit(t.elemOid);
    if (t.typtype === 'd') visit(t.baseOid);
  };
  for (const oid of oids) visit(oid);
  return [...missing];
}
