/**
 * Regression: a table re-created under the old name of a renamed table, with exactly the same
 * columns and key, gets versions of its own (docs/schema-changes.md), the same ones when the
 * binlog is read again or the source restarts after the RENAME.
 */
import { describe, expect, it } from 'vitest';
import { atOrBefore, RenameMarks } from '../../connectors/mysql-source/rename-marks.js';
import { type TableSchema, withVersion } from '../../src/api/index.js';

const shape = (table: string): TableSchema =>
  withVersion({
    db: 'app',
    table,
    primaryKey: ['id'],
    columns: [
      { name: 'id', kind: 'int32', sourceType: 'int', nullable: false },
      { name: 'v', kind: 'string', sourceType: 'varchar(10)', nullable: true },
    ],
  });
const entry = (table: string) => ({ schema: shape(table), info: [] });
const RENAME = { tables: [{ from: { db: 'app', table: 'a' }, to: { db: 'app', table: 'b' } }], columns: [] };

/** Reads: old a, RENAME a TO b at `at`, b, new a. */
function read(marks: RenameMarks, at = 'binlog.000002:500') {
  const oldA = marks.mark(entry('a')).schema;
  marks.note(RENAME, at);
  const b = marks.mark(entry('b')).schema;
  const newA = marks.mark(entry('a')).schema;
  return { oldA, b, newA };
}

describe('MySQL source: a table re-created under the name of a renamed table', () => {
  it('gets another version than the old table, and the same one when the binlog is read again', () => {
    const first = read(new RenameMarks());
    expect(first.oldA.version).toBe(shape('a').version);
    expect(first.b.renamedFrom).toEqual({ db: 'app', table: 'a' });
    expect(first.b.renamedAt).toBe('binlog.000002:500');
    expect(first.newA.version).not.toBe(first.oldA.version);
    expect(first.newA.incarnation).toBe('binlog.000002:500');
    const again = read(new RenameMarks());
    expect([again.oldA.version, again.b.version, again.newA.version]).toEqual([
      first.oldA.version,
      first.b.version,
      first.newA.version,
    ]);
  });

  it('a source that starts after the RENAME learns it from the schema history; one that starts before does not', () => {
    const { b, newA } = read(new RenameMarks());
    const history = [shape('a'), b];
    const after = new RenameMarks();
    after.seedIncarnations(history, 'binlog.000002:600');
    expect(after.mark(entry('a')).schema.version).toBe(newA.version);
    const before = new RenameMarks();
    before.seedIncarnations([...history, newA], 'binlog.000002:400');
    expect(before.mark(entry('a')).schema.version).toBe(shape('a').version);
    const now = new RenameMarks();
    now.seedIncarnations([...history, newA]);
    expect(now.incarnate(shape('a')).version).toBe(newA.version);
  });

  it('compares binlog positions by file number, then offset', () => {
    expect(atOrBefore('binlog.000002:500', 'binlog.000010:4')).toBe(true);
    expect(atOrBefore('binlog.000002:500', 'binlog.000002:500')).toBe(true);
    expect(atOrBefore('binlog.000002:501', 'binlog.000002:500')).toBe(false);
  });
});
