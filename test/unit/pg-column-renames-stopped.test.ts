import { describe, expect, it } from 'vitest';
import { renamedWhileStopped } from '../../connectors/postgres-source/index.js';
import { RelationHistory, type StartRename } from '../../connectors/postgres-source/renames.js';
import {
  columnsRenamedWhileStopped,
  type StartColumnRenames,
} from '../../connectors/postgres-source/stopped-renames.js';
import { type ColumnSchema, type TableSchema, withVersion } from '../../src/api/index.js';
import { missedBackfills } from '../../src/runtime/source/backfill-history.js';

const col = (name: string, extra: Partial<ColumnSchema> = {}): ColumnSchema => ({
  name,
  kind: 'int32',
  sourceType: 'int',
  nullable: true,
  ...extra,
});

/** A PostgreSQL table version: columns by [name, attnum], oid 7 unless given. */
const pg = (name: string, cols: Array<[string, number]>, extra: Partial<TableSchema> = {}): TableSchema =>
  withVersion({
    db: 'd',
    table: name,
    columns: cols.map(([n]) => col(n)),
    primaryKey: ['id'],
    incarnation: '7',
    columnIds: Object.fromEntries(cols),
    ...extra,
  });

const marks = (s: TableSchema): Record<string, string> =>
  Object.fromEntries(s.columns.filter((c) => c.renamedFrom !== undefined).map((c) => [c.name, c.renamedFrom!]));

describe('PostgreSQL: columns renamed while the source is stopped, found by attribute number at start', () => {
  const before = pg('t', [
    ['id', 1],
    ['a', 2],
    ['b', 3],
    ['c', 4],
  ]);

  it('marks several renames, a chain, a swap and a rename beside an added column', () => {
    const cases: Array<[Array<[string, number]>, Record<string, string>]> = [
      // several columns renamed
      [
        [
          ['id', 1],
          ['x', 2],
          ['y', 3],
          ['c', 4],
        ],
        { x: 'a', y: 'b' },
      ],
      // a chain: a -> b while b -> c while c -> e
      [
        [
          ['id', 1],
          ['b', 2],
          ['c', 3],
          ['e', 4],
        ],
        { b: 'a', c: 'b', e: 'c' },
      ],
      // a swap: a -> tmp, b -> a, tmp -> b
      [
        [
          ['id', 1],
          ['b', 2],
          ['a', 3],
          ['c', 4],
        ],
        { b: 'a', a: 'b' },
      ],
      // a rename and an added column (a new attribute number), also under the old name
      [
        [
          ['id', 1],
          ['z', 2],
          ['b', 3],
          ['c', 4],
          ['a', 5],
        ],
        { z: 'a' },
      ],
      // dropped and added again under the same name: not a rename
      [
        [
          ['id', 1],
          ['b', 3],
          ['c', 4],
          ['a', 5],
        ],
        {},
      ],
    ];
    for (const [now, want] of cases) {
      const found = new Map<number, StartColumnRenames>();
      const current = pg('t', now);
      const out = columnsRenamedWhileStopped(current, 7, [before], found);
      expect(marks(out)).toEqual(want);
      if (Object.keys(want).length === 0) {
        expect(out).toBe(current);
        expect(found.size).toBe(0);
      } else {
        expect(out.version).not.toBe(current.version);
        expect(found.get(7)?.columns).toEqual(now.map(([n]) => n));
      }
    }
  });

  it('compares with the last version published for the oid, whatever its name; not with another table', () => {
    const history = [
      before,
      pg('t', [
        ['id', 1],
        ['a', 2],
        ['q', 3],
        ['c', 4],
      ]),
    ];
    const now = pg('u', [
      ['id', 1],
      ['a2', 2],
      ['q', 3],
      ['c', 4],
    ]);
    const tables = new Map<number, StartRename>();
    const moved = renamedWhileStopped(now, 7, history, tables);
    const out = columnsRenamedWhileStopped(moved, 7, history, new Map());
    expect(out.renamedFrom).toEqual({ db: 'd', table: 't' });
    expect(marks(out)).toEqual({ a2: 'a' });
    // Another oid (a table created under the name) and no history: nothing marked.
    expect(
      marks(
        columnsRenamedWhileStopped(
          pg(
            't',
            [
              ['id', 1],
              ['x', 2],
            ],
            { incarnation: '8' },
          ),
          8,
          history,
          new Map(),
        ),
      ),
    ).toEqual({});
    expect(marks(columnsRenamedWhileStopped(now, 7, undefined, new Map()))).toEqual({});
  });

  it('the stream carries the start renames on the Relation with the start columns, and keeps them while they hold', () => {
    const found = new Map<number, StartColumnRenames>();
    const swapped: Array<[string, number]> = [
      ['id', 1],
      ['b', 2],
      ['a', 3],
    ];
    const published = columnsRenamedWhileStopped(
      pg('t', swapped),
      7,
      [
        pg('t', [
          ['id', 1],
          ['a', 2],
          ['b', 3],
        ]),
      ],
      found,
    );
    const h = new RelationHistory();
    h.seedColumnRenames(found);
    const ids = (cols: Array<[string, number]>) => new Map(cols);
    // A replayed Relation of the old shape (the catalog gives today's numbers by name) is not marked.
    const old = pg('t', [
      ['id', 1],
      ['a', 3],
      ['b', 2],
    ]);
    expect(
      marks(
        h.mark(
          7,
          old,
          ids([
            ['id', 1],
            ['a', 3],
            ['b', 2],
          ]),
        ),
      ),
    ).toEqual({});
    const first = h.mark(7, pg('t', swapped), ids(swapped));
    expect(marks(first)).toEqual({ b: 'a', a: 'b' });
    expect(first.version).toBe(published.version);
    // A later shape (an added column) still carries them; dropping b and adding b again ends b's.
    const added: Array<[string, number]> = [...swapped, ['n', 4]];
    expect(marks(h.mark(7, pg('t', added), ids(added)))).toEqual({ b: 'a', a: 'b' });
    const readded: Array<[string, number]> = [
      ['id', 1],
      ['a', 3],
      ['n', 4],
      ['b', 5],
    ];
    expect(marks(h.mark(7, pg('t', readded), ids(readded)))).toEqual({ a: 'b' });
  });

  it('a live swap between two Relations is seen by attribute number', () => {
    const h = new RelationHistory();
    const ab: Array<[string, number]> = [
      ['id', 1],
      ['a', 2],
      ['b', 3],
    ];
    h.mark(7, pg('t', ab), new Map(ab));
    const ba: Array<[string, number]> = [
      ['id', 1],
      ['b', 2],
      ['a', 3],
    ];
    expect(marks(h.mark(7, pg('t', ba), new Map(ba)))).toEqual({ b: 'a', a: 'b' });
  });

  it('a marked rename needs no backfill; an unmarked one (no history at start) still reads the table', () => {
    const now = pg('t', [
      ['id', 1],
      ['b', 2],
      ['a', 3],
      ['x', 4],
    ]);
    const marked = columnsRenamedWhileStopped(now, 7, [before], new Map());
    expect(missedBackfills([before], [marked], new Set())).toEqual([]);
    expect(missedBackfills([before], [now], new Set()).map((b) => b.columns)).toEqual([['x']]);
  });
});
