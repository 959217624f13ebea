import { createHash } from 'node:crypto';
import type { JsonValue } from './json.js';

/**
 * Engine-neutral column kinds. Every source maps its column types to one of these; every sink
 * maps them back to a target type (docs/type-mapping.md). The canonical value encoding of each
 * kind is described in docs/values.md and implemented in src/api/values/encode.ts.
 */
export const COLUMN_KINDS = [
  'boolean',
  'int8',
  'int16',
  'int32',
  'int64',
  'uint64',
  'decimal',
  'float32',
  'float64',
  'string',
  'bytes',
  'uuid',
  'json',
  'enum',
  'set',
  'bit',
  'year',
  'date',
  'time',
  'timetz',
  'timestamp',
  'timestamptz',
  'interval',
  'array',
] as const;

export type ColumnKind = (typeof COLUMN_KINDS)[number];

export interface ColumnSchema {
  name: string;
  kind: ColumnKind;
  /** The type as the source declares it, e.g. `bigint unsigned`, `varchar(255)`, `numeric(10,2)`, `text[]`. */
  sourceType: string;
  nullable: boolean;
  /** Character length or bit count, where the type has one. */
  length?: number;
  precision?: number;
  scale?: number;
  /** Integer types: MySQL UNSIGNED. */
  unsigned?: boolean;
  /** ENUM and SET: the allowed values, in declaration order. */
  enumValues?: string[];
  /** Arrays: the kind of the elements. */
  elementKind?: ColumnKind;
  /** Fractional-second digits of time types (0–6). */
  fsp?: number;
  /** Generated (computed) column at the source. Sinks store its value like any other column. */
  generated?: boolean;
  /**
   * The canonical value that rows which existed before the column was added hold: the column's
   * constant DEFAULT at the source (docs/schema-changes.md). Absent when there is none, or when
   * it is an expression the target cannot repeat.
   */
  default?: JsonValue;
  /** Set in the version that follows RENAME COLUMN: the column's previous name. */
  renamedFrom?: string;
}

export interface TableId {
  /** MySQL database or PostgreSQL schema. */
  db: string;
  table: string;
}

export interface TableSchema extends TableId {
  columns: ColumnSchema[];
  /** Primary key (or configured key) column names, in key order. Never empty for a captured table. */
  primaryKey: string[];
  /** Changes whenever the table's shape changes; see schemaVersion(). */
  version: string;
  /**
   * Engine of the source, when known; sinks use it to pick same-engine target types. Not part of
   * the version. The sink runtime fills it from the envelope's source.connector when absent.
   */
  sourceKind?: 'mysql' | 'postgresql';
  /**
   * Sinks only: the source table, when the sink writes it under another name (sink.schema /
   * sink.database). Not part of the version.
   */
  origin?: TableId;
  /** Set in the versions of a table after RENAME TABLE: its previous name. */
  renamedFrom?: TableId;
  /**
   * Which table of that name this is, where the name held another table before (part of the
   * version when set): a table created under the name of a renamed one gets versions of its own
   * even with the same columns and key (docs/schema-changes.md). Stable across re-reads of the
   * log: MySQL/MariaDB the binlog position of the RENAME that freed the name, PostgreSQL the
   * table's oid.
   */
  incarnation?: string;
  /**
   * Source side, not part of the version, MySQL/MariaDB: in the versions of a renamed table, the
   * binlog position of the RENAME (a restarted source learns from it that the old name was freed).
   */
  renamedAt?: string;
  /**
   * Sink side only, not part of the version: every column rename the sink's schema history knows
   * of (from all published versions), so events written before a rename go to the renamed column
   * even after a sink restart (docs/schema-changes.md).
   */
  knownRenames?: KnownRenames;
  /**
   * Source side, not part of the version: the columns of this version whose rows that existed
   * before it the schema cannot state (the source reads the table again, docs/schema-changes.md).
   * Kept in `<pipeline>.__schemas` so that a restarted source still queues the read.
   */
  backfill?: string[];
  /**
   * Source side, not part of the version: columns with a default at the source that `default`
   * does not state (an expression, or a value ferry does not encode). If this version added one
   * of them, the rows that existed before hold a value the target cannot derive.
   */
  unstatedDefaults?: string[];
  /**
   * Source side, not part of the version: a stable id per column name where the source has one
   * (PostgreSQL's attribute number). A column of a later version under a new name with the id of
   * a column of an earlier one was renamed (a rename the source did not see happen).
   */
  columnIds?: Record<string, number>;
}

export interface KnownRenames {
  columns: Array<{ table: TableId; from: string; to: string }>;
  /**
   * RENAME TABLE: `versions` are the schema versions published under the old name before the
   * rename; only events of those versions belong to the renamed table (a table created later
   * under the old name is its own table).
   */
  tables?: Array<{ from: TableId; to: TableId; versions: string[] }>;
}

/**
 * The column and table renames that a set of schema versions announce (pure). `schemas` in the
 * order they were published (the schemas topic's order): a table rename takes the versions seen
 * under the old name before it.
 */
export function renamesOf(schemas: Iterable<TableSchema>): KnownRenames {
  const out: KnownRenames = { columns: [], tables: [] };
  const versionsOf = new Map<string, string[]>();
  const seen = new Set<string>();
  const add = (key: string, push: () => void) => {
    if (seen.has(key)) return;
    seen.add(key);
    push();
  };
  for (const s of schemas) {
    const to = { db: s.db, table: s.table };
    const from = s.renamedFrom;
    if (from && (from.db !== s.db || from.table !== s.table)) {
      const versions = [...(versionsOf.get(tableName(from)) ?? [])];
      add(JSON.stringify(['t', from, to]), () =>
        out.tables!.push({ from: { db: from.db, table: from.table }, to, versions }),
      );
    }
    const own = versionsOf.get(tableName(s)) ?? [];
    if (!own.includes(s.version)) own.push(s.version);
    versionsOf.set(tableName(s), own);
    for (const c of s.columns) {
      const old = c.renamedFrom;
      if (old !== undefined)
        add(JSON.stringify(['c', to, old, c.name]), () => out.columns.push({ table: to, from: old, to: c.name }));
    }
  }
  return out;
}

/** `db.table`, the form used in logs, metrics labels and config patterns. */
export function tableName(t: TableId): string {
  return `${t.db}.${t.table}`;
}

/**
 * The version of a table schema is a hash of its shape (columns, kinds, key), so the same shape
 * always has the same version, across restarts and processes, and any DDL that changes the shape
 * yields a new one.
 */
export function schemaVersion(schema: Omit<TableSchema, 'version'>): string {
  const shape = JSON.stringify([
    schema.db,
    schema.table,
    schema.primaryKey,
    schema.columns.map((c) => [
      c.name,
      c.kind,
      c.sourceType,
      c.nullable,
      c.length ?? null,
      c.precision ?? null,
      c.scale ?? null,
      c.unsigned ?? false,
      c.enumValues ?? null,
      c.elementKind ?? null,
      c.fsp ?? null,
      c.generated ?? false,
      // Appended only when set, so schemas without them keep the versions they always had.
      ...(c.default === undefined ? [] : [{ default: c.default }]),
      ...(c.renamedFrom === undefined ? [] : [{ renamedFrom: c.renamedFrom }]),
    ]),
    ...(schema.renamedFrom ? [{ renamedFrom: schema.renamedFrom }] : []),
    ...(schema.incarnation === undefined ? [] : [{ incarnation: schema.incarnation }]),
  ]);
  return createHash('sha256').update(shape).digest('hex').slice(0, 16);
}

export function withVersion(schema: Omit<TableSchema, 'version'>): TableSchema {
  return { ...schema, version: schemaVersion(schema) };
}
