import { describe, expect, it } from 'vitest';
import { renameColumnsStatement } from '../../connectors/mysql-sink/sql.js';
import { type ColumnSchema, type TableSchema, withVersion } from '../../src/api/index.js';
import { type ColumnRename, pendingColumnRenames, renameSteps } from '../../src/sql-sink/column-renames.js';
import type { SqlSinkDialect, TargetColumn, TargetTable, WantedType } from '../../src/sql-sink/dialect.js';
import { prepareTable } from '../../src/sql-sink/tables.js';

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

/** A target table in memory: columns in order, the key, and the DDL statements run. */
function memoryTarget(columns: string[], primaryKey: string[]) {
  const table = { columns: [...columns], primaryKey: [...primaryKey] };
  const ddl: string[] = [];
  const describe = async (): Promise<TargetTable> => ({
    columns: new Map(table.columns.map((n) => [n, { name: n, type: 'int', notNull: false }])),
    primaryKey: [...table.primaryKey],
  });
  const dialect = {
    describe,
    columnType: () => ({ type: 'int' }),
    compareTypes: () => ({ result: 'same' as const }),
    addColumn: async (_c: unknown, _s: TableSchema, col: ColumnSchema) => {
      ddl.push(`add ${col.name}`);
      table.columns.push(col.name);
    },
    renameColumns: async (_c: unknown, _s: TableSchema, renames: ColumnRename[]) => {
      ddl.push(`rename ${renames.map((r) => `${r.from}>${r.to}`).join(',')}`);
      const to = new Map(renames.map((r) => [r.from, r.to]));
      table.columns = table.columns.map((n) => to.get(n) ?? n);
      table.primaryKey = table.primaryKey.map((n) => to.get(n) ?? n);
    },
    alterColumn: async () => 'int',
  } as unknown as SqlSinkDialect<unknown, TargetColumn, WantedType, unknown>;
  return { table, ddl, dialect };
}

describe('SQL sink: preparing a version with renames', () => {
  it('exchanges names once (preparing the version again changes nothing) and renames a key column', async () => {
    const t = memoryTarget(['id', 'a', 'b'], ['id']);
    const swap = withVersion({
      db: 'd',
      table: 't',
      columns: [col('key', { renamedFrom: 'id' }), col('b', { renamedFrom: 'a' }), col('a', { renamedFrom: 'b' })],
      primaryKey: ['key'],
    });
    const o = { createTables: true, logger: null };
    await prepareTable(t.dialect, null, swap, o);
    await prepareTable(t.dialect, null, swap, o);
    expect(t.ddl).toEqual(['rename id>key,a>b,b>a']);
    expect(t.table).toEqual({ columns: ['key', 'b', 'a'], primaryKey: ['key'] });
    // Without DDL allowed, a rename to do stops the sink and names it.
    const u = memoryTarget(['id', 'a', 'b'], ['id']);
    await expect(prepareTable(u.dialect, null, swap, { createTables: false, logger: null })).rejects.toThrow(
      /"a" to "b"/,
    );
  });
});
