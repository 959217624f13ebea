import { describe, expect, it } from 'vitest';
import * as my from '../../connectors/mysql-sink/sql.js';
import * as pg from '../../connectors/postgres-sink/sql.js';

const EVIL = "x'); DROP TABLE t; --";

describe('PostgreSQL SQL builders', () => {
  it('upserts with one text[] parameter per column, unnest and ON CONFLICT', () => {
    const s = pg.upsertStatement(
      'shop',
      'order items',
      [
        { name: 'id', castType: 'bigint' },
        { name: 'Name', castType: 'character varying' },
        { name: 'a"b', castType: 'jsonb' },
      ],
      ['id'],
      [
        ['1', '2'],
        [EVIL, null],
        ['{}', '[]'],
      ],
    );
    expect(s.text).toBe(
      'INSERT INTO "shop"."order items" ("id", "Name", "a""b") SELECT u.c1::bigint, u.c2::character varying, u.c3::jsonb ' +
        'FROM unnest($1::text[], $2::text[], $3::text[]) AS u(c1, c2, c3) ON CONFLICT ("id") ' +
        'DO UPDATE SET "Name" = EXCLUDED."Name", "a""b" = EXCLUDED."a""b"',
    );
    expect(s.values).toEqual([
      ['1', '2'],
      [EVIL, null],
      ['{}', '[]'],
    ]);
    expect(s.text).not.toContain('DROP');
  });

  it('does nothing on conflict when every column is a key column', () => {
    const s = pg.upsertStatement(
      's',
      't',
      [
        { name: 'a', castType: 'integer' },
        { name: 'b', castType: 'text' },
      ],
      ['a', 'b'],
      [['1'], ['x']],
    );
    expect(s.text).toMatch(/ON CONFLICT \("a", "b"\) DO NOTHING$/);
  });

  it('deletes by key through unnest, composite keys joined with AND', () => {
    const s = pg.deleteStatement(
      's',
      'select',
      [
        { name: 'k1', castType: 'integer' },
        { name: 'k 2', castType: 'text' },
      ],
      [['1'], [EVIL]],
    );
    expect(s.text).toBe(
      'DELETE FROM "s"."select" AS t USING unnest($1::text[], $2::text[]) AS u(c1, c2) WHERE t."k1" = u.c1::integer AND t."k 2" = u.c2::text',
    );
    expect(s.values).toEqual([['1'], [EVIL]]);
  });

  it('DDL uses mapped types and quoted names only', () => {
    expect(
      pg.createTableStatement(
        's',
        'T',
        [
          { name: 'id', type: 'bigint', notNull: true },
          { name: 'v', type: 'text', notNull: false },
        ],
        ['id'],
      ).text,
    ).toBe('CREATE TABLE IF NOT EXISTS "s"."T" ("id" bigint NOT NULL, "v" text, PRIMARY KEY ("id"))');
    expect(pg.addColumnStatement('s', 'T', { name: 'new col', type: 'integer', notNull: false }).text).toBe(
      'ALTER TABLE "s"."T" ADD COLUMN IF NOT EXISTS "new col" integer',
    );
    expect(pg.truncateStatement('s', 'T').text).toBe('TRUNCATE TABLE "s"."T"');
  });

  it('offsets: upsert and fence take everything as parameters', () => {
    const w = pg.writeOffsetsStatement('public', 'p', 'g', [
      { topic: 'p.db.t', partition: 2, nextOffset: '10', truncateBarrier: null, leaderEpoch: 3 },
    ]);
    expect(w.values).toEqual(['p', 'g', ['p.db.t'], [2], ['10'], [null], ['3']]);
    expect(w.text).toContain('leader_epoch = EXCLUDED.leader_epoch');
    expect(pg.migrateOffsetsTableStatement('m').text).toBe(
      'ALTER TABLE "m"."ferry_offsets" ADD COLUMN IF NOT EXISTS leader_epoch bigint',
    );
    expect(w.text).toContain(
      'ON CONFLICT (pipeline, consumer_group, topic, "partition") DO UPDATE SET next_offset = EXCLUDED.next_offset',
    );
    const l = pg.lockOffsetsStatement('public', 'p', 'g', [{ topic: 'p.db.t', partition: 2 }]);
    expect(l.text).toMatch(/FOR UPDATE$/);
    expect(l.values).toEqual(['p', 'g', ['p.db.t'], [2]]);
    const b = pg.writeBarriersStatement('public', 'p', 'g', [{ topic: 'p.db.t', partition: 1, truncateBarrier: 'X' }]);
    expect(b.text).toContain('DO UPDATE SET truncate_barrier = EXCLUDED.truncate_barrier');
    expect(b.text).not.toContain('next_offset = EXCLUDED');
  });
});

describe('MySQL SQL builders', () => {
  it('multi-row upsert with placeholders and ON DUPLICATE KEY UPDATE c = VALUES(c)', () => {
    const s = my.upsertStatement(
      'shop',
      'order items',
      ['id', 'na`me', 'what?'],
      ['id'],
      [
        ['1', EVIL, 'a'],
        ['2', null, 'b'],
      ],
    );
    expect(s.sql).toBe(
      'INSERT INTO `shop`.`order items` (`id`, `na``me`, `what?`) VALUES (?, ?, ?), (?, ?, ?) ' +
        'ON DUPLICATE KEY UPDATE `na``me` = VALUES(`na``me`), `what?` = VALUES(`what?`)',
    );
    expect(s.params).toEqual(['1', EVIL, 'a', '2', null, 'b']);
    expect(s.sql).not.toContain('DROP');
  });

  it('key-only tables keep the row as it is on a duplicate', () => {
    expect(my.upsertStatement('d', 't', ['a'], ['a'], [['1']]).sql).toMatch(
      /ON DUPLICATE KEY UPDATE `a` = VALUES\(`a`\)$/,
    );
  });

  it('batched deletes: IN list for one key column, row constructors for composite keys', () => {
    expect(my.deleteStatement('d', 't', ['id'], [['1'], ['2']])).toEqual({
      sql: 'DELETE FROM `d`.`t` WHERE `id` IN (?, ?)',
      params: ['1', '2'],
    });
    expect(
      my.deleteStatement(
        'd',
        't',
        ['a', 'b'],
        [
          ['1', 'x'],
          ['2', 'y'],
        ],
      ),
    ).toEqual({
      sql: 'DELETE FROM `d`.`t` WHERE (`a`, `b`) IN ((?, ?), (?, ?))',
      params: ['1', 'x', '2', 'y'],
    });
  });

  it('truncate is a DELETE so that it stays inside the batch transaction', () => {
    expect(my.truncateStatement('d', 'select').sql).toBe('DELETE FROM `d`.`select`');
  });

  it('offsets table quotes the reserved word partition; writes are parameters', () => {
    expect(my.createOffsetsTableStatement('meta').sql).toContain('`partition` INT NOT NULL');
    const w = my.writeOffsetsStatement('meta', 'p', 'g', [
      { topic: 't', partition: 0, nextOffset: '5', truncateBarrier: null, leaderEpoch: null },
      { topic: 't', partition: 1, nextOffset: '7', truncateBarrier: 'X', leaderEpoch: 2 },
    ]);
    expect(w.params).toEqual(['p', 'g', 't', 0, '5', null, null, 'p', 'g', 't', 1, '7', 'X', '2']);
    expect(w.sql.match(/\?/g)).toHaveLength(14);
    expect(w.sql).toContain('`leader_epoch` = VALUES(`leader_epoch`)');
    expect(my.migrateOffsetsTableStatement('meta').sql).toBe(
      'ALTER TABLE `meta`.`ferry_offsets` ADD COLUMN `leader_epoch` BIGINT NULL',
    );
    const l = my.lockOffsetsStatement('meta', 'p', 'g', [{ topic: 't', partition: 3 }]);
    expect(l.sql).toMatch(/IN \(\(\?, \?\)\) FOR UPDATE$/);
    expect(l.params).toEqual(['p', 'g', 't', 3]);
  });
});
