import type { TableSchema } from '../../api/index.js';
import { tableName } from '../../api/index.js';

/** A backfill after ADD COLUMN: the table to read again and the version that needs it. */
export interface NeededBackfill {
  /** `db.table` */
  table: string;
  /** `db.table@version`, as recorded in the stored snapshot progress (`backfilled`). */
  key: string;
  columns: string[];
}

/** The record of a backfill decision: the table and the version whose added columns need it. */
export function backfillKey(schema: TableSchema): string {
  return `${tableName(schema)}@${schema.version}`;
}

/**
 * The backfills a starting source must queue because no stored offset records them (pure). A
 * source decides on a backfill when it sees a change while running; the decision is stored with
 * the position after the change. It is missed when the source stops in between:
 * - a version published with `backfill` (`history`, the records of `<pipeline>.__schemas` in
 *   topic order) whose key is not in `recorded` (the stored offset's `snapshot.backfilled`): the
 *   source restarts from before the change and may not see it again the same way (MySQL);
 * - a table as discovered now (`current`) that adds, to the version published before it, a
 *   column with a default the schema does not state (`unstatedDefaults`): the change happened
 *   while the source was stopped, or before it saw it (PostgreSQL learns it from the table's
 *   next row change), or a column renamed (its `columnIds` id under another name) where the
 *   source could not see the rename: it is seen as a drop and an add, and the added column's old
 *   rows are read again.
 * Reading a table needlessly again costs time; missing a read leaves the target unequal, so every
 * doubt reads.
 */
export function missedBackfills(
  history: readonly TableSchema[],
  current: readonly TableSchema[],
  recorded: ReadonlySet<string>,
): NeededBackfill[] {
  const out = new Map<string, NeededBackfill>();
  const add = (schema: TableSchema, columns: readonly string[]): void => {
    const key = backfillKey(schema);
    if (columns.length === 0 || recorded.has(key)) return;
    const seen = out.get(key);
    if (seen) seen.columns = [...new Set([...seen.columns, ...columns])];
    else out.set(key, { table: tableName(schema), key, columns: [...columns] });
  };
  for (const s of history) if (s.backfill && s.backfill.length > 0) add(s, s.backfill);
  for (const now of current) {
    const unstated = new Set(now.unstatedDefaults ?? []);
    if (unstated.size === 0 && !now.columnIds) continue;
    const prev = previousVersion(history, now);
    if (!prev) continue;
    const had = new Set(prev.columns.map((c) => c.name));
    const prevIds = new Set(
      Object.entries(prev.columnIds ?? {})
        .filter(([name]) => had.has(name))
        .map(([, id]) => id),
    );
    const renamedUnseen = (name: string): boolean => {
      const id = now.columnIds?.[name];
      return id !== undefined && prevIds.has(id);
    };
    add(
      now,
      now.columns
        .filter(
          (c) =>
            !had.has(c.name) &&
            c.renamedFrom === undefined &&
            ((c.default === undefined && unstated.has(c.name)) || renamedUnseen(c.name)),
        )
        .map((c) => c.name),
    );
  }
  return [...out.values()];
}

/**
 * The version of the table published last before `now` was first published (under its name, or
 * under its name before RENAME TABLE); none for a table new to the history.
 */
function previousVersion(history: readonly TableSchema[], now: TableSchema): TableSchema | undefined {
  const name = tableName(now);
  const first = history.findIndex((s) => tableName(s) === name && s.version === now.version);
  const before = first < 0 ? history : history.slice(0, first);
  const names = new Set([name, ...(now.renamedFrom ? [tableName(now.renamedFrom)] : [])]);
  for (let i = before.length - 1; i >= 0; i--) {
    const s = before[i]!;
    if (names.has(tableName(s)) && s.version !== now.version) return s;
  }
  return undefined;
}
