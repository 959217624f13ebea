/**
 * Column renames PostgreSQL made while the source was stopped (docs/schema-changes.md). No
 * Relation message shows the old name of a column renamed before the table's next row change,
 * but the attribute number does: PostgreSQL never reuses one (a dropped column keeps its number,
 * an added one gets a new one), so a column whose number is that of a column of the version
 * published last for the table (found by its oid, whatever its name is now) under another name
 * was renamed from that name. Swaps and chains too: each column is judged by its own number.
 */
import { type TableSchema, withVersion } from '../../src/api/index.js';

/** A column renamed while the source was stopped: its previous name and its attribute number. */
export interface StartColumnRename {
  from: string;
  attnum: number;
}

/** The column renames of one table found at start, and the column names of the schema they belong to. */
export interface StartColumnRenames {
  /** Column names of the schema published at start, in order: the Relation with these names carries the renames. */
  columns: string[];
  /** New name -> the rename. */
  renames: Map<string, StartColumnRename>;
}

/**
 * `schema` (the table `oid` as the catalog has it now, with `columnIds`) with every column whose
 * attribute number a column of the last version published for that oid in `history` had under
 * another name marked `renamedFrom` that name. The renames found go into `found` (for the stream).
 */
export function columnsRenamedWhileStopped(
  schema: TableSchema,
  oid: number,
  history: readonly TableSchema[] | undefined,
  found: Map<number, StartColumnRenames>,
): TableSchema {
  let last: TableSchema | undefined;
  for (const h of history ?? []) if (h.incarnation === String(oid)) last = h;
  const ids = schema.columnIds;
  if (!last?.columnIds || !ids) return schema;
  const published = new Set(last.columns.map((c) => c.name));
  const nameById = new Map<number, string>();
  for (const [name, id] of Object.entries(last.columnIds)) if (published.has(name)) nameById.set(id, name);
  const renames = new Map<string, StartColumnRename>();
  for (const c of schema.columns) {
    const id = ids[c.name];
    const old = id === undefined ? undefined : nameById.get(id);
    if (id !== undefined && old !== undefined && old !== c.name) renames.set(c.name, { from: old, attnum: id });
  }
  if (renames.size === 0) return schema;
  found.set(oid, { columns: schema.columns.map((c) => c.name), renames });
  const { version: _v, ...rest } = schema;
  return withVersion({
    ...rest,
    columns: schema.columns.map((c) => {
      const r = renames.get(c.name);
      return r ? { ...c, renamedFrom: r.from } : c;
    }),
  });
}
