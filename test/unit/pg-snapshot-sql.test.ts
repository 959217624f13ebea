import { describe, expect, it } from 'vitest';
import { alterPublicationSql, createPublicationSql } from '../../connectors/postgres-source/slot.js';
import { chunkQuery, keyParam, toRow } from '../../connectors/postgres-source/snapshot.js';
import { type TableSchema, withVersion } from '../../src/api/index.js';

const T: TableSchema = withVersion({
  db: 'Sales',
  table: 'order "items"',
  primaryKey: ['tenant', 'id'],
  columns: [
    { name: 'tenant', kind: 'bytes', sourceType: 'bytea', nullable: false },
    { name: 'id', kind: 'timestamptz', sourceType: 'timestamp with time zone', nullable: false },
    { name: 'qty', kind: 'int32', sourceType: 'integer', nullable: true },
  ],
});

describe('snapshot SQL', () => {
  it('reads chunks in key order with keyset pagination, identifiers quoted', () => {
    expect(chunkQuery(T, null, 100)).toEqual({
      text: 'SELECT "tenant", "id", "qty" FROM "Sales"."order ""items""" ORDER BY "tenant", "id" LIMIT $1',
      values: ['100'],
    });
    const q = chunkQuery(T, ['AP8=', '-0043-03-15T01:02:03.5Z'], 10);
    expect(q.text).toContain(`WHERE ("tenant", "id") > (decode($1, 'base64'), $2) ORDER BY "tenant", "id" LIMIT $3`);
    expect(q.values).toEqual(['AP8=', '0044-03-15 01:02:03.5+00 BC', '10']);
  });

  it('turns canonical key values back into PostgreSQL input', () => {
    const c = (kind: TableSchema['columns'][number]['kind']) => ({ name: 'k', kind, sourceType: '', nullable: false });
    expect(keyParam(c('int64'), 42)).toBe('42');
    expect(keyParam(c('int64'), '9223372036854775807')).toBe('9223372036854775807');
    expect(keyParam(c('date'), 'infinity')).toBe('infinity');
    expect(keyParam(c('boolean'), true)).toBe('true');
    expect(keyParam(c('array'), ['a"b', null])).toBe('{"a\\"b",NULL}');
    expect(() => keyParam(c('int32'), null)).toThrow(/NULL/);
  });

  it('encodes result text into canonical values', () => {
    expect(toRow(T.columns, ['\\x00ff', '2024-01-02 03:04:05.000001+00', null])).toEqual({
      tenant: 'AP8=',
      id: '2024-01-02T03:04:05.000001Z',
      qty: null,
    });
  });

  it('publication statements quote every name', () => {
    const tables = [{ schema: 'a"b', name: 'T' }];
    expect(createPublicationSql('ferry_x', tables)).toBe(
      `CREATE PUBLICATION "ferry_x" FOR TABLE "a""b"."T" WITH (publish = 'insert, update, delete, truncate')`,
    );
    expect(alterPublicationSql('ferry_x', tables)[0]).toBe('ALTER PUBLICATION "ferry_x" SET TABLE "a""b"."T"');
  });
});
