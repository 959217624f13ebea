import { type TableSchema, tableName } from '../../api/index.js';

/** Every column name each table had in a published version (the schema history), for the snapshot engine. */
export class ColumnHistory {
  private readonly had = new Map<string, Set<string>>();

  remember(schema: TableSchema): void {
    const name = tableName(schema);
    const had = this.had.get(name) ?? new Set<string>();
    for (const c of schema.columns) had.add(c.name);
    this.had.set(name, had);
  }

  /**
   * Columns a new version adds back under the name of a column the table had in an earlier
   * version but not in the last one (`prev`): the sink kept the dropped column with its old
   * values (docs/schema-changes.md), so the rows already there must be read again.
   */
  readded(schema: TableSchema, prev: TableSchema | undefined): string[] {
    const had = this.had.get(tableName(schema));
    if (!prev || !had) return [];
    const last = new Set(prev.columns.map((c) => c.name));
    return schema.columns
      .filter((c) => !last.has(c.name) && c.renamedFrom === undefined && had.has(c.name))
      .map((c) => c.name);
  }
}
