import { type TableId, type TableSchema, withVersion } from '../../src/api/index.js';
import type { StartColumnRenames } from './stopped-renames.js';

/** A table renamed while the source was stopped: published last as `from`, named `to` now. */
export interface StartRename {
  from: TableId;
  to: TableId;
}

interface Seen {
  db: string;
  table: string;
  /** Relation columns in order, with their attribute numbers where the catalog knew them. */
  columns: Array<{ name: string; attnum: number | undefined }>;
}

/**
 * Tells renames from drops and adds for the PostgreSQL source, which gets no DDL: only Relation
 * messages (the new shape) and the catalog (docs/schema-changes.md). A table keeps its oid across
 * RENAME; a column keeps its attribute number across RENAME COLUMN, while DROP + ADD gives a new
 * one, so a column with the attribute number of a column of the previous Relation under another
 * name was renamed, also where names were exchanged (a swap) or passed on (a chain). A column the
 * catalog no longer knows by its old name (renamed again since, e.g. when the stream replays older
 * WAL) is matched by its place in the Relation when its attribute number shows no column before
 * it was ever dropped. The first schema after a rename carries the marks.
 */
export class RelationHistory {
  private readonly seen = new Map<number, Seen>();
  /** A marked schema stays in use while the shape stays the same (the sink may apply a later event first). */
  private readonly held = new Map<number, { base: string; schema: TableSchema }>();
  /**
   * Per table: the renames seen so far (new column name -> old name and the column's attribute
   * number, where known; the table's previous name).
   */
  private readonly carried = new Map<number, { columns: Map<string, Carried>; table?: TableId }>();

  /** Table renames from before the stream, by oid (seedTableRenames). */
  private readonly seeds = new Map<number, StartRename>();
  /** Column renames from before the stream, by oid (seedColumnRenames). */
  private readonly columnSeeds = new Map<number, StartColumnRenames>();

  /**
   * `published`: the last schema published of each table (`db.table`), with the attribute numbers
   * the catalog gave when it was read (columnIds); kept up to date by the caller.
   */
  constructor(private readonly published?: ReadonlyMap<string, TableSchema>) {}

  /**
   * Table renames from before the stream (renamed while the source was stopped, found at start by
   * the oid in the schema history): table `oid` was published last as `from` and is `to` now. The
   * first Relation of the table under `to` carries the rename; one under the old name (a replay of
   * changes from before the rename) does not.
   */
  seedTableRenames(renames: ReadonlyMap<number, StartRename>): void {
    for (const [oid, r] of renames) this.seeds.set(oid, r);
  }

  /**
   * Column renames from before the stream (made while the source was stopped, found at start by
   * attribute number, stopped-renames.ts): the first Relation of the table with the columns of the
   * schema published at start carries them; one with other columns (a replay of changes from
   * before the renames) does not.
   */
  seedColumnRenames(renames: ReadonlyMap<number, StartColumnRenames>): void {
    for (const [oid, r] of renames) this.columnSeeds.set(oid, r);
  }

  /** `schema` (from a Relation of table `oid`) with rename marks; `attnums` by column name. */
  mark(oid: number, schema: TableSchema, attnums: Map<string, number>): TableSchema {
    const held = this.held.get(oid);
    if (held && held.base === schema.version) return held.schema;
    const out = this.marked(oid, schema, attnums);
    this.held.set(oid, { base: schema.version, schema: out });
    return out;
  }

  private marked(oid: number, schema: TableSchema, attnums: Map<string, number>): TableSchema {
    const prev = this.seen.get(oid);
    let columns = schema.columns.map((c) => ({ name: c.name, attnum: attnums.get(c.name) }));
    // The catalog is read when a Relation is decoded, which can be after later DDL (names exchanged
    // since give the attribute numbers of today's owners of the names): a Relation with the names
    // of the shape seen before, or published before, is that shape, attribute numbers included.
    const last = this.published?.get(`${schema.db}.${schema.table}`);
    const ids = last?.columnIds;
    const base =
      prev ?? (ids ? { columns: last!.columns.map((c) => ({ name: c.name, attnum: ids[c.name] })) } : undefined);
    if (
      base &&
      sameNames(
        base.columns.map((c) => c.name),
        columns,
      )
    ) {
      columns = columns.map((c, i) => ({ name: c.name, attnum: base.columns[i]!.attnum ?? c.attnum }));
    }
    this.seen.set(oid, { db: schema.db, table: schema.table, columns });
    const seed = prev ? undefined : this.seeds.get(oid);
    if (seed && seed.to.db === schema.db && seed.to.table === schema.table) {
      const carried = this.carried.get(oid) ?? { columns: new Map<string, Carried>() };
      carried.table = seed.from;
      this.carried.set(oid, carried);
    }
    const columnSeed = this.columnSeeds.get(oid);
    if (columnSeed && sameNames(columnSeed.columns, columns)) {
      this.columnSeeds.delete(oid);
      const carried = this.carried.get(oid) ?? { columns: new Map<string, Carried>() };
      for (const [to, r] of columnSeed.renames) carried.columns.set(to, { from: r.from, attnum: r.attnum });
      this.carried.set(oid, carried);
    }
    const carriedNow = this.carried.get(oid);
    if (!prev && !carriedNow?.table && !carriedNow?.columns.size) return schema;
    const now = new Set(columns.map((c) => c.name));
    const before = new Set((prev?.columns ?? []).map((c) => c.name));
    const renamedFrom = new Map<string, Carried>();
    columns.forEach((c, i) => {
      if (!prev) return;
      // The same attribute number is the same column, whatever names were exchanged meanwhile.
      const byAttnum = c.attnum === undefined ? undefined : prev.columns.find((p) => p.attnum === c.attnum);
      if (byAttnum) {
        if (byAttnum.name !== c.name) renamedFrom.set(c.name, { from: byAttnum.name, attnum: c.attnum });
        return;
      }
      if (before.has(c.name)) return;
      const byPlace = prev.columns[i];
      // Attribute number = place + 1 only when no earlier attribute was ever dropped.
      const old =
        byPlace && byPlace.attnum === undefined && c.attnum === i + 1 && prev.columns.length === columns.length
          ? byPlace
          : undefined;
      if (old && !now.has(old.name)) renamedFrom.set(c.name, { from: old.name, attnum: undefined });
    });
    const carried = this.carried.get(oid) ?? { columns: new Map<string, Carried>() };
    this.carried.set(oid, carried);
    for (const [to, from] of renamedFrom) carried.columns.set(to, from);
    if (prev && (prev.db !== schema.db || prev.table !== schema.table))
      carried.table = { db: prev.db, table: prev.table };
    // A Relation under the old name (the stream replays changes from before the rename) is not renamed.
    const table =
      carried.table && (carried.table.db !== schema.db || carried.table.table !== schema.table)
        ? carried.table
        : undefined;
    // Every rename seen so far that still holds goes into this shape (the sink may apply an event
    // of a later version before the first one that carried it). A rename holds while the column keeps its attribute number (names may have been exchanged);
    // without one, while the new name is there and the old one is not.
    const marks = new Map(
      [...carried.columns]
        .filter(([to, r]) =>
          r.attnum === undefined
            ? now.has(to) && !now.has(r.from)
            : now.has(to) && columns.find((c) => c.name === to)?.attnum === r.attnum,
        )
        .map(([to, r]) => [to, r.from]),
    );
    if (!table && marks.size === 0) return schema;
    const { version: _v, ...rest } = schema;
    return {
      ...withVersion({
        ...rest,
        columns: schema.columns.map((c) => (marks.has(c.name) ? { ...c, renamedFrom: marks.get(c.name)! } : c)),
        ...(table ? { renamedFrom: table } : {}),
      }),
      ...(schema.sourceKind ? { sourceKind: schema.sourceKind } : {}),
    };
  }
}

/** A column rename seen: the old name, and the column's attribute number where the catalog knew it. */
interface Carried {
  from: string;
  attnum: number | undefined;
}

function sameNames(names: readonly string[], columns: ReadonlyArray<{ name: string }>): boolean {
  return names.length === columns.length && names.every((n, i) => n === columns[i]!.name);
}
