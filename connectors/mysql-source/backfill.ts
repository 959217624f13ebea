import type { TableSchema } from '../../src/api/index.js';
import type { DdlRenames } from './ddl-renames.js';
import type { CapturedTable } from './schema.js';

/**
 * The columns a DDL added to a table whose values in the rows that existed before it the new
 * schema cannot state, so the table must be read again (docs/schema-changes.md): an expression
 * default (`CURRENT_TIMESTAMP`, `uuid()`), a default ferry does not turn into a value (binary,
 * BIT, UUID, TIMESTAMP), a NOT NULL column without a default (old rows hold the type's implicit
 * value: 0, '', the first ENUM value, the zero date), and generated columns. Pure.
 *
 * `before` is the table's schema before the DDL (under its old name after RENAME TABLE); none for
 * a table captured for the first time (the snapshot engine reads those anyway).
 */
export function backfillColumns(before: TableSchema | undefined, after: CapturedTable, renames: DdlRenames): string[] {
  if (!before) return [];
  const had = new Set(before.columns.map((c) => c.name));
  const { db, table } = after.schema;
  const renamed = new Set(
    renames.columns
      .filter(
        (r) =>
          (r.table.db === db && r.table.table === table) ||
          (r.table.table === before.table && r.table.db === before.db),
      )
      .map((r) => r.to),
  );
  const out: string[] = [];
  for (const c of after.schema.columns) {
    if (had.has(c.name) || renamed.has(c.name) || c.default !== undefined) continue;
    const info = after.info.find((i) => i.name === c.name);
    if (!info) continue;
    const raw = info.default ?? null;
    const statesNull = info.nullable && (raw === null || raw.trim().toUpperCase() === 'NULL');
    if (info.generated || !statesNull) out.push(c.name);
  }
  return out;
}

/** The schema a changed table had before the DDL, by its name or its name before RENAME TABLE. */
export function previousSchema(
  before: Map<string, TableSchema>,
  after: TableSchema,
  renames: DdlRenames,
): TableSchema | undefined {
  const own = before.get(`${after.db}.${after.table}`);
  if (own) return own;
  const from = renames.tables.find((r) => r.to.db === after.db && r.to.table === after.table)?.from;
  return from ? before.get(`${from.db}.${from.table}`) : undefined;
}
