import { type TableId, type TableSchema, withVersion } from '../../src/api/index.js';
import type { DdlRenames } from './ddl-renames.js';
import type { CapturedTable } from './schema.js';

const nameOf = (t: TableId): string => `${t.db}.${t.table}`;
const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
const lc = (t: TableId): string => nameOf(t).toLowerCase();

/** A binlog position `file:pos` as [file index, pos] for comparing (null: not one). */
function binlogAt(at: string): [number, number] | null {
  const m = /\.(\d+):(\d+)$/.exec(at);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

/** Whether binlog position `a` (`file:pos`) is at or before `b`. */
export function atOrBefore(a: string, b: string): boolean {
  const x = binlogAt(a);
  const y = binlogAt(b);
  if (!x || !y) return false;
  return x[0] < y[0] || (x[0] === y[0] && x[1] <= y[1]);
}

/**
 * Rename marks for the MySQL source (docs/schema-changes.md). information_schema shows the
 * tables as they are now, which may be several DDL statements ahead of the binlog being read, so
 * renames are not judged at the DDL: the renames a statement makes are kept as pending, and the
 * shape a row event was written under (its table map) is compared with the shape the previous
 * event of that table (or, before any, the start) had. When a pending rename explains the
 * difference (the old name gone, the new one there), the schema of that event, and of later
 * events while the rename still holds, carries `renamedFrom` on the column or the table, so the
 * sink renames instead of dropping and adding.
 */
export class RenameMarks {
  private readonly columns: Array<{ table: TableId; from: string; to: string }> = [];
  private readonly tables: Array<{ from: TableId; to: TableId; at?: string }> = [];
  /**
   * Per table name (lower case) freed by a RENAME: the position of that RENAME. A table under that
   * name afterwards is another table: its versions carry it as `incarnation`.
   */
  private readonly incarnations = new Map<string, string>();
  /** The last shape of each table in binlog order. */
  private readonly last = new Map<string, TableSchema>();
  /** Tables whose last shape is a seed (information_schema as read), not one of a row event. */
  private readonly seeded = new Set<string>();
  /**
   * Per table: the entry its events use while their shape stays the same. A marked schema stays in
   * use for every event of that shape, not only the first: the sink may apply a later event (from
   * another partition) before the first one, and must see the rename then too.
   */
  private readonly held = new Map<string, { base: string; entry: CapturedTable }>();
  /**
   * Per table: the renames seen in this stream (new column name -> old). They stay in every later
   * shape where they still hold: the sink may apply an event of a later version before the first
   * one that carried the rename.
   */
  private readonly carried = new Map<string, { columns: Map<string, string>; table?: TableId; at?: string }>();

  /** Renames of a DDL statement just read from the binlog, at binlog position `at` (`file:pos`). */
  note(renames: DdlRenames, at?: string): void {
    this.columns.push(...renames.columns);
    this.tables.push(...renames.tables.map((t) => (at === undefined ? t : { ...t, at })));
    if (at === undefined) return;
    for (const t of renames.tables) {
      this.incarnations.delete(lc(t.to));
      this.incarnations.set(lc(t.from), at);
      // Events of either name from now on are of another table than the shape held for it.
      for (const name of [...this.held.keys()]) {
        if (name.toLowerCase() === lc(t.from) || name.toLowerCase() === lc(t.to)) this.held.delete(name);
      }
    }
  }

  /**
   * What positions before `start` (`file:pos`, where the stream starts; absent: the tables as they
   * are now) decided, from the published schema history: which names a RENAME freed, and which of
   * them hold a table created since.
   */
  seedIncarnations(history: readonly TableSchema[], start?: string): void {
    const latest = new Map<string, { at: string; incarnation: string | null }>();
    const consider = (name: string, at: string | undefined, incarnation: string | null) => {
      if (at === undefined || (start !== undefined && !atOrBefore(at, start))) return;
      const had = latest.get(name);
      if (!had || atOrBefore(had.at, at)) latest.set(name, { at, incarnation });
    };
    for (const s of history) {
      if (s.incarnation !== undefined) consider(lc(s), s.incarnation, s.incarnation);
      if (s.renamedFrom && s.renamedAt !== undefined) {
        consider(lc(s.renamedFrom), s.renamedAt, s.renamedAt);
        consider(lc(s), s.renamedAt, null);
      }
    }
    for (const [name, { incarnation }] of latest) {
      if (incarnation === null) this.incarnations.delete(name);
      else this.incarnations.set(name, incarnation);
    }
    // A table renamed before `start` keeps its marks in later versions, as in the process that
    // read the RENAME: the sink must not take it for a new table.
    const lastOf = new Map<string, TableSchema>();
    for (const s of history) lastOf.set(nameOf(s), s);
    for (const [name, s] of lastOf) {
      if (!s.renamedFrom || s.renamedAt === undefined || (start !== undefined && !atOrBefore(s.renamedAt, start))) {
        continue;
      }
      const columns = new Map<string, string>();
      for (const c of s.columns) if (c.renamedFrom !== undefined) columns.set(c.name, c.renamedFrom);
      this.carried.set(name, { columns, table: s.renamedFrom, at: s.renamedAt });
    }
  }

  /**
   * `schema` with the marks of a rename it carries (a renamed table), else with the incarnation of
   * its name if a RENAME freed that name (else as it is).
   */
  incarnate(schema: TableSchema): TableSchema {
    if (this.carried.get(nameOf(schema))?.table && !schema.renamedFrom) return this.withMarks(schema);
    const incarnation = this.incarnations.get(lc(schema));
    if (incarnation === undefined || schema.renamedFrom || schema.incarnation !== undefined) return schema;
    const { version: _v, ...rest } = schema;
    return withVersion({ ...rest, incarnation });
  }

  /**
   * The version of `now` (a table as information_schema shows it) renamed from `from` by a RENAME
   * just noted, judged at the RENAME itself, where the stream is: the shape the old table's last row
   * event had (else `now`'s) under the new name, with `renamedFrom`,
   * `renamedAt` and the column marks it carries. The pending rename is taken: the renamed table's
   * row events keep these marks (docs/schema-changes.md). Null when no such rename is pending, or
   * when the old name is itself the target of a rename of this statement not judged yet (a swap
   * through a third name, judged at the row events as before).
   */
  renamedNow(from: TableId, now: TableSchema): TableSchema | null {
    const at = this.tables.findIndex((r) => lc(r.from) === lc(from) && lc(r.to) === lc(now));
    const pending = this.tables[at];
    if (!pending) return null;
    const fromName = nameOf(pending.from);
    // Information_schema read before (a seed) may show another table under the old name, when the
    // binlog is read again after a table was created under it: the renamed table as read is closer.
    let old = this.seeded.has(fromName) ? undefined : this.last.get(fromName);
    if (!old) {
      if (this.tables.slice(0, at).some((r) => lc(r.to) === lc(from))) return null;
      old = relabel(now, pending.from);
      this.last.set(fromName, old);
    }
    this.held.delete(nameOf(now));
    const renamed = this.marked({ schema: relabel(old, now), info: [] }).schema;
    // Column renames still pending for the old name are the renamed table's now.
    for (let i = 0; i < this.columns.length; i++) {
      const c = this.columns[i]!;
      if (lc(c.table) === lc(from)) this.columns[i] = { ...c, table: { db: now.db, table: now.table } };
    }
    return renamed;
  }

  /**
   * `schema` with the marks of its table as they stand (the table rename it carries, its carried
   * column renames and those pending that it shows), without judging it as a row event's shape.
   */
  withMarks(schema: TableSchema): TableSchema {
    const name = nameOf(schema);
    const carried = this.carried.get(name);
    const prev = this.last.get(name);
    const names = new Set(schema.columns.map((c) => c.name));
    const marks = new Map([...(carried?.columns ?? [])].filter(([to, from]) => names.has(to) && !names.has(from)));
    for (const r of this.columns) {
      if (lc(r.table) !== name.toLowerCase() || !prev) continue;
      const was = prev.columns.some((c) => c.name === r.from);
      if (was && names.has(r.to) && !names.has(r.from) && !prev.columns.some((c) => c.name === r.to)) {
        marks.set(r.to, r.from);
      }
    }
    const { version: _v, incarnation: _i, renamedFrom: _f, renamedAt: _a, ...rest } = schema;
    return withVersion({
      ...rest,
      columns: schema.columns.map((c) => (marks.has(c.name) ? { ...c, renamedFrom: marks.get(c.name)! } : c)),
      ...(carried?.table ? { renamedFrom: carried.table } : {}),
      ...(carried?.table && carried.at !== undefined ? { renamedAt: carried.at } : {}),
    });
  }

  /** A shape to compare the next event of a table with, when none was seen yet. */
  seed(schema: TableSchema): void {
    if (this.last.has(nameOf(schema))) return;
    this.last.set(nameOf(schema), schema);
    this.seeded.add(nameOf(schema));
  }

  /** `entry`, the shape of a row event, with the marks pending renames explain. */
  mark(entry: CapturedTable): CapturedTable {
    const { schema } = entry;
    const name = nameOf(schema);
    const held = this.held.get(name);
    if (held && held.base === schema.version) return held.entry;
    const out = this.marked(entry);
    this.held.set(name, { base: schema.version, entry: out });
    return out;
  }

  private marked(entry: CapturedTable): CapturedTable {
    const { schema } = entry;
    const name = nameOf(schema);
    let prev = this.last.get(name);
    let renamedFrom: TableId | undefined;
    let renamedAt: string | undefined;
    const t = this.tables.find((r) => same(nameOf(r.to), name) && this.last.has(nameOf(r.from)));
    if (t) {
      renamedFrom = t.from;
      renamedAt = t.at;
      prev = this.last.get(nameOf(t.from));
    }
    this.last.set(name, schema);
    this.seeded.delete(name);
    if (renamedFrom) {
      this.last.delete(nameOf(renamedFrom));
      this.drop(this.tables, (r) => nameOf(r.from) === nameOf(renamedFrom!));
    }
    const carried = this.carried.get(name) ??
      (renamedFrom && this.carried.get(nameOf(renamedFrom))) ?? {
        columns: new Map<string, string>(),
      };
    if (renamedFrom) {
      carried.table = { db: renamedFrom.db, table: prev?.table ?? renamedFrom.table };
      if (renamedAt !== undefined) carried.at = renamedAt;
      this.carried.delete(nameOf(renamedFrom));
    }
    this.carried.set(name, carried);
    if (prev) {
      const before = prev.columns.map((c) => c.name);
      const after = schema.columns.map((c) => c.name);
      const tableNames = new Set([name, ...(renamedFrom ? [nameOf(renamedFrom)] : [])]);
      const ours = this.columns.filter((r) => [...tableNames].some((n) => same(n, nameOf(r.table))));
      for (const r of ours) {
        const from = before.find((n) => same(n, r.from));
        // Several renames in a row (a -> b, b -> c) with no row written in between: a -> c.
        let last = r.to;
        for (let i = 0; i < ours.length; i++) {
          const next = ours.find((x) => same(x.from, last) && !after.some((n) => same(n, last)));
          if (!next) break;
          last = next.to;
        }
        const to = after.find((n) => same(n, last));
        if (from && to && !after.includes(from) && !before.includes(to)) {
          carried.columns.set(to, from);
        }
      }
      // A new set of names comes after every pending DDL of the table: what they renamed shows now or never.
      if (before.join('\u0000') !== after.join('\u0000')) {
        this.drop(this.columns, (r) => [...tableNames].some((n) => same(n, nameOf(r.table))));
      }
    }
    // Every mark seen so far that still holds (new name there, old name not) goes into this shape.
    const names = new Set(schema.columns.map((c) => c.name));
    const marks = new Map([...carried.columns].filter(([to, from]) => names.has(to) && !names.has(from)));
    // A table under a name that a RENAME freed (and not the renamed table itself) is another table.
    const incarnation = carried.table ? undefined : this.incarnations.get(name.toLowerCase());
    if (!carried.table && marks.size === 0 && incarnation === undefined) return entry;
    const { version: _v, ...rest } = schema;
    const marked = withVersion({
      ...rest,
      columns: schema.columns.map((c) => (marks.has(c.name) ? { ...c, renamedFrom: marks.get(c.name)! } : c)),
      ...(carried.table ? { renamedFrom: carried.table } : {}),
      ...(carried.table && carried.at !== undefined ? { renamedAt: carried.at } : {}),
      ...(incarnation === undefined ? {} : { incarnation }),
    });
    return { ...entry, schema: marked };
  }

  private drop<T>(list: T[], match: (x: T) => boolean): void {
    for (let i = list.length - 1; i >= 0; i--) if (match(list[i]!)) list.splice(i, 1);
  }
}

/** `schema`, unmarked, under the name of `to`. */
function relabel(schema: TableSchema, to: TableId): TableSchema {
  const { version: _v, incarnation: _i, renamedFrom: _f, renamedAt: _a, ...rest } = schema;
  return withVersion({
    ...rest,
    db: to.db,
    table: to.table,
    columns: rest.columns.map(({ renamedFrom: _r, ...c }) => c),
  });
}
