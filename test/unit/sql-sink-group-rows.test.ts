import { describe, expect, it } from 'vitest';
import { type ColumnSchema, type Row, UNCHANGED } from '../../src/api/index.js';
import { groupByColumns } from '../../src/sql-sink/rows.js';

const col = (name: string): ColumnSchema =>
  ({ name, sourceType: 'int', kind: 'int32', nullable: true }) as unknown as ColumnSchema;
const columns = [col('id'), col('a'), col('b')];

describe('groupByColumns', () => {
  it('groups rows by the columns they carry, in first-seen order, whole rows together', () => {
    const partial: Row = { id: 2, a: 1, b: UNCHANGED as unknown as Row[string] };
    const rows: Row[] = [
      partial,
      { id: 1, a: 1, b: null },
      { id: 3, a: 3 },
      { id: 4, a: 4, b: 4 },
      { id: 5, b: 5, a: 5 },
    ];
    const groups = groupByColumns(rows, columns);
    expect(groups.map((g) => g.columns.map((c) => c.name))).toEqual([
      ['id', 'a'],
      ['id', 'a', 'b'],
    ]);
    expect(groups[0]!.rows.map((r) => r['id'])).toEqual([2, 3]);
    expect(groups[1]!.rows.map((r) => r['id'])).toEqual([1, 4, 5]);
  });

  it('does not take a column from the prototype as carried', () => {
    const groups = groupByColumns([{ id: 1 }], [col('id'), col('constructor')]);
    expect(groups.map((g) => g.columns.map((c) => c.name))).toEqual([['id']]);
  });
});
