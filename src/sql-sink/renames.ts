/**
 * Renames seen by a SQL sink (docs/schema-changes.md). A RENAME COLUMN or RENAME TABLE reaches
 * the sink as a schema version whose column (or table) names its previous name; the sink renames
 * the target column or table, so its data is kept. Events written before the rename can still
 * arrive afterwards (from other partitions of the topic, or from the old table's topic): they
 * name the old column or table, which the target no longer has. Their schema is mapped onto the
 * target as it is now: an old table name to the table it was renamed to, an old column name to
 * the column it became (only when the event's schema does not hold that name itself, so a column
 * added later under an old name is its own column). Pure, except for what the caller passes in.
 */

import type { TableChanges } from '../api/connector.js';
import type { Row } from '../api/event.js';
import type { TableId, TableSchema } from '../api/schema.js';

const idKey = (t: TableId): string => `${t.db}\u0000${t.table}`;

/** How the schema of an event maps onto the target. */
export interface TargetMapping {
  /** The schema with the target's table and column names. */
  schema: TableSchema;
  /** Source column name -> target column name, for the columns that differ. */
  columns: Map<string, string>;
}

export class RenameHistory {
  /**
   * Old table -> the table it was renamed to; `versions`: the schema versions of the old table
   * (from the schema history), undefined when only this process saw the rename (any version).
   */
  private readonly tables = new Map<string, { to: TableId; versions?: Set<string> }>();
  /** Per table (current name): old column name -> new name. */
  private readonly columns = new Map<string, Map<string, string>>();

  /** Remembers the renames a schema version announces, and those of its schema history (knownRenames). */
  record(schema: TableSchema): void {
    for (const c of schema.knownRenames?.columns ?? []) this.recordColumn(c.table, c.from, c.to);
    for (const t of schema.knownRenames?.tables ?? []) {
      // No version known under the old name (none published before the rename): any version moves.
      this.recordTable(t.from, t.to, t.versions.length > 0 ? new Set(t.versions) : undefined);
    }
    if (schema.renamedFrom && !this.tables.has(idKey(schema.renamedFrom))) this.recordTable(schema.renamedFrom, schema);
    for (const col of schema.columns) {
      if (col.renamedFrom !== undefined) this.recordColumn(schema, col.renamedFrom, col.name);
    }
  }

  private recordTable(from: TableId, to: TableId, versions?: Set<string>): void {
    const fromKey = idKey(from);
    const key = idKey(to);
    if (fromKey === key) return;
    this.tables.set(fromKey, { to: { db: to.db, table: to.table }, ...(versions ? { versions } : {}) });
    const old = this.columns.get(fromKey);
    if (old) this.columns.set(key, new Map([...old, ...(this.columns.get(key) ?? [])]));
  }

  private recordColumn(table: TableId, from: string, to: string): void {
    if (from === to) return;
    const key = idKey(table);
    let map = this.columns.get(key);
    if (!map) {
      map = new Map();
      this.columns.set(key, map);
    }
    map.set(from, to);
  }

  /**
   * The table an old name was renamed to (following several renames), or null. With the schema
   * history's versions known, only a schema of a version published under the old name before the
   * rename is moved: a table created later under that name stays itself.
   */
  renamedTable(t: TableId & { version?: string }): TableId | null {
    const first = this.tables.get(idKey(t));
    if (!first) return null;
    if (first.versions && t.version !== undefined && !first.versions.has(t.version)) return null;
    let cur = first.to;
    for (let i = 0; i < 100; i++) {
      const next = this.tables.get(idKey(cur));
      if (!next) return cur;
      cur = next.to;
    }
    return cur;
  }

  /**
   * Maps `schema` onto the target: `table` is where the target holds the table (its own name or
   * the one it was renamed to); `has(name)` tells whether the target table has a column.
   */
  map(schema: TableSchema, table: TableId, has: (column: string) => boolean): TargetMapping {
    const renames = this.columns.get(idKey(table)) ?? this.columns.get(idKey(schema));
    const own = new Set(schema.columns.map((c) => c.name));
    const columns = new Map<string, string>();
    if (renames) {
      for (const col of schema.columns) {
        if (has(col.name)) continue;
        let name = col.name;
        for (let i = 0; i < 100; i++) {
          const next = renames.get(name);
          if (next === undefined || own.has(next)) break;
          name = next;
          if (has(name)) break;
        }
        if (name !== col.name && has(name)) columns.set(col.name, name);
      }
    }
    const sameTable = table.db === schema.db && table.table === schema.table;
    if (columns.size === 0 && sameTable) return { schema, columns };
    const rename = (n: string): string => columns.get(n) ?? n;
    const mapped: TableSchema = {
      ...schema,
      db: table.db,
      table: table.table,
      columns: schema.columns.map((c) => (columns.has(c.name) ? { ...c, name: rename(c.name) } : c)),
      primaryKey: schema.primaryKey.map(rename),
    };
    return { schema: mapped, columns };
  }
}

/** The changes of a table with the target's table and column names. */
export function mapChanges(t: TableChanges, m: TargetMapping): TableChanges {
  if (m.schema === t.schema) return t;
  const row = (r: Row): Row => {
    if (m.columns.size === 0) return r;
    const out: Row = {};
    for (const [k, v] of Object.entries(r)) out[m.columns.get(k) ?? k] = v;
    return out;
  };
  return { ...t, schema: m.schema, upserts: t.upserts.map(row), deletes: t.deletes.map(row) };
}
