/**
 * Reading PostgreSQL's catalog: captured tables, their columns and keys, and the types those
 * columns use. Results come back as one JSON document per query, so no pg.types parser is involved
 * (every ferry session is text-only, config.ts).
 */
import type { Client } from 'pg';
import {
  type ColumnSchema,
  configuredKeyColumns,
  FerryError,
  isColumnExcluded,
  isTableCaptured,
  type TableFilter,
  type TableSchema,
  withVersion,
} from '../../src/api/index.js';
import { withDefault, withDefaultValue } from './defaults.js';
import type { RelationHistory } from './renames.js';
import { columnSchema, missingTypeOids, type PgTypeInfo, type RawColumn } from './types.js';

/** Runs `sql` wrapped as `SELECT json_agg(q) FROM (sql) q` and returns the rows. */
export async function queryJson<T>(client: Client, sql: string, params: unknown[] = []): Promise<T[]> {
  const res = await client.query<{ j: string | null }>(`SELECT json_agg(q)::text AS j FROM (${sql}) q`, params);
  const text = res.rows[0]?.j;
  return text ? (JSON.parse(text) as T[]) : [];
}

export async function queryValue(client: Client, sql: string, params: unknown[] = []): Promise<string | null> {
  const res = await client.query<Record<string, string | null>>(sql, params);
  const row = res.rows[0];
  if (!row) return null;
  return Object.values(row)[0] ?? null;
}

/** What ferry knows of a table beyond its TableSchema. */
export interface CatalogTable {
  oid: number;
  schema: string;
  name: string;
  /** relreplident: d default, n nothing, f full, i index. */
  replicaIdentity: string;
  columns: (RawColumn & { generated: boolean })[];
  primaryKey: string[];
  /** Columns of the REPLICA IDENTITY USING INDEX index. */
  identityIndex: string[];
  /** Columns of each unique index on plain columns, without a predicate. */
  uniqueIndexes?: string[][];
  canSelect: boolean;
}

interface TableRow {
  oid: number;
  schema: string;
  name: string;
  replident: string;
  can_select: boolean;
}

interface ColumnRow {
  rel: number;
  attnum: number;
  default_expr: string | null;
  missing: string | null;
  name: string;
  type_oid: number;
  typmod: number;
  not_null: boolean;
  generated: boolean;
  source_type: string;
}

interface KeyRow {
  rel: number;
  primary: boolean;
  identity: boolean;
  columns: string[];
}

/** Ordinary tables (and leaf partitions) matched by the filter, with columns and keys. */
export async function readTables(client: Client, filter: TableFilter): Promise<CatalogTable[]> {
  const all = await queryJson<TableRow>(
    client,
    `SELECT c.oid::int8 AS oid, n.nspname AS schema, c.relname AS name, c.relreplident::text AS replident,
            has_table_privilege(c.oid, 'SELECT') AS can_select
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r' AND c.relpersistence = 'p'
        AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
      ORDER BY n.nspname, c.relname`,
  );
  const tables = all.filter((t) => isTableCaptured(filter, { db: t.schema, table: t.name }));
  return readTableDetails(client, tables);
}

/** The same details for tables given by oid (used when a Relation message arrives). */
export async function readTablesByOid(client: Client, oids: number[]): Promise<CatalogTable[]> {
  const rows = await queryJson<TableRow>(
    client,
    `SELECT c.oid::int8 AS oid, n.nspname AS schema, c.relname AS name, c.relreplident::text AS replident,
            has_table_privilege(c.oid, 'SELECT') AS can_select
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.oid = ANY($1::oid[])`,
    [oids],
  );
  return readTableDetails(client, rows);
}

async function readTableDetails(client: Client, tables: TableRow[]): Promise<CatalogTable[]> {
  if (tables.length === 0) return [];
  const oids = tables.map((t) => t.oid);
  const columns = await queryJson<ColumnRow>(
    client,
    `SELECT a.attrelid::int8 AS rel, a.attname AS name, a.atttypid::int8 AS type_oid, a.atttypmod AS typmod,
            a.attnotnull AS not_null, a.attgenerated <> '' AS generated,
            format_type(a.atttypid, a.atttypmod) AS source_type, a.attnum::int4 AS attnum,
            pg_get_expr(d.adbin, d.adrelid) AS default_expr,
            CASE WHEN a.atthasmissing THEN a.attmissingval::text END AS missing
       FROM pg_attribute a
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attrelid, a.attnum`,
    [oids],
  );
  const keys = await queryJson<KeyRow>(
    client,
    `SELECT i.indrelid::int8 AS rel, i.indisprimary AS primary, i.indisreplident AS identity,
            array_agg(a.attname ORDER BY k.ord) AS columns
       FROM pg_index i
       CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = ANY($1::oid[])
        AND (i.indisprimary OR i.indisreplident OR (i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL))
      GROUP BY i.indrelid, i.indexrelid, i.indisprimary, i.indisreplident
      ORDER BY i.indrelid, i.indexrelid`,
    [oids],
  );
  return tables.map((t) => ({
    oid: t.oid,
    schema: t.schema,
    name: t.name,
    replicaIdentity: t.replident,
    canSelect: t.can_select,
    columns: columns
      .filter((c) => c.rel === t.oid)
      .map((c) => ({
        name: c.name,
        typeOid: c.type_oid,
        typmod: c.typmod,
        notNull: c.not_null,
        generated: c.generated,
        sourceType: c.source_type,
        attnum: c.attnum,
        ...withDefault(c.missing, c.default_expr),
        ...(c.missing !== null || c.default_expr !== null ? { hasDefault: true as const } : {}),
      })),
    primaryKey: keys.find((k) => k.rel === t.oid && k.primary)?.columns ?? [],
    identityIndex: keys.find((k) => k.rel === t.oid && k.identity && !k.primary)?.columns ?? [],
    uniqueIndexes: keys.filter((k) => k.rel === t.oid && !k.primary).map((k) => k.columns),
  }));
}

interface TypeRow {
  oid: number;
  schema: string;
  name: string;
  typtype: string;
  category: string;
  elem: number;
  base: number;
  base_typmod: number;
  labels: string[] | null;
}

/** Loads the types (and, transitively, their elements and domain bases) into `cache`. */
export async function loadTypes(client: Client, cache: Map<number, PgTypeInfo>, oids: Iterable<number>): Promise<void> {
  for (let round = 0; round < 8; round++) {
    const missing = missingTypeOids(cache, oids);
    if (missing.length === 0) return;
    const rows = await queryJson<TypeRow>(
      client,
      `SELECT t.oid::int8 AS oid, n.nspname AS schema, t.typname AS name, t.typtype::text AS typtype,
              t.typcategory::text AS category, t.typelem::int8 AS elem, t.typbasetype::int8 AS base,
              t.typtypmod AS base_typmod,
              CASE WHEN t.typtype = 'e' THEN
                (SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid)
              END AS labels
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE t.oid = ANY($1::oid[])`,
      [missing],
    );
    for (const r of rows) {
      cache.set(r.oid, {
        oid: r.oid,
        schema: r.schema,
        name: r.name,
        typtype: r.typtype,
        category: r.category,
        elemOid: r.elem,
        baseOid: r.base,
        baseTypmod: r.base_typmod,
        enumLabels: r.labels,
      });
    }
    if (rows.length === 0) return;
  }
}

/** Forgets enum types so their labels are read again (ALTER TYPE … ADD VALUE). */
export function forgetEnums(cache: Map<number, PgTypeInfo>): void {
  for (const [oid, t] of cache) if (t.typtype === 'e') cache.delete(oid);
}

/**
 * The key ferry uses for a table: its primary key, else the configured key columns, else the
 * REPLICA IDENTITY USING INDEX columns, else (REPLICA IDENTITY FULL) the first unique index on
 * NOT NULL columns. Empty: none (a FULL-identity table without such an index has no key that
 * chunks can follow or that tells two equal rows apart: preflight refuses it).
 */
export function tableKey(t: CatalogTable, filter: TableFilter, _columnNames: string[]): string[] {
  if (t.primaryKey.length > 0) return t.primaryKey;
  const configured = configuredKeyColumns(filter, { db: t.schema, table: t.name });
  if (configured && configured.length > 0) return configured;
  if (t.replicaIdentity === 'i' && t.identityIndex.length > 0) return t.identityIndex;
  if (t.replicaIdentity === 'f') return notNullUnique(t)[0] ?? [];
  return [];
}

/** Unique indexes whose columns are all NOT NULL. */
export function notNullUnique(t: CatalogTable): string[][] {
  const notNull = new Set(t.columns.filter((c) => c.notNull).map((c) => c.name));
  return (t.uniqueIndexes ?? []).filter((cols) => cols.every((c) => notNull.has(c)));
}

/**
 * Why configured key columns cannot be a key (null: they can): each must be NOT NULL, and a
 * unique index must cover them, or chunks skip rows and two rows share a key.
 */
export function keyColumnsProblem(t: CatalogTable, configured: string[]): string | null {
  const nullable = configured.filter((k) => t.columns.some((c) => c.name === k && !c.notNull));
  if (nullable.length > 0) return `names nullable column(s) ${nullable.join(', ')}`;
  if (!(t.uniqueIndexes ?? []).some((cols) => cols.every((c) => configured.includes(c)))) {
    return `(${configured.join(', ')}) is not covered by a unique index, so two rows may share a key`;
  }
  return null;
}

/**
 * Builds a TableSchema from raw columns (from the catalog, or from a Relation message) plus the
 * catalog's keys. Generated columns are left out (pgoutput does not send them), and so are
 * excluded columns (never key columns). Both paths give the same version for the same shape.
 */
export function buildSchema(
  t: CatalogTable,
  raw: RawColumn[],
  filter: TableFilter,
  types: Map<number, PgTypeInfo>,
): TableSchema {
  const id = { db: t.schema, table: t.name };
  const names = raw.map((c) => c.name);
  const key = tableKey(t, filter, names);
  const columns: ColumnSchema[] = raw
    .filter((c) => key.includes(c.name) || !isColumnExcluded(filter, id, c.name))
    .map((c) => withDefaultValue(columnSchema(c, types), c.defaultText));
  const missing = key.filter((k) => !names.includes(k));
  if (missing.length > 0) {
    throw new FerryError(
      'FERRY_SCHEMA',
      `table ${t.schema}.${t.name}: key column(s) ${missing.join(', ')} are not columns the table publishes`,
      { details: { table: `${t.schema}.${t.name}` } },
    );
  }
  const schema: TableSchema = {
    // The oid tells this table from another one created later under the same name (a renamed
    // table's old name): both get versions of their own (docs/schema-changes.md).
    ...withVersion({ db: t.schema, table: t.name, columns, primaryKey: key, incarnation: String(t.oid) }),
    sourceKind: 'postgresql',
  };
  const ids: Record<string, number> = {};
  for (const c of raw) if (c.attnum !== undefined && columns.some((s) => s.name === c.name)) ids[c.name] = c.attnum;
  return Object.keys(ids).length > 0 ? { ...schema, columnIds: ids } : schema;
}

/** The schema of a catalog table as it is now (generated columns left out). */
export async function catalogSchema(
  client: Client,
  t: CatalogTable,
  filter: TableFilter,
  types: Map<number, PgTypeInfo>,
): Promise<TableSchema> {
  const raw = t.columns.filter((c) => !c.generated);
  await loadTypes(
    client,
    types,
    raw.map((c) => c.typeOid),
  );
  const schema = buildSchema(t, raw, filter, types);
  // Old rows hold these columns' defaults, which the schema does not state: if a change the source
  // did not see added one, the runtime reads the table again (docs/schema-changes.md).
  const defaulted = new Set(raw.filter((c) => c.hasDefault).map((c) => c.name));
  const unstated = schema.columns.filter((c) => c.default === undefined && defaulted.has(c.name)).map((c) => c.name);
  return unstated.length > 0 ? { ...schema, unstatedDefaults: unstated } : schema;
}

/** A pgoutput Relation message, as far as schema building needs it. */
export interface RelationShape {
  oid: number;
  schema: string;
  name: string;
  replicaIdentity: string;
  columns: { name: string; typeOid: number; typeMod: number; isKey: boolean }[];
}

/**
 * The schema of a table as a Relation message describes it: columns, types and modifiers from
 * the message (the shape the following rows have), nullability and keys from the catalog (the
 * message does not carry them). A table that no longer exists in the catalog keeps the key the
 * message flags.
 */
export async function relationSchema(
  client: Client,
  rel: RelationShape,
  filter: TableFilter,
  types: Map<number, PgTypeInfo>,
  history?: RelationHistory,
  defaulted?: Set<string>,
): Promise<TableSchema> {
  const [current] = await readTablesByOid(client, [rel.oid]);
  const formatted = await queryJson<{ t: string }>(
    client,
    'SELECT format_type(x.o, x.m) AS t FROM unnest($1::oid[], $2::int4[]) WITH ORDINALITY AS x(o, m, i) ORDER BY x.i',
    [rel.columns.map((c) => c.typeOid), rel.columns.map((c) => c.typeMod)],
  );
  await loadTypes(
    client,
    types,
    rel.columns.map((c) => c.typeOid),
  );
  const byName = new Map((current?.columns ?? []).map((c) => [c.name, c]));
  const raw: RawColumn[] = rel.columns.map((c, i) => {
    const cat = byName.get(c.name);
    // The catalog's default is only the value old rows hold if the column has the same type still.
    const sameType = cat !== undefined && cat.typeOid === c.typeOid && cat.typmod === c.typeMod;
    if (cat?.hasDefault) defaulted?.add(c.name);
    return {
      name: c.name,
      typeOid: c.typeOid,
      typmod: c.typeMod,
      notNull: cat?.notNull ?? false,
      sourceType: formatted[i]?.t ?? String(c.typeOid),
      ...(cat?.attnum === undefined ? {} : { attnum: cat.attnum }),
      ...(sameType && cat.defaultText !== undefined ? { defaultText: cat.defaultText } : {}),
    };
  });
  const table: CatalogTable = current
    ? { ...current, schema: rel.schema, name: rel.name, replicaIdentity: rel.replicaIdentity }
    : {
        oid: rel.oid,
        schema: rel.schema,
        name: rel.name,
        replicaIdentity: rel.replicaIdentity,
        columns: [],
        primaryKey: rel.columns.filter((c) => c.isKey).map((c) => c.name),
        identityIndex: [],
        canSelect: false,
      };
  const schema = buildSchema(table, raw, filter, types);
  if (!history) return schema;
  const attnums = new Map<string, number>();
  for (const c of raw) if (c.attnum !== undefined) attnums.set(c.name, c.attnum);
  return history.mark(rel.oid, schema, attnums);
}
