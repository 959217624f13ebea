import { describe, expect, it } from 'vitest';
import {
  columnSchema,
  missingTypeOids,
  type PgTypeInfo,
  type RawColumn,
} from '../../connectors/postgres-source/types.js';

const t = (oid: number, name: string, extra: Partial<PgTypeInfo> = {}): PgTypeInfo => ({
  oid,
  schema: 'pg_catalog',
  name,
  typtype: 'b',
  category: 'X',
  elemOid: 0,
  baseOid: 0,
  baseTypmod: -1,
  enumLabels: null,
  ...extra,
});

const TYPES = new Map<number, PgTypeInfo>(
  [
    t(16, 'bool'),
    t(20, 'int8'),
    t(21, 'int2'),
    t(23, 'int4'),
    t(25, 'text'),
    t(1043, 'varchar'),
    t(1042, 'bpchar'),
    t(1700, 'numeric'),
    t(700, 'float4'),
    t(701, 'float8'),
    t(17, 'bytea'),
    t(2950, 'uuid'),
    t(114, 'json'),
    t(3802, 'jsonb'),
    t(1082, 'date'),
    t(1083, 'time'),
    t(1266, 'timetz'),
    t(1114, 'timestamp'),
    t(1184, 'timestamptz'),
    t(1186, 'interval'),
    t(1560, 'bit'),
    t(1562, 'varbit'),
    t(869, 'inet'),
    t(1007, '_int4', { category: 'A', elemOid: 23 }),
    t(1015, '_varchar', { category: 'A', elemOid: 1043 }),
    t(50000, 'mood', { schema: 'app', typtype: 'e', enumLabels: ['sad', 'happy'] }),
    t(50001, '_mood', { schema: 'app', category: 'A', elemOid: 50000 }),
    t(50002, 'price', { schema: 'app', typtype: 'd', baseOid: 1700, baseTypmod: ((12 << 16) | 3) + 4 }),
    t(50003, 'price2', { schema: 'app', typtype: 'd', baseOid: 50002, baseTypmod: -1 }),
    t(50004, 'pair', { schema: 'app', typtype: 'c' }),
  ].map((x) => [x.oid, x]),
);

const col = (typeOid: number, typmod = -1, extra: Partial<RawColumn> = {}) =>
  columnSchema({ name: 'c', typeOid, typmod, notNull: false, sourceType: 'st', ...extra }, TYPES);

describe('PostgreSQL types -> column kinds', () => {
  it('maps the built-in types', () => {
    const kinds = [
      16, 21, 23, 20, 1700, 700, 701, 25, 1043, 1042, 17, 2950, 114, 3802, 1082, 1083, 1266, 1114, 1184, 1186, 1560,
      1562,
    ].map((oid) => col(oid).kind);
    expect(kinds).toEqual([
      'boolean',
      'int16',
      'int32',
      'int64',
      'decimal',
      'float32',
      'float64',
      'string',
      'string',
      'string',
      'bytes',
      'uuid',
      'json',
      'json',
      'date',
      'time',
      'timetz',
      'timestamp',
      'timestamptz',
      'interval',
      'bit',
      'bit',
    ]);
  });

  it('reads length, precision/scale (negative scales too) and fractional digits from the type modifier', () => {
    expect(col(1043, 24)).toMatchObject({ kind: 'string', length: 20 });
    expect(col(1700, ((10 << 16) | 2) + 4)).toMatchObject({ precision: 10, scale: 2 });
    expect(col(1700, ((5 << 16) | (0x7ff & -2)) + 4)).toMatchObject({ precision: 5, scale: -2 });
    expect(col(1700)).not.toHaveProperty('precision');
    expect(col(1184, 3)).toMatchObject({ fsp: 3 });
    expect(col(1114)).toMatchObject({ fsp: 6 });
    expect(col(1560, 4)).toMatchObject({ kind: 'bit', length: 4 });
  });

  it('arrays, enums (with labels), domains (through to the base type), and text for the rest', () => {
    expect(col(1007)).toMatchObject({ kind: 'array', elementKind: 'int32' });
    expect(col(1015, 14)).toMatchObject({ kind: 'array', elementKind: 'string', length: 10 });
    expect(col(50000)).toMatchObject({ kind: 'enum', enumValues: ['sad', 'happy'] });
    expect(col(50001)).toMatchObject({ kind: 'array', elementKind: 'enum', enumValues: ['sad', 'happy'] });
    expect(col(50003)).toMatchObject({ kind: 'decimal', precision: 12, scale: 3 });
    expect(col(869).kind).toBe('string');
    expect(col(50004).kind).toBe('string');
    expect(col(99999).kind).toBe('string');
    expect(col(23, -1, { notNull: true, sourceType: 'integer' })).toEqual({
      name: 'c',
      kind: 'int32',
      sourceType: 'integer',
      nullable: false,
    });
  });

  it('lists the element and base types still to load', () => {
    const partial = new Map([
      [50001, TYPES.get(50001)!],
      [50003, TYPES.get(50003)!],
    ]);
    expect(missingTypeOids(partial, [50001, 50003, 23]).sort()).toEqual([23, 50000, 50002]);
  });
});
