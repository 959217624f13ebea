/**
 * Regression "MySQL: the renamed table's schema went out only with its first row change": the
 * version of a renamed table (renamedFrom) is judged at the RENAME itself (docs/schema-changes.md),
 * and is the version its row events then use, also when the binlog is read again from before the
 * RENAME with nothing of the old table read since (a restart).
 */
import { describe, expect, it } from 'vitest';
import { RenameMarks } from '../../connectors/mysql-source/rename-marks.js';
import { type ColumnSchema, type TableSchema, withVersion } from '../../src/api/index.js';

const col = (name: string, sourceType = 'int'): ColumnSchema => ({
  name,
  kind: sourceType === 'int' ? 'int32' : 'string',
  sourceType,
  nullable: name !== 'id',
});
const shape = (table: string, columns = [col('id'), col('v', 'varchar(10)')]): TableSchema =>
  withVersion({ db: 'app', table, primaryKey: ['id'], columns });
const entry = (schema: TableSchema) => ({ schema, info: [] });
const at = 'binlog.000002:500';
const id = (table: string) => ({ db: 'app', table });
const rename = (...pairs: Array<[string, string]>) => ({
  tables: pairs.map(([from, to]) => ({ from: id(from), to: id(to) })),
  columns: [],
});

describe('MySQL source: a renamed table is judged at the RENAME', () => {
  it('gets its renamed version at the RENAME, the one its first row event uses; a new table under the old name gets its own', () => {
    const marks = new RenameMarks();
    marks.mark(entry(shape('a')));
    marks.note(rename(['a', 'b']), at);
    const renamed = marks.renamedNow(id('a'), shape('b'));
    expect(renamed?.renamedFrom).toEqual(id('a'));
    expect(renamed?.renamedAt).toBe(at);
    expect(renamed?.columns).toEqual(shape('b').columns);
    expect(marks.withMarks(shape('b')).version).toBe(renamed?.version);
    // The renamed table's first row event, and a table created under the old name after the RENAME.
    expect(marks.mark(entry(shape('b'))).schema.version).toBe(renamed?.version);
    expect(marks.mark(entry(shape('a'))).schema.incarnation).toBe(at);
  });

  it('a restart from before the RENAME, with no row of the old table read since, judges it the same', () => {
    const live = new RenameMarks();
    live.mark(entry(shape('a')));
    live.note(rename(['a', 'b']), at);
    const first = live.renamedNow(id('a'), shape('b'));
    const restarted = new RenameMarks();
    // information_schema at the start shows the renamed table and a new table under the old name.
    restarted.seed(shape('b'));
    restarted.seed(shape('a', [col('id'), col('other')]));
    restarted.note(rename(['a', 'b']), at);
    expect(restarted.renamedNow(id('a'), shape('b'))?.version).toBe(first?.version);
  });

  it('RENAME TABLE a TO b, c TO a: b is renamed from a, a from c, each with its old shape', () => {
    const c = shape('c', [col('id'), col('w', 'varchar(10)')]);
    const marks = new RenameMarks();
    marks.mark(entry(shape('a')));
    marks.mark(entry(c));
    marks.note(rename(['a', 'b'], ['c', 'a']), at);
    const b = marks.renamedNow(id('a'), shape('b'));
    const a = marks.renamedNow(id('c'), shape('a', c.columns));
    expect(b?.renamedFrom).toEqual(id('a'));
    expect(a?.renamedFrom).toEqual(id('c'));
    expect(a?.columns.map((x) => x.name)).toEqual(['id', 'w']);
    expect(a?.incarnation).toBeUndefined();
  });

  it('RENAME TABLE x TO z, y TO x with no row event of either read yet (shapes as information_schema showed them)', () => {
    const y = shape('y', [col('id'), col('w', 'varchar(10)')]);
    const marks = new RenameMarks();
    marks.seed(shape('x'));
    marks.seed(y);
    marks.note(rename(['x', 'z'], ['y', 'x']), at);
    const z = marks.renamedNow(id('x'), shape('z'));
    const x = marks.renamedNow(id('y'), shape('x', y.columns));
    expect(z?.renamedFrom).toEqual(id('x'));
    expect(z?.columns.map((c) => c.name)).toEqual(['id', 'v']);
    expect(x?.renamedFrom).toEqual(id('y'));
    expect(x?.columns.map((c) => c.name)).toEqual(['id', 'w']);
  });

  it('a swap through a third name that no longer exists is left to the row events', () => {
    const marks = new RenameMarks();
    marks.mark(entry(shape('a')));
    marks.mark(entry(shape('b', [col('id'), col('w', 'varchar(10)')])));
    marks.note(rename(['a', 't'], ['b', 'a'], ['t', 'b']), at);
    expect(marks.renamedNow(id('b'), shape('a', [col('id'), col('w', 'varchar(10)')]))?.renamedFrom).toEqual(id('b'));
    expect(marks.renamedNow(id('t'), shape('b'))).toBeNull();
  });

  it('a source that starts after the RENAME keeps the renamed version (from the schema history) for the renamed table', () => {
    const live = new RenameMarks();
    live.mark(entry(shape('a')));
    live.note(rename(['a', 'b']), at);
    const renamed = live.renamedNow(id('a'), shape('b'))!;
    const history = [shape('a'), renamed];
    const after = new RenameMarks();
    after.seedIncarnations(history, 'binlog.000002:600');
    expect(after.incarnate(shape('b')).version).toBe(renamed.version);
    expect(after.mark(entry(shape('b'))).schema.version).toBe(renamed.version);
    const before = new RenameMarks();
    before.seedIncarnations(history, 'binlog.000002:400');
    expect(before.incarnate(shape('b')).version).toBe(shape('b').version);
  });
});
