import { describe, expect, it } from 'vitest';
import { type Row, type TableSchema, UNCHANGED, withVersion } from '../../src/api/index.js';
import { reduceEvents, type SinkEvent, schemasOf } from '../../src/runtime/sink/reduce.js';

const v1: TableSchema = withVersion({
  db: 'shop',
  table: 'items',
  primaryKey: ['id'],
  columns: [
    { name: 'id', kind: 'int32', sourceType: 'int', nullable: false },
    { name: 'name', kind: 'string', sourceType: 'text', nullable: true },
    { name: 'body', kind: 'string', sourceType: 'text', nullable: true },
  ],
});
const v2: TableSchema = withVersion({
  ...v1,
  columns: [...v1.columns, { name: 'note', kind: 'string', sourceType: 'text', nullable: true }],
});
const other: TableSchema = withVersion({ ...v1, table: 'other' });

const c = (after: Row, schema = v1): SinkEvent => ({ op: 'c', schema, before: null, after, tsMs: 1 });
const u = (after: Row, before: Row | null = null, schema = v1): SinkEvent => ({
  op: 'u',
  schema,
  before,
  after,
  tsMs: 1,
});
const d = (before: Row, schema = v1): SinkEvent => ({ op: 'd', schema, before, after: null, tsMs: 1 });
const t = (schema = v1): SinkEvent => ({ op: 't', schema, before: null, after: null, tsMs: 1 });

describe('reduceEvents', () => {
  it('keeps the last state per key', () => {
    const out = reduceEvents([
      c({ id: 1, name: 'a', body: 'x' }),
      u({ id: 1, name: 'b', body: 'x' }),
      u({ id: 1, name: 'c', body: 'y' }),
    ]);
    expect(out).toEqual([{ schema: v1, truncate: false, upserts: [{ id: 1, name: 'c', body: 'y' }], deletes: [] }]);
  });

  it('insert then delete is a delete; delete then create is an upsert of the new image', () => {
    const out = reduceEvents([
      c({ id: 1, name: 'a' }),
      d({ id: 1, name: 'a' }),
      d({ id: 2, name: 'old' }),
      c({ id: 2, name: 'new' }),
    ]);
    expect(out).toHaveLength(1);
    expect(out[0]!.deletes).toEqual([{ id: 1 }]);
    expect(out[0]!.upserts).toEqual([{ id: 2, name: 'new' }]);
  });

  it('deletes carry only the key columns', () => {
    const out = reduceEvents([d({ id: 7, name: 'gone', body: 'big' })]);
    expect(out).toEqual([{ schema: v1, truncate: false, upserts: [], deletes: [{ id: 7 }] }]);
  });

  it('merges an update with UNCHANGED columns into the earlier image of the batch', () => {
    const out = reduceEvents([c({ id: 1, name: 'a', body: 'large' }), u({ id: 1, name: 'b', body: UNCHANGED })]);
    expect(out[0]!.upserts).toEqual([{ id: 1, name: 'b', body: 'large' }]);
  });

  it('keeps UNCHANGED when no earlier image is in the batch (the sink updates only present columns)', () => {
    const out = reduceEvents([u({ id: 1, name: 'b', body: UNCHANGED }), u({ id: 1, name: 'c', body: UNCHANGED })]);
    expect(out[0]!.upserts).toEqual([{ id: 1, name: 'c', body: UNCHANGED }]);
  });

  it('an update whose key changed deletes the old key', () => {
    const out = reduceEvents([u({ id: 2, name: 'moved' }, { id: 1, name: 'moved' })]);
    expect(out[0]!.deletes).toEqual([{ id: 1 }]);
    expect(out[0]!.upserts).toEqual([{ id: 2, name: 'moved' }]);
  });

  it('a primary-key change as delete + create', () => {
    const out = reduceEvents([c({ id: 1, name: 'a' }), d({ id: 1, name: 'a' }), c({ id: 100, name: 'a' })]);
    expect(out[0]!.deletes).toEqual([{ id: 1 }]);
    expect(out[0]!.upserts).toEqual([{ id: 100, name: 'a' }]);
  });

  it('a truncate forgets earlier changes of its table and marks it', () => {
    const out = reduceEvents([c({ id: 1 }), d({ id: 2 }), c({ id: 1 }, other), t(), c({ id: 3, name: 'after' })]);
    expect(out).toEqual([
      { schema: v1, truncate: true, upserts: [{ id: 3, name: 'after' }], deletes: [] },
      { schema: other, truncate: false, upserts: [{ id: 1 }], deletes: [] },
    ]);
  });

  it('a truncate alone still yields a change', () => {
    expect(reduceEvents([c({ id: 1 }), t()])).toEqual([{ schema: v1, truncate: true, upserts: [], deletes: [] }]);
  });

  it('splits a table across schema versions; each row under the version of its last event', () => {
    const out = reduceEvents([
      c({ id: 1, name: 'a' }),
      c({ id: 2, name: 'b' }),
      u({ id: 2, name: 'b', note: 'n' }, null, v2),
      d({ id: 3 }, v2),
    ]);
    expect(out).toEqual([
      { schema: v1, truncate: false, upserts: [{ id: 1, name: 'a' }], deletes: [{ id: 3 }] },
      { schema: v2, truncate: false, upserts: [{ id: 2, name: 'b', note: 'n' }], deletes: [] },
    ]);
    expect(schemasOf(out)).toEqual([v1, v2]);
  });

  it('an image after a DROP COLUMN does not swallow the earlier image: the batch is cut there, in order', () => {
    // v2 without `body` (dropped at the source; the target keeps the column).
    const dropped: TableSchema = withVersion({ ...v1, columns: v1.columns.filter((col) => col.name !== 'body') });
    const out = reduceEvents([
      c({ id: 2, name: 'x', body: 'kept' }, v1),
      u({ id: 1, name: 'a', body: 'last before the drop' }, null, v1),
      d({ id: 3, name: 'z', body: 'b' }, v1),
      u({ id: 1, name: 'read again' }, null, dropped),
      u({ id: 2, name: 'y' }, null, dropped),
    ]);
    // One by one, row 1's `body` ends 'last before the drop' and row 2's 'kept': the images before
    // the cut are applied first, then the ones after it.
    expect(out).toEqual([
      {
        schema: v1,
        truncate: false,
        upserts: [
          { id: 2, name: 'x', body: 'kept' },
          { id: 1, name: 'a', body: 'last before the drop' },
        ],
        deletes: [{ id: 3 }],
      },
      {
        schema: dropped,
        truncate: false,
        upserts: [
          { id: 1, name: 'read again' },
          { id: 2, name: 'y' },
        ],
        deletes: [],
      },
    ]);
    // Without a dropped column in between, a later version still replaces the image in place.
    expect(reduceEvents([c({ id: 1, name: 'a' }, v1), u({ id: 1, name: 'b', note: 'n' }, null, v2)])).toEqual([
      { schema: v2, truncate: false, upserts: [{ id: 1, name: 'b', note: 'n' }], deletes: [] },
    ]);
  });

  it('keys compare by value, composite keys in key order', () => {
    const s = withVersion({ ...v1, primaryKey: ['id', 'name'] });
    const out = reduceEvents([
      c({ id: 1, name: 'a', body: '1' }, s),
      c({ id: 1, name: 'b', body: '2' }, s),
      u({ id: 1, name: 'a', body: '3' }, null, s),
    ]);
    expect(out[0]!.upserts).toEqual([
      { id: 1, name: 'b', body: '2' },
      { id: 1, name: 'a', body: '3' },
    ]);
  });

  it('nothing in, nothing out', () => {
    expect(reduceEvents([])).toEqual([]);
  });
});
