import { describe, expect, it } from 'vitest';
import { chunkQuery } from '../../connectors/mysql-source/snapshot-sql.js';
import { type ColumnSchema, withVersion } from '../../src/api/index.js';

const c = (name: string, kind: ColumnSchema['kind'], extra: Partial<ColumnSchema> = {}): ColumnSchema => ({
  name,
  kind,
  sourceType: kind,
  nullable: false,
  ...extra,
});

describe('snapshot chunk query (keyset pagination)', () => {
  const single = withVersion({
    db: 'shop',
    table: 'or`ders',
    primaryKey: ['id'],
    columns: [c('id', 'uint64'), c('f', 'float32'), c('v', 'string')],
  });

  it('reads the first chunk in key order, FLOAT as exact DOUBLE', () => {
    expect(chunkQuery(single, null, 500)).toEqual({
      sql: 'SELECT `id`, CAST(`f` AS DOUBLE) AS `f`, `v` FROM `shop`.`or``ders` ORDER BY `id` LIMIT 500',
      params: [],
    });
  });

  it('continues after the last key; big integers stay exact literals', () => {
    expect(chunkQuery(single, ['18446744073709551614'], 10).sql).toContain(
      'WHERE `id` > 18446744073709551614 ORDER BY',
    );
    expect(() => chunkQuery(single, ['1 OR 1=1'], 10)).toThrow(/cannot use/);
  });

  it('spells out a composite key comparison so the key range is used', () => {
    const composite = withVersion({
      db: 'd',
      table: 't',
      primaryKey: ['a', 'b', 'e'],
      columns: [c('a', 'string'), c('b', 'timestamptz'), c('e', 'enum', { enumValues: ['x', 'y'] })],
    });
    expect(chunkQuery(composite, ['k', '2024-01-02T03:04:05.5Z', 'x'], 3)).toEqual({
      sql:
        'SELECT `a`, `b`, `e` FROM `d`.`t` WHERE `a` > ? OR (`a` = ? AND `b` > ?) OR ' +
        '(`a` = ? AND `b` = ? AND `e` IN (?)) ORDER BY `a`, `b`, `e` LIMIT 3',
      params: ['k', 'k', '2024-01-02 03:04:05.5', 'k', '2024-01-02 03:04:05.5', 'y'],
    });
    // After the last label nothing follows in that position: no scan of every row for it.
    expect(chunkQuery(composite, ['k', '2024-01-02T03:04:05.5Z', 'y'], 3).sql).toContain('AND FALSE)');
  });

  it('turns bytes, bits, decimals and floats back into comparable values', () => {
    const t = withVersion({
      db: 'd',
      table: 't',
      primaryKey: ['bin', 'bits', 'dec', 'fl'],
      columns: [c('bin', 'bytes'), c('bits', 'bit', { length: 3 }), c('dec', 'decimal'), c('fl', 'float32')],
    });
    const q = chunkQuery(t, ['AAE=', '101', '-1.50', 0.1], 1);
    expect(q.sql).toContain("`bits` > b'101'");
    expect(q.sql).toContain('`dec` > -1.50');
    expect(q.sql).toContain('`fl` > ?');
    expect(q.sql).not.toContain('CAST(`fl` AS DOUBLE) >');
    expect(q.params[0]).toEqual(Buffer.from([0, 1]));
    expect(q.params.at(-1)).toBe(Math.fround(0.1));
  });
});

describe('snapshot chunk query with a range end', () => {
  it('bounds the range on a single integer key', async () => {
    const { chunkQuery } = await import('../../connectors/mysql-source/snapshot-sql.js');
    const { withVersion } = await import('../../src/api/index.js');
    const t = withVersion({
      db: 'd',
      table: 't',
      primaryKey: ['id'],
      columns: [{ name: 'id', kind: 'int64' as const, sourceType: 'bigint', nullable: false }],
    });
    expect(chunkQuery(t, [10], 5, [20]).sql).toBe(
      'SELECT `id` FROM `d`.`t` WHERE (`id` > 10) AND `id` <= 20 ORDER BY `id` LIMIT 5',
    );
    expect(chunkQuery(t, null, 5, [20]).sql).toBe('SELECT `id` FROM `d`.`t` WHERE `id` <= 20 ORDER BY `id` LIMIT 5');
  });
});
