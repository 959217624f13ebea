import { describe, expect, it } from 'vitest';
import {
  addColumnStatement as myAddColumn,
  defaultLiteral as myDefaultLiteral,
} from '../../connectors/mysql-sink/sql.js';
import { parseRenames, splitTopLevel } from '../../connectors/mysql-source/ddl-renames.js';
import { defaultLiteral, mysqlDefault } from '../../connectors/mysql-source/defaults.js';
import { RenameMarks } from '../../connectors/mysql-source/rename-marks.js';
import type { CapturedTable } from '../../connectors/mysql-source/schema.js';
import { hintToInfo, sameType } from '../../connectors/mysql-source/table-registry.js';
import { quoteLiteral } from '../../connectors/postgres-sink/dialect.js';
import { addColumnStatement as pgAddColumn, renameTableStatements } from '../../connectors/postgres-sink/sql.js';
import { withDefault, withDefaultValue } from '../../connectors/postgres-source/defaults.js';
import { renamedWhileStopped } from '../../connectors/postgres-source/index.js';
import { RelationHistory, type StartRename } from '../../connectors/postgres-source/renames.js';
import { type ColumnSchema, renamesOf, schemaVersion, type TableSchema, withVersion } from '../../src/api/index.js';
import { reincarnatedTables } from '../../src/runtime/source/schema-history.js';
import { mapChanges, RenameHistory } from '../../src/sql-sink/renames.js';

const col = (name: string, extra: Partial<ColumnSchema> = {}): ColumnSchema => ({
  name,
  kind: 'int32',
  sourceType: 'int',
  nullable: true,
  ...extra,
});

const table = (name: string, columns: ColumnSchema[], extra: Partial<TableSchema> = {}): TableSchema =>
  withVersion({ db: 'd', table: name, columns, primaryKey: ['id'], ...extra });

describe('MySQL DDL renames', () => {
  it('reads RENAME COLUMN, CHANGE and table renames of ALTER TABLE and RENAME TABLE', () => {
    expect(parseRenames('ALTER TABLE t RENAME COLUMN a TO b, ADD COLUMN x INT', 'd')).toEqual({
      tables: [],
      columns: [{ table: { db: 'd', table: 't' }, from: 'a', to: 'b' }],
    });
    expect(
      parseRenames("alter table `s`.`t` change column `a b` `c,d` varchar(10) default 'x,y'", 'd').columns,
    ).toEqual([{ table: { db: 's', table: 't' }, from: 'a b', to: 'c,d' }]);
    expect(parseRenames('ALTER TABLE t CHANGE a a BIGINT', 'd').columns).toEqual([]);
    expect(parseRenames('RENAME TABLE a TO b, x.c TO y.d', 'd').tables).toEqual([
      { from: { db: 'd', table: 'a' }, to: { db: 'd', table: 'b' } },
      { from: { db: 'x', table: 'c' }, to: { db: 'y', table: 'd' } },
    ]);
    expect(parseRenames('/* c */ ALTER TABLE a RENAME TO b', 'd').tables).toEqual([
      { from: { db: 'd', table: 'a' }, to: { db: 'd', table: 'b' } },
    ]);
    expect(parseRenames('ALTER TABLE a RENAME INDEX i TO j', 'd')).toEqual({ tables: [], columns: [] });
    expect(splitTopLevel("a DECIMAL(10,2), b ENUM('x,y'), c")).toEqual(['a DECIMAL(10,2)', "b ENUM('x,y')", 'c']);
  });

  it('marks a renamed column and table on the first event whose shape shows the rename, not at the DDL', () => {
    const info = [] as CapturedTable['info'];
    const marks = new RenameMarks();
    const t1: CapturedTable = { schema: table('t', [col('id'), col('a')]), info };
    marks.seed(t1.schema);
    marks.note({
      tables: [{ from: { db: 'd', table: 't' }, to: { db: 'd', table: 'u' } }],
      columns: [{ table: { db: 'd', table: 't' }, from: 'a', to: 'b' }],
    });
    // An event still written under the old shape (the DDL came later in the binlog than its read).
    expect(marks.mark(t1)).toBe(t1);
    const after: CapturedTable = { schema: table('u', [col('id'), col('b')]), info };
    const marked = marks.mark(after);
    expect(marked.schema.renamedFrom).toEqual({ db: 'd', table: 't' });
    expect(marked.schema.columns[1]!.renamedFrom).toBe('a');
    expect(marked.schema.version).not.toBe(after.schema.version);
    // Every later event of that shape keeps the marks (the sink may apply it first), and so do
    // later shapes while the rename still holds.
    expect(marks.mark(after)).toBe(marked);
    const wider: CapturedTable = { schema: table('u', [col('id', { kind: 'int64' }), col('b')]), info };
    const later = marks.mark(wider).schema;
    expect(later.columns[1]!.renamedFrom).toBe('a');
    expect(later.renamedFrom).toEqual({ db: 'd', table: 't' });
    // A pending rename that the shapes do not show (the column is still there) marks nothing.
    const other = new RenameMarks();
    const v: CapturedTable = { schema: table('v', [col('id'), col('a')]), info };
    other.seed(v.schema);
    other.note({ tables: [], columns: [{ table: { db: 'd', table: 'v' }, from: 'a', to: 'b' }] });
    const both: CapturedTable = { schema: table('v', [col('id'), col('a'), col('b')]), info };
    expect(other.mark(both)).toBe(both);
    // Two renames with no row written in between: a -> b -> c is a rename of a to c.
    const chain = new RenameMarks();
    const w: CapturedTable = { schema: table('w', [col('id'), col('a')]), info };
    chain.seed(w.schema);
    chain.note({ tables: [], columns: [{ table: { db: 'd', table: 'w' }, from: 'a', to: 'b' }] });
    chain.note({ tables: [], columns: [{ table: { db: 'd', table: 'w' }, from: 'b', to: 'c' }] });
    const c = chain.mark({ schema: table('w', [col('id'), col('c')]), info });
    expect(c.schema.columns[1]!.renamedFrom).toBe('a');
  });

  it('marks an exchange of column names, in one ALTER or through a third name, and a column added under the old name', () => {
    const info = [] as CapturedTable['info'];
    const t = { db: 'd', table: 'x' };
    const marksOf = (m: CapturedTable) => Object.fromEntries(m.schema.columns.map((c) => [c.name, c.renamedFrom]));
    // RENAME COLUMN a TO b, RENAME COLUMN b TO a: MySQL carries them out at once.
    const one = new RenameMarks();
    one.seed(table('x', [col('id'), col('a'), col('b')]));
    one.note({
      tables: [],
      columns: [
        { table: t, from: 'a', to: 'b' },
        { table: t, from: 'b', to: 'a' },
      ],
    });
    const exchanged = one.mark({ schema: table('x', [col('id'), col('b'), col('a')]), info });
    expect(marksOf(exchanged)).toEqual({ id: undefined, b: 'a', a: 'b' });
    // A later shape (a column added) keeps both marks: the sink may apply it first.
    const wider = one.mark({ schema: table('x', [col('id'), col('b'), col('a'), col('c')]), info });
    expect(marksOf(wider)).toEqual({ id: undefined, b: 'a', a: 'b', c: undefined });
    // Three statements, no row written in between: a -> tmp, b -> a, tmp -> b.
    const three = new RenameMarks();
    three.seed(table('x', [col('id'), col('a'), col('b')]));
    for (const [from, to] of [
      ['a', 'tmp'],
      ['b', 'a'],
      ['tmp', 'b'],
    ] as const)
      three.note({ tables: [], columns: [{ table: t, from, to }] });
    expect(marksOf(three.mark({ schema: table('x', [col('id'), col('b'), col('a')]), info }))).toEqual({
      id: undefined,
      b: 'a',
      a: 'b',
    });
    // RENAME COLUMN a TO b, then ADD COLUMN a: b is the old a, a is new.
    const readd = new RenameMarks();
    readd.seed(table('x', [col('id'), col('a')]));
    readd.note({ tables: [], columns: [{ table: t, from: 'a', to: 'b' }] });
    expect(marksOf(readd.mark({ schema: table('x', [col('id'), col('b'), col('a')]), info }))).toEqual({
      id: undefined,
      b: 'a',
      a: undefined,
    });
    // A later rename of an exchanged column ends the exchange's marks: b -> c.
    one.note({ tables: [], columns: [{ table: t, from: 'b', to: 'c' }] });
    expect(marksOf(one.mark({ schema: table('x', [col('id'), col('c'), col('a')]), info }))).toEqual({
      id: undefined,
      c: 'b',
      a: undefined,
    });
  });
});

describe('column defaults', () => {
  it('reads MariaDB COLUMN_DEFAULT constants and leaves expressions out', () => {
    expect(defaultLiteral("'it''s'")).toBe("it's");
    expect(defaultLiteral('7')).toBe('7');
    expect(defaultLiteral('-1.5e3')).toBe('-1.5e3');
    expect(defaultLiteral('NULL')).toBeUndefined();
    expect(defaultLiteral(null)).toBeUndefined();
    expect(defaultLiteral('current_timestamp()')).toBeUndefined();
    expect(mysqlDefault(col('n'), '7')).toBe(7);
    expect(mysqlDefault(col('s', { kind: 'string', sourceType: 'varchar(5)' }), "'a''b'")).toBe("a'b");
    expect(mysqlDefault(col('x', { kind: 'decimal', sourceType: 'decimal(10,2)' }), '1.50')).toBe('1.50');
    expect(mysqlDefault(col('t', { kind: 'timestamp', sourceType: 'datetime' }), "'2024-01-02 03:04:05'")).toBe(
      '2024-01-02T03:04:05',
    );
    expect(mysqlDefault(col('u', { kind: 'uuid', sourceType: 'uuid' }), "'00000000-0000-0000-0000-000000000000'")).toBe(
      undefined,
    );
  });

  it('prefers PostgreSQL attmissingval and reads constant default expressions', () => {
    expect(withDefault('{7}', '7')).toEqual({ defaultText: '7' });
    expect(withDefault('{"a b"}', null)).toEqual({ defaultText: 'a b' });
    expect(withDefault(null, "'it''s'::character varying")).toEqual({ defaultText: "it's" });
    expect(withDefault(null, '(-5)')).toEqual({ defaultText: '-5' });
    expect(withDefault(null, 'now()')).toEqual({});
    expect(withDefault(null, "nextval('s'::regclass)")).toEqual({});
    expect(withDefaultValue(col('n'), '7').default).toBe(7);
    expect(withDefaultValue(col('n'), 'x').default).toBeUndefined();
  });

  it('is part of the schema version only when set', () => {
    const base = { db: 'd', table: 't', columns: [col('id')], primaryKey: ['id'] };
    const v = schemaVersion(base);
    expect(schemaVersion({ ...base, columns: [col('id', { default: 1 })] })).not.toBe(v);
    expect(schemaVersion({ ...base, columns: [col('id', { renamedFrom: 'x' })] })).not.toBe(v);
    expect(schemaVersion({ ...base, renamedFrom: { db: 'd', table: 'x' } })).not.toBe(v);
  });

  it('sinks add a column with its default as a quoted literal (PostgreSQL) or a parameter (MySQL)', () => {
    expect(pgAddColumn('s', 't', { name: 'd', type: 'integer', notNull: true }, '7').text).toBe(
      `ALTER TABLE "s"."t" ADD COLUMN IF NOT EXISTS "d" integer DEFAULT '7'::integer NOT NULL`,
    );
    expect(quoteLiteral("a'b\\c")).toBe("E'a''b\\\\c'");
    expect(myAddColumn('s', 't', { name: 'd?', ddl: 'INT', notNull: true }, 7)).toEqual({
      sql: 'ALTER TABLE `s`.`t` ADD COLUMN `d?` INT NOT NULL DEFAULT 7',
      params: [],
    });
    expect(myDefaultLiteral("it's \\")).toBe("'it''s \\\\'");
    expect(myDefaultLiteral('a\nb')).toBe("X'610a62'");
    expect(myDefaultLiteral(Buffer.from([1, 255]))).toBe("X'01ff'");
    expect(renameTableStatements({ schema: 'a', table: 'x' }, { schema: 'b', table: 'y' }).map((s) => s.text)).toEqual([
      'ALTER TABLE "a"."x" SET SCHEMA "b"',
      'ALTER TABLE "b"."x" RENAME TO "y"',
    ]);
  });
});

describe('PostgreSQL renames from Relation messages and attribute numbers', () => {
  it('tells RENAME COLUMN (same attnum) from DROP + ADD (new attnum), and sees a table rename by oid', () => {
    const h = new RelationHistory();
    const first = table('t', [col('id'), col('a')]);
    expect(
      h.mark(
        1,
        first,
        new Map([
          ['id', 1],
          ['a', 2],
        ]),
      ),
    ).toBe(first);
    const renamed = h.mark(
      1,
      table('t', [col('id'), col('b')]),
      new Map([
        ['id', 1],
        ['b', 2],
      ]),
    );
    expect(renamed.columns[1]!.renamedFrom).toBe('a');
    const readded = h.mark(
      1,
      table('t', [col('id'), col('c')]),
      new Map([
        ['id', 1],
        ['c', 3],
      ]),
    );
    expect(readded.columns[1]!.renamedFrom).toBeUndefined();
    const moved = h.mark(
      1,
      table('u', [col('id'), col('c')]),
      new Map([
        ['id', 1],
        ['c', 3],
      ]),
    );
    expect(moved.renamedFrom).toEqual({ db: 'd', table: 't' });
    // A later shape (a type change) still carries the table rename.
    const nums = new Map([
      ['id', 1],
      ['c', 3],
    ]);
    expect(h.mark(1, table('u', [col('id', { kind: 'int64' }), col('c')]), nums).renamedFrom).toEqual({
      db: 'd',
      table: 't',
    });
    const h2 = new RelationHistory();
    const ab = (n: string) =>
      new Map([
        ['id', 1],
        [n, 2],
      ]);
    h2.mark(2, table('t', [col('id'), col('a')]), ab('a'));
    h2.mark(2, table('t', [col('id'), col('b')]), ab('b'));
    expect(h2.mark(2, table('t', [col('id'), col('b', { kind: 'int64' })]), ab('b')).columns[1]!.renamedFrom).toBe('a');
  });

  it('on replay, matches a column the catalog no longer knows by its place when no attribute was dropped', () => {
    const h = new RelationHistory();
    h.mark(1, table('t', [col('id'), col('a')]), new Map([['id', 1]]));
    expect(
      h.mark(
        1,
        table('t', [col('id'), col('b')]),
        new Map([
          ['id', 1],
          ['b', 2],
        ]),
      ).columns[1]!.renamedFrom,
    ).toBe('a');
    const g = new RelationHistory();
    g.mark(1, table('t', [col('id'), col('a')]), new Map([['id', 1]]));
    expect(
      g.mark(
        1,
        table('t', [col('id'), col('b')]),
        new Map([
          ['id', 1],
          ['b', 3],
        ]),
      ).columns[1]!.renamedFrom,
    ).toBe(undefined);
  });
});

describe('PostgreSQL: a table renamed, or created under a captured name, while the source is stopped', () => {
  const pgTable = (name: string, oid: number, extra: Partial<TableSchema> = {}) =>
    table(name, [col('id'), col('v')], { incarnation: String(oid), ...extra });

  it('a captured table whose oid the schema history has under another name is a rename of it', () => {
    const history = [pgTable('rn', 1), pgTable('rn2', 1, { renamedFrom: { db: 'd', table: 'rn' } }), pgTable('rn', 2)];
    const found = new Map<number, StartRename>();
    const rn3 = renamedWhileStopped(pgTable('rn3', 1), 1, history, found);
    expect(rn3.renamedFrom).toEqual({ db: 'd', table: 'rn2' });
    expect(rn3.version).not.toBe(pgTable('rn3', 1).version);
    expect(found).toEqual(new Map([[1, { from: { db: 'd', table: 'rn2' }, to: { db: 'd', table: 'rn3' } }]]));
    // Same name as published last, an oid never published, no history: not renamed.
    expect(renamedWhileStopped(pgTable('rn', 2), 2, history, found).renamedFrom).toBeUndefined();
    expect(renamedWhileStopped(pgTable('x', 9), 9, history, found).renamedFrom).toBeUndefined();
    expect(renamedWhileStopped(pgTable('rn3', 1), 1, undefined, new Map()).renamedFrom).toBeUndefined();

    // The stream marks the table's Relation under the new name only (a replayed one under the old name is not renamed).
    const h = new RelationHistory();
    h.seedTableRenames(found);
    const ids = new Map([
      ['id', 1],
      ['v', 2],
    ]);
    expect(h.mark(1, pgTable('rn2', 1), ids).renamedFrom).toBeUndefined();
    expect(h.mark(1, pgTable('rn3', 1), ids).renamedFrom).toEqual({ db: 'd', table: 'rn2' });
    const first = new RelationHistory();
    first.seedTableRenames(found);
    expect(first.mark(1, pgTable('rn3', 1), ids).renamedFrom).toEqual({ db: 'd', table: 'rn2' });
    // Renamed again while streaming, first seen after a reconnect: the start's rename is not its name before.
    const later = new RelationHistory();
    later.seedTableRenames(found);
    expect(later.mark(1, pgTable('rn4', 1), ids).renamedFrom).toBeUndefined();
  });

  it('a table whose name was published last with another oid is another table (snapshotted at start)', () => {
    const history = [
      pgTable('rn', 1),
      pgTable('rn2', 1, { renamedFrom: { db: 'd', table: 'rn' } }),
      pgTable('keep', 5),
    ];
    const now = [
      pgTable('rn', 2), // created under the renamed table's old name while stopped
      pgTable('rn3', 1, { renamedFrom: { db: 'd', table: 'rn2' } }),
      pgTable('keep', 5),
      pgTable('fresh', 7),
      table('nooid', [col('id')]),
    ];
    expect(reincarnatedTables(history, now)).toEqual(['d.rn']);
    // Captured before the stop with this oid: the same table.
    expect(reincarnatedTables([...history, pgTable('rn', 2)], now)).toEqual([]);
  });
});

describe('sink rename history', () => {
  it('after a restart, learns column renames from the schema history before any renamed version', () => {
    const v1 = table('t', [col('id'), col('a')]);
    const v2 = table('t', [col('id'), col('b', { renamedFrom: 'a' })]);
    const known = renamesOf([v1, v2, v2]);
    expect(known).toEqual({ columns: [{ table: { db: 'd', table: 't' }, from: 'a', to: 'b' }], tables: [] });
    const h = new RenameHistory();
    h.record({ ...v1, knownRenames: known });
    const m = h.map(v1, v1, (n) => n === 'id' || n === 'b');
    expect(m.columns).toEqual(new Map([['a', 'b']]));
  });

  it('table renames survive a sink restart: learned from the schema history, for the versions before the rename only', () => {
    const v1 = table('t', [col('id'), col('a')]);
    const v2 = table('u', [col('id'), col('a')], { renamedFrom: { db: 'd', table: 't' } });
    // A table created later under the old name, with another shape.
    const v3 = table('t', [col('id'), col('z')]);
    const known = renamesOf([v1, v2, v3]);
    expect(known.tables).toEqual([
      { from: { db: 'd', table: 't' }, to: { db: 'd', table: 'u' }, versions: [v1.version] },
    ]);
    // A restarted sink whose first event is one of the old table: nothing of this process saw the rename.
    const h = new RenameHistory();
    h.record({ ...v1, knownRenames: known });
    expect(h.renamedTable(v1)).toEqual({ db: 'd', table: 'u' });
    expect(h.renamedTable(v3)).toBeNull();
  });

  it('maps events written before a rename onto the renamed column and table', () => {
    const h = new RenameHistory();
    const v1 = table('t', [col('id'), col('a')]);
    const v2 = table('u', [col('id'), col('b', { renamedFrom: 'a' })], { renamedFrom: { db: 'd', table: 't' } });
    h.record(v2);
    expect(h.renamedTable(v1)).toEqual({ db: 'd', table: 'u' });
    const target = new Set(['id', 'b']);
    const m = h.map(v1, { db: 'd', table: 'u' }, (n) => target.has(n));
    expect(m.schema.table).toBe('u');
    expect(m.schema.columns.map((c) => c.name)).toEqual(['id', 'b']);
    const changes = mapChanges({ schema: v1, truncate: false, upserts: [{ id: 1, a: 5 }], deletes: [] }, m);
    expect(changes.upserts).toEqual([{ id: 1, b: 5 }]);
    // A later version that holds both names again keeps its own column.
    const v3 = table('u', [col('id'), col('b'), col('a')]);
    expect(h.map(v3, v3, (n) => target.has(n) || n === 'a').columns.size).toBe(0);
  });
});

describe('MySQL replay across a type change', () => {
  const info = (type: string, extra: Record<string, unknown> = {}) => ({
    ...hintToInfo({ name: 'c', type }),
    ...extra,
  });

  it('a table-map type decodes like today only when kind, sign, scale and fractional digits agree', () => {
    expect(sameType(info('int'), { name: 'c', type: 'varchar(20)' })).toBe(false);
    expect(sameType(info('bigint'), { name: 'c', type: 'int' })).toBe(false);
    expect(sameType(info('int unsigned'), { name: 'c', type: 'int' })).toBe(false);
    expect(sameType(info('datetime(6)'), { name: 'c', type: 'datetime' })).toBe(false);
    expect(sameType(info('decimal(10,2)'), { name: 'c', type: 'decimal(12,4)' })).toBe(false);
    expect(sameType(info('varchar(50)'), { name: 'c', type: 'varchar(20)' })).toBe(true);
    expect(sameType(info('decimal(12,2)'), { name: 'c', type: 'decimal(10,2)' })).toBe(true);
    // The table map cannot tell MariaDB JSON (LONGTEXT) or UUID (BINARY(16)) apart: same.
    expect(sameType(info('longtext', { json: true }), { name: 'c', type: 'longtext' })).toBe(true);
    expect(sameType(info('uuid', { dataType: 'uuid' }), { name: 'c', type: 'binary(16)' })).toBe(true);
  });
});
