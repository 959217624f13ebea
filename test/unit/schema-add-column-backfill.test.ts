/**
 * Which added columns make the source read a table again (docs/schema-changes.md): those whose
 * value in the rows that existed before the ALTER the new schema cannot state.
 */
import { describe, expect, it } from 'vitest';
import { backfillColumns, previousSchema } from '../../connectors/mysql-source/backfill.js';
import { noRenames } from '../../connectors/mysql-source/ddl-renames.js';
import type { InfoColumn } from '../../connectors/mysql-source/types.js';
import { addedWithoutValue } from '../../connectors/postgres-source/decode.js';
import { type ColumnSchema, type TableSchema, withVersion } from '../../src/api/index.js';
import { sourceReadiness } from '../../src/pipeline/pipeline.js';

const col = (name: string, extra: Partial<ColumnSchema> = {}): ColumnSchema => ({
  name,
  kind: 'int32',
  sourceType: 'int',
  nullable: true,
  ...extra,
});
const table = (columns: ColumnSchema[], name = 't'): TableSchema =>
  withVersion({ db: 'd', table: name, columns, primaryKey: ['id'] });
const info = (name: string, extra: Partial<InfoColumn> = {}): InfoColumn => ({
  name,
  dataType: 'int',
  columnType: 'int(11)',
  nullable: true,
  charMaxLength: null,
  numericPrecision: 10,
  numericScale: 0,
  datetimePrecision: null,
  generated: false,
  json: false,
  default: 'NULL',
  ...extra,
});

describe('MySQL: added columns that need a backfill', () => {
  const before = table([col('id', { nullable: false })]);
  it('expression defaults, NOT NULL without DEFAULT and generated columns; not NULL or constant defaults', () => {
    const after = table([
      col('id', { nullable: false }),
      col('plain'),
      col('constant', { default: 7 }),
      col('expr'),
      col('implicit', { nullable: false }),
      col('gen'),
      col('noDefault'),
    ]);
    const infos = [
      info('id', { nullable: false, default: null }),
      info('plain'),
      info('constant', { default: '7' }),
      info('expr', { default: 'current_timestamp()' }),
      info('implicit', { nullable: false, default: null }),
      info('gen', { generated: true, default: null }),
      info('noDefault', { default: null }),
    ];
    expect(backfillColumns(before, { schema: after, info: infos }, noRenames())).toEqual(['expr', 'implicit', 'gen']);
  });
  it('a renamed column and a new table need none', () => {
    const after = table([col('id', { nullable: false }), col('b', { nullable: false })]);
    const infos = [info('id', { nullable: false }), info('b', { nullable: false, default: null })];
    const renames = { tables: [], columns: [{ table: { db: 'd', table: 't' }, from: 'a', to: 'b' }] };
    expect(backfillColumns(before, { schema: after, info: infos }, renames)).toEqual([]);
    expect(backfillColumns(undefined, { schema: after, info: infos }, noRenames())).toEqual([]);
  });
  it('finds the schema before RENAME TABLE under the old name', () => {
    const after = table([col('id', { nullable: false })], 't2');
    const known = new Map([['d.t', before]]);
    const renames = { tables: [{ from: { db: 'd', table: 't' }, to: { db: 'd', table: 't2' } }], columns: [] };
    expect(previousSchema(known, after, renames)).toBe(before);
    expect(previousSchema(known, after, noRenames())).toBeUndefined();
  });
});

describe('PostgreSQL: added columns that need a backfill', () => {
  it('a column with a catalog default the schema does not state; not renamed or stated ones', () => {
    const prev = table([col('id'), col('a')]);
    const now = table([col('id'), col('b', { renamedFrom: 'a' }), col('r'), col('k', { default: 1 }), col('n')]);
    expect(addedWithoutValue(prev, now, new Set(['r', 'k', 'b']))).toEqual(['r']);
  });
});

describe('source readiness', () => {
  const base = {
    phase: 'stream' as const,
    connected: true,
    snapshot: [],
    storedPosition: null,
    storedPhase: null,
    storedAt: null,
    eventsPublished: 0,
    queueDepth: 0,
  };
  it('is not ready while the source waits for Kafka', () => {
    expect(sourceReadiness(base)).toEqual({ ready: true });
    const waiting = sourceReadiness({ ...base, kafkaWaitingSince: 1_000 }, 61_000);
    expect(waiting.ready).toBe(false);
    expect(waiting.reason).toBe('source waiting for Kafka for 60 s (retrying)');
    expect(sourceReadiness({ ...base, connected: false }).ready).toBe(false);
  });
});
