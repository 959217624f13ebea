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
  /** Column renames not yet shown by a row event, each with the number of the statement that made it. */
  private readonly columns: Array<{ table: TableId; from: string; to: string; statement: number }> = [];
  private statements = 0;
  private readonly tables: Array<{ from: TableId; to: TableId; at?: string }> = [];
  /**
   * Per table name (lower case) freed by a RENAME: the position of that RENAME. A table under that
   * name afterwards is another table: its versions carry it as `incarnation`.
   */
  private readonly incarnations = new Map<string, string>();
  /** The last shape of each table in binlog order. */
  private readonly last = new Map<string, TableSchema>();
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
    const statement = this.statements++;
    this.columns.push(...renames.columns.map((c) => ({ ...c, statement })));
    this.tables.push(...renames.tables.map((t) => (at === undefined ? t : { ...t, at })));
    if (at === undefined) return;
    for (const t of renames.tables) {
      this.incarnations.delete(lc(t.to));
      this.incarnations.set(lc(t.from), at);
      // Events of the old name from now on are of another table: not the shape held for the old one.
      for (const name of [...this.held.keys()]) if (name.toLowerCase() === lc(t.from)) this.held.delete(name);
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
  }

  /** `schema` with the incarnation of its name, if a RENAME freed that name (else as it is). */
  incarnate(schema: TableSchema): TableSchema {
    const incarnation = this.incarnations.get(lc(schema));
    if (incarnation === undefined || schema.renamedFrom || schema.incarnation !== undefined) return schema;
    const { version: _v, ...rest } = schema;
    return withVersion({ ...rest, incarnation });
  }

  /** A shape to compare the next event of a table with, when none was seen yet. */
  seed(schema: TableSchema): void {
    if (!this.last.has(nameOf(schema))) this.last.set(nameOf(schema), schema);
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
    let fresh = new Map<string, string>();
    if (prev) {
      const before = prev.columns.map((c) => c.name);
      const after = schema.columns.map((c) => c.name);
      const tableNames = new Set([name, ...(renamedFrom ? [nameOf(renamedFrom)] : [])]);
      const ours = this.columns.filter((r) => [...tableNames].some((n) => same(n, nameOf(r.table))));
      fresh = shownRenames(before, after, ours);
      if (fresh.size > 0) {
        // Marks of earlier renames that involve these names no longer hold.
        const involved = [...fresh].flat();
        for (const [to, from] of [...carried.columns]) {
          if (involved.some((n) => same(n, to) || same(n, from))) carried.columns.delete(to);
        }
        for (const [to, from] of fresh) carried.columns.set(to, from);
      }
      // A new set of names comes after every pending DDL of the table: what they renamed shows now or never.
      if (before.join('\u0000') !== after.join('\u0000')) {
        this.drop(this.columns, (r) => [...tableNames].some((n) => same(n, nameOf(r.table))));
      }
    }
    // Every mark seen so far that still holds goes into this shape: the new name is there, and the
    // old one is not, or is the new name of another renamed column (a chain or an exchange).
    const names = new Set(schema.columns.map((c) => c.name));
    const renamedTo = new Set(carried.columns.keys());
    const marks = new Map(
      [...carried.columns].filter(([to, from]) => names.has(to) && (!names.has(from) || renamedTo.has(from))),
    );
    for (const [to, from] of fresh) marks.set(to, from);
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

/**
 * The column renames that the shapes before and after show (new name -> old), from the renames
 * the DDL statements in between made: the renames of one statement at once (MySQL carries out
 * `RENAME COLUMN a TO b, RENAME COLUMN b TO a` as an exchange), the statements one after the
 * other (a -> b, then b -> c: a -> c). A rename is shown when its final name is there after; when
 * its old name is there too (an exchange, or a column added under the old name), only when the
 * renamed column kept its place.
 */
export function shownRenames(
  before: readonly string[],
  after: readonly string[],
  renames: ReadonlyArray<{ from: string; to: string; statement: number }>,
): Map<string, string> {
  const statements = [...new Set(renames.map((r) => r.statement))].sort((x, y) => x - y);
  // Each column of before -> its name after the statements so far.
  let current = new Map(before.map((n) => [n, n]));
  for (const st of statements) {
    const made = renames.filter((r) => r.statement === st);
    const next = new Map(current);
    for (const [orig, name] of current) {
      const r = made.find((x) => same(x.from, name));
      if (r) next.set(orig, r.to);
    }
    current = next;
  }
  const shown = new Map<string, string>();
  for (const [orig, name] of current) {
    if (same(orig, name)) continue;
    const to = after.find((n) => same(n, name));
    if (!to) continue;
    if (after.some((n) => same(n, orig)) && before.indexOf(orig) !== after.indexOf(to)) continue;
    shown.set(to, orig);
  }
  return shown;
}
