import { describe, expect, it } from 'vitest';
import { renameColumnsStatement } from '../../connectors/mysql-sink/sql.js';
import { type ColumnSchema, type TableSchema, withVersion } from '../../src/api/index.js';
import { pendingColumnRenames, renameSteps } from '../../src/sql-sink/column-renames.js';

const col = (name: string, extra: Partial<ColumnSchema> = {}): ColumnSchema => ({
  name,
  kind: 'int32',
  sourceType: 'int',
  nullable: true,
  ...extra,
});

describe('SQL sink: the column renames a target still needs', () => {
  const version = (cols: Array<[string, string?]>): TableSchema =>
    withVersion({
      db: 'd',
      table: 't',
      columns: cols.map(([n, from]) => col(n, from === undefined ? {} : { renamedFrom: from })),
      primaryKey: ['id'],
    });

  it('a rename is done once the old name is gone or the new one is there', () => {
    const v = version([['id'], ['b', 'a'], ['a']]);
    expect(pendingColumnRenames(v, ['id', 'a'])).toEqual([{ from: 'a', to: 'b' }]);
    expect(pendingColumnRenames(v, ['id', 'b'])).toEqual([]);
    expect(pendingColumnRenames(v, ['id', 'b', 'a'])).toEqual([]);
  });

  it('a chain is to do until its last name exists', () => {
    const v = version([['id'], ['b', 'a'], ['c', 'b']]);
    expect(pendingColumnRenames(v, ['id', 'a', 'b'])).toEqual([
      { from: 'a', to: 'b' },
      { from: 'b', to: 'c' },
    ]);
    expect(pendingColumnRenames(v, ['id', 'b', 'c'])).toEqual([]);
    expect(renameSteps(pendingColumnRenames(v, ['id', 'a', 'b']), ['id', 'a', 'b'])).toEqual([
      { from: 'b', to: 'c' },
      { from: 'a', to: 'b' },
    ]);
  });

  it('an exchange of names is told by the order of the columns, and goes through a free name', () => {
    const v = version([['id'], ['b', 'a'], ['a', 'b'], ['x']]);
    expect(pendingColumnRenames(v, ['id', 'a', 'b', 'x'])).toEqual([
      { from: 'a', to: 'b' },
      { from: 'b', to: 'a' },
    ]);
    expect(pendingColumnRenames(v, ['id', 'b', 'a', 'x'])).toEqual([]);
    expect(renameSteps(pendingColumnRenames(v, ['id', 'a', 'b']), ['id', 'a', 'b', 'ferry_tmp_1'])).toEqual([
      { from: 'a', to: 'ferry_tmp_2' },
      { from: 'b', to: 'a' },
      { from: 'ferry_tmp_2', to: 'b' },
    ]);
    const three = version([['id'], ['b', 'a'], ['c', 'b'], ['a', 'c']]);
    expect(pendingColumnRenames(three, ['id', 'a', 'b', 'c'])).toHaveLength(3);
    expect(pendingColumnRenames(three, ['id', 'b', 'c', 'a'])).toEqual([]);
    // Neither order: ferry cannot tell, and says how to fix it.
    expect(() => pendingColumnRenames(three, ['id', 'c', 'b', 'a'])).toThrow(/d\.t: the source exchanged the names/);
  });

  it('MySQL/MariaDB: one ALTER TABLE renames them all at once', () => {
    expect(
      renameColumnsStatement('d', 't', [
        { from: 'a', to: 'b' },
        { from: 'b`', to: 'a' },
      ]).sql,
    ).toBe('ALTER TABLE `d`.`t` RENAME COLUMN `a` TO `b`, RENAME COLUMN `b``` TO `a`');
  });
});
