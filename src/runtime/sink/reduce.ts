/**
 * Per-batch reduction of change events into TableChanges (docs/sinks.md#reduction). Pure.
 *
 * Per table, per key, in order:
 * - the last state wins: create/read/update store the row image, delete stores "deleted";
 * - delete then create is an upsert of the new image;
 * - an update carrying UNCHANGED for some columns merges into the image stored before it in the
 *   batch (those columns keep the earlier value); without an earlier image the row stays
 *   partial and the sink updates only the columns it carries;
 * - an update whose key changed deletes the old key (ferry sources send d + c instead);
 * - a truncate forgets everything before it and marks the table to be emptied first.
 * A table whose events span schema versions yields one TableChanges per version (in order of
 * first appearance), each row under the version of its last event; deletes and the truncate go
 * to the first one.
 *
 * One exception keeps the result equal to applying the events one by one: when a row's image is
 * followed by an image of a later version that lacks some of its columns (a DROP COLUMN between
 * them; the target keeps the column), the earlier image alone would have written those columns.
 * The table's reduction is then cut there: what came before is handed over first, as its own
 * TableChanges, and the rest is reduced after it.
 */
import {
  type Op,
  type Row,
  type TableChange,
  type TableChanges,
  type TableSchema,
  UNCHANGED,
} from '../../api/index.js';

/** A decoded change event, ready for reduction. `schema` is the target-resolved schema of its version. */
export interface SinkEvent {
  op: Op;
  schema: TableSchema;
  before: Row | null;
  after: Row | null;
  /** Commit time at the source, ms (0 when unknown). */
  tsMs: number;
}

interface Entry {
  deleted: boolean;
  row: Row;
  schema: TableSchema;
}

interface TableState {
  truncate: boolean;
  changes: TableChange[];
  lastSchema: TableSchema;
  keys: Map<string, Entry>;
}

export const tableId = (schema: Pick<TableSchema, 'db' | 'table'>): string => `${schema.db}\u0000${schema.table}`;

/** Identity of a row within its table: its key values, in key order. */
export function rowKey(schema: TableSchema, row: Row): string {
  return JSON.stringify(schema.primaryKey.map((k) => row[k] ?? null));
}

function keyOnly(schema: TableSchema, row: Row): Row {
  const out: Row = {};
  for (const k of schema.primaryKey) out[k] = row[k] ?? null;
  return out;
}

function hasUnchanged(row: Row): boolean {
  for (const v of Object.values(row)) if (v === UNCHANGED) return true;
  return false;
}

function setEntry(state: TableState, key: string, entry: Entry): void {
  state.keys.delete(key);
  state.keys.set(key, entry);
}

/** `changes`: also hand over every change unreduced (TableChanges.changes), for sinks that keep a change log. */
export function reduceEvents(events: SinkEvent[], opts: { changes?: boolean } = {}): TableChanges[] {
  const tables = new Map<string, TableState>();
  const out: TableChanges[] = [];
  for (const e of events) {
    const id = tableId(e.schema);
    let state = tables.get(id);
    if (!state) {
      state = { truncate: false, changes: [], lastSchema: e.schema, keys: new Map() };
      tables.set(id, state);
    } else if (e.after && dropsColumnsOf(state, e)) {
      out.push(...grouped(state, opts));
      state = { truncate: false, changes: [], lastSchema: e.schema, keys: new Map() };
      tables.set(id, state);
    }
    if (opts.changes) state.changes.push({ op: e.op, before: e.before, after: e.after, tsMs: e.tsMs });
    state.lastSchema = e.schema;
    if (e.op === 't') {
      state.keys.clear();
      state.truncate = true;
      continue;
    }
    if (e.op === 'd') {
      const before = e.before!;
      setEntry(state, rowKey(e.schema, before), { deleted: true, row: keyOnly(e.schema, before), schema: e.schema });
      continue;
    }
    const after = e.after!;
    const key = rowKey(e.schema, after);
    if (e.op === 'u' && e.before) {
      const oldKey = rowKey(e.schema, e.before);
      if (
        oldKey !== key &&
        !e.schema.primaryKey.some((k) => e.before![k] === undefined || e.before![k] === UNCHANGED)
      ) {
        setEntry(state, oldKey, { deleted: true, row: keyOnly(e.schema, e.before), schema: e.schema });
      }
    }
    let row = after;
    if (hasUnchanged(after)) {
      const prev = state.keys.get(key);
      if (prev && !prev.deleted) {
        row = { ...prev.row };
        for (const [col, v] of Object.entries(after)) {
          if (v !== UNCHANGED) row[col] = v;
          else if (!Object.hasOwn(prev.row, col)) row[col] = UNCHANGED;
        }
      }
    }
    setEntry(state, key, { deleted: false, row, schema: e.schema });
  }

  for (const state of tables.values()) out.push(...grouped(state, opts));
  return out;
}

/**
 * Whether `e` is an image of a later version than the row's image held before it, lacking
 * columns that image holds (values, not UNCHANGED markers).
 */
function dropsColumnsOf(state: TableState, e: SinkEvent): boolean {
  const prev = state.keys.get(rowKey(e.schema, e.after!));
  if (!prev || prev.deleted || prev.schema.version === e.schema.version) return false;
  const names = new Set(e.schema.columns.map((c) => c.name));
  for (const [col, v] of Object.entries(prev.row)) if (v !== UNCHANGED && !names.has(col)) return true;
  return false;
}

/** A table's reduced state as TableChanges, one per schema version. */
function grouped(state: TableState, opts: { changes?: boolean }): TableChanges[] {
  const byVersion = new Map<string, TableChanges>();
  const deletes: Row[] = [];
  for (const entry of state.keys.values()) {
    if (entry.deleted) {
      deletes.push(entry.row);
      continue;
    }
    let tc = byVersion.get(entry.schema.version);
    if (!tc) {
      tc = { schema: entry.schema, truncate: false, upserts: [], deletes: [] };
      byVersion.set(entry.schema.version, tc);
    }
    tc.upserts.push(entry.row);
  }
  const list = [...byVersion.values()];
  if (list.length === 0) {
    if (!state.truncate && deletes.length === 0) return [];
    list.push({ schema: state.lastSchema, truncate: false, upserts: [], deletes: [] });
  }
  list[0]!.truncate = state.truncate;
  list[0]!.deletes = deletes;
  if (opts.changes) list[0]!.changes = state.changes;
  return list;
}

/** Schemas of the tables in a reduced batch, one per version, in apply order. */
export function schemasOf(changes: TableChanges[]): TableSchema[] {
  const seen = new Set<string>();
  const out: TableSchema[] = [];
  for (const tc of changes) {
    const id = `${tableId(tc.schema)}\u0000${tc.schema.version}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(tc.schema);
  }
  return out;
}
