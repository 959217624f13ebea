/**
 * A source table schema as a sink applies it: the target namespace (`sink.schema` /
 * `sink.database`) replaces the source database, the source kind is set, and the renames the
 * schema history announces travel with it (docs/schema-changes.md). Used by the sink's decoder
 * and by the direct snapshot lane, so that both write a row into the same target table.
 */
import type { KnownRenames, TableSchema } from '../api/index.js';

export type SourceKind = 'mysql' | 'postgresql';

/** The source kind an envelope's `source.connector` names. */
export function sourceKindOf(connector: unknown): SourceKind | undefined {
  if (connector === 'postgresql') return 'postgresql';
  if (connector === 'mysql' || connector === 'mariadb') return 'mysql';
  return undefined;
}

/** Renames with their tables in the target namespace, when one is configured. */
export function renamesInNamespace(r: KnownRenames, ns: string | undefined): KnownRenames {
  if (!ns) return r;
  const at = (t: { table: string }) => ({ db: ns, table: t.table });
  return {
    columns: r.columns.map((c) => ({ ...c, table: at(c.table) })),
    tables: (r.tables ?? []).map((t) => ({ ...t, from: at(t.from), to: at(t.to) })),
  };
}

/** The schema as the target sees it (pure). `renames`: every rename of the published versions. */
export function targetSchema(
  schema: TableSchema,
  kind: SourceKind | undefined,
  renames: KnownRenames,
  targetNamespace: string | undefined,
): TableSchema {
  return {
    ...schema,
    ...(targetNamespace ? { db: targetNamespace, origin: { db: schema.db, table: schema.table } } : {}),
    ...(targetNamespace && schema.renamedFrom
      ? { renamedFrom: { db: targetNamespace, table: schema.renamedFrom.table } }
      : {}),
    knownRenames: renamesInNamespace(renames, targetNamespace),
    ...(kind ? { sourceKind: kind } : {}),
  };
}
