import { describe, expect, it } from 'vitest';
import {
  compareMysqlTypes,
  mysqlColumnType,
  normalizeMysqlType,
  parseLabels,
} from '../../connectors/mysql-sink/types.js';
import { toMySqlParam } from '../../connectors/mysql-sink/values.js';
import { compareTypes, parsePgType, pgColumnType } from '../../connectors/postgres-sink/types.js';
import { toPgParam } from '../../connectors/postgres-sink/values.js';
import type { ColumnKind, ColumnSchema } from '../../src/api/index.js';

const c = (kind: ColumnKind, sourceType: string, extra: Partial<ColumnSchema> = {}): ColumnSchema => ({
  name: 'c',
  kind,
  sourceType,
  nullable: true,
  ...extra,
});

describe('PostgreSQL target types', () => {
  it('maps MySQL source columns by kind', () => {
    const m = (col: ColumnSchema) => pgColumnType(col, 'mysql');
    expect(m(c('int8', 'tinyint'))).toBe('smallint');
    expect(m(c('int16', 'smallint unsigned', { unsigned: true }))).toBe('integer');
    expect(m(c('int32', 'int unsigned', { unsigned: true }))).toBe('bigint');
    expect(m(c('int64', 'bigint'))).toBe('bigint');
    expect(m(c('uint64', 'bigint unsigned', { unsigned: true }))).toBe('numeric(20,0)');
    expect(m(c('decimal', 'decimal(65,30)', { precision: 65, scale: 30 }))).toBe('numeric(65,30)');
    expect(m(c('float32', 'float'))).toBe('real');
    expect(m(c('float64', 'double'))).toBe('double precision');
    expect(m(c('boolean', 'tinyint(1)'))).toBe('boolean');
    expect(m(c('string', 'varchar(100)', { length: 100 }))).toBe('character varying(100)');
    expect(m(c('string', 'char(3)', { length: 3 }))).toBe('character varying(3)');
    expect(m(c('string', 'mediumtext', { length: 16777215 }))).toBe('text');
    expect(m(c('bytes', 'varbinary(16)', { length: 16 }))).toBe('bytea');
    expect(m(c('json', 'json'))).toBe('json');
    expect(m(c('enum', "enum('a','b')", { enumValues: ['a', 'b'] }))).toBe('text');
    expect(m(c('set', "set('a','b')"))).toBe('text[]');
    expect(m(c('bit', 'bit(10)', { length: 10 }))).toBe('bit(10)');
    expect(m(c('year', 'year'))).toBe('smallint');
    expect(m(c('date', 'date'))).toBe('date');
    expect(m(c('time', 'time(6)', { fsp: 6 }))).toBe('time(6) without time zone');
    expect(m(c('timestamp', 'datetime(3)', { fsp: 3 }))).toBe('timestamp(3) without time zone');
    expect(m(c('timestamptz', 'timestamp(6)', { fsp: 6 }))).toBe('timestamp(6) with time zone');
    expect(m(c('timestamp', 'datetime', { fsp: 0 }))).toBe('timestamp(0) without time zone');
  });

  it('keeps PostgreSQL built-in source types, rebuilt from the parsed type', () => {
    const p = (sourceType: string, kind: ColumnKind = 'string', extra: Partial<ColumnSchema> = {}) =>
      pgColumnType(c(kind, sourceType, extra), 'postgresql');
    expect(p('numeric(12,3)', 'decimal')).toBe('numeric(12,3)');
    expect(p('character varying(50)')).toBe('character varying(50)');
    expect(p('timestamp(3) with time zone', 'timestamptz')).toBe('timestamp(3) with time zone');
    expect(p('jsonb', 'json')).toBe('jsonb');
    expect(p('inet')).toBe('inet');
    expect(p('integer[]', 'array', { elementKind: 'int32' })).toBe('integer[]');
    expect(p('bit varying(16)', 'bit', { length: 16 })).toBe('bit varying(16)');
    // Not built in (enum, domain, anything odd): by kind, never pasted.
    expect(p('public.mood', 'enum')).toBe('text');
    expect(p('mood[]', 'array', { elementKind: 'enum' })).toBe('text[]');
    expect(p('text; DROP TABLE x', 'string')).toBe('text');
    expect(p('interval day to second(3)', 'interval')).toBe('interval');
  });

  it('parses format_type spellings', () => {
    expect(parsePgType('timestamp(3) without time zone')).toEqual({
      base: 'timestamp without time zone',
      args: [3],
      dims: 0,
    });
    expect(parsePgType('character varying(5)[]')).toEqual({ base: 'character varying', args: [5], dims: 1 });
    expect(parsePgType('numeric(10,-2)')).toEqual({ base: 'numeric', args: [10, -2], dims: 0 });
    expect(parsePgType('"char"')).toBeUndefined();
    expect(parsePgType('integer(5)')).toBeUndefined();
  });

  it('compares an existing column with a wanted type', () => {
    expect(compareTypes('bigint', 'bigint')).toBe('same');
    expect(compareTypes('bigint', 'integer')).toBe('keep');
    expect(compareTypes('integer', 'bigint')).toBe('widen');
    expect(compareTypes('bigint', 'numeric(20,0)')).toBe('widen');
    expect(compareTypes('character varying(10)', 'character varying(20)')).toBe('widen');
    expect(compareTypes('text', 'character varying(20)')).toBe('keep');
    expect(compareTypes('numeric(10,2)', 'numeric(12,4)')).toBe('widen');
    expect(compareTypes('numeric(10,2)', 'numeric(12,1)')).toBe('conflict');
    expect(compareTypes('numeric', 'numeric(12,1)')).toBe('keep');
    expect(compareTypes('timestamp(3) without time zone', 'timestamp(6) without time zone')).toBe('widen');
    expect(compareTypes('real', 'double precision')).toBe('widen');
    expect(compareTypes('integer', 'text')).toBe('conflict');
    expect(compareTypes('timestamp without time zone', 'timestamp with time zone')).toBe('conflict');
    expect(compareTypes('jsonb', 'json')).toBe('keep');
  });
});

describe('MySQL target types', () => {
  const opts = { binCollation: 'utf8mb4_nopad_bin', mariadb: true };
  const m = (col: ColumnSchema, source: 'mysql' | 'postgresql' = 'postgresql', key = false) =>
    mysqlColumnType(col, source, key, opts);

  it('maps PostgreSQL source columns', () => {
    expect(m(c('boolean', 'boolean')).type).toBe('tinyint(1)');
    expect(m(c('int32', 'integer')).type).toBe('int');
    expect(m(c('decimal', 'numeric')).type).toBe('decimal(65,30)');
    expect(m(c('decimal', 'numeric(100,40)', { precision: 100, scale: 40 })).type).toBe('decimal(65,30)');
    expect(m(c('decimal', 'numeric(12,3)', { precision: 12, scale: 3 })).type).toBe('decimal(12,3)');
    expect(m(c('string', 'text'))).toEqual({
      type: 'longtext',
      ddl: 'longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin',
    });
    expect(m(c('string', 'text'), 'postgresql', true).type).toBe('varchar(255)');
    expect(m(c('string', 'character varying(2000)', { length: 2000 }), 'postgresql', true).type).toBe('varchar(768)');
    expect(m(c('string', 'character varying(50)', { length: 50 })).type).toBe('varchar(50)');
    expect(m(c('string', 'character varying(1000)', { length: 1000 })).type).toBe('text');
    expect(m(c('string', 'character varying(100000)', { length: 100000 })).type).toBe('mediumtext');
    expect(m(c('bytes', 'bytea')).type).toBe('longblob');
    expect(m(c('bytes', 'bytea'), 'postgresql', true).type).toBe('varbinary(255)');
    expect(m(c('uuid', 'uuid'))).toEqual({ type: 'char(36)', ddl: 'char(36) CHARACTER SET ascii COLLATE ascii_bin' });
    expect(m(c('json', 'jsonb')).type).toBe('longtext');
    expect(mysqlColumnType(c('json', 'jsonb'), 'postgresql', false, { ...opts, mariadb: false }).type).toBe('json');
    expect(m(c('array', 'integer[]', { elementKind: 'int32' })).ddl).toBe('json');
    expect(m(c('timestamptz', 'timestamp with time zone', { fsp: 6 })).type).toBe('datetime(6)');
    expect(m(c('time', 'time(0) without time zone', { fsp: 0 })).type).toBe('time');
    expect(m(c('interval', 'interval')).type).toBe('varchar(64)');
    expect(m(c('timetz', 'time with time zone')).type).toBe('varchar(32)');
    expect(m(c('bit', 'bit(8)', { length: 8 })).type).toBe('bit(8)');
    expect(m(c('bit', 'bit varying(16)', { length: 16 })).type).toBe('varchar(16)');
    expect(m(c('enum', 'mood', { enumValues: ['sad', 'ok'] })).type).toBe('varchar(255)');
  });

  it('keeps MySQL source types for MySQL -> MySQL', () => {
    expect(m(c('int32', 'mediumint unsigned', { unsigned: true }), 'mysql').type).toBe('mediumint unsigned');
    expect(m(c('uint64', 'bigint unsigned', { unsigned: true }), 'mysql').type).toBe('bigint unsigned');
    expect(m(c('string', 'char(10)', { length: 10 }), 'mysql').type).toBe('char(10)');
    expect(m(c('string', 'mediumtext'), 'mysql').type).toBe('mediumtext');
    expect(m(c('enum', "enum('a','it''s')", { enumValues: ['a', "it's"] }), 'mysql').type).toBe("enum('a','it''s')");
    expect(m(c('set', "set('x','y')", { enumValues: ['x', 'y'] }), 'mysql').type).toBe("set('x','y')");
    expect(m(c('bytes', 'varbinary(16)'), 'mysql').type).toBe('varbinary(16)');
    expect(m(c('year', 'year'), 'mysql').type).toBe('year');
  });

  it('normalises COLUMN_TYPE and parses labels', () => {
    expect(normalizeMysqlType('bigint(20) unsigned')).toBe('bigint unsigned');
    expect(normalizeMysqlType('int(11)')).toBe('int');
    expect(normalizeMysqlType('tinyint(1)')).toBe('tinyint(1)');
    expect(normalizeMysqlType('year(4)')).toBe('year');
    expect(parseLabels("'a','b''c','d\\\\e','x,y'")).toEqual(['a', "b'c", 'd\\e', 'x,y']);
  });

  it('compares existing and wanted types', () => {
    expect(compareMysqlTypes('int(11)', 'int').result).toBe('same');
    expect(compareMysqlTypes('bigint(20)', 'int').result).toBe('keep');
    expect(compareMysqlTypes('int(11)', 'bigint').result).toBe('widen');
    expect(compareMysqlTypes('int(10) unsigned', 'int').result).toBe('conflict');
    expect(compareMysqlTypes('bigint(20)', 'int unsigned').result).toBe('keep');
    expect(compareMysqlTypes('varchar(10)', 'varchar(20)').result).toBe('widen');
    expect(compareMysqlTypes('varchar(10)', 'longtext').result).toBe('widen');
    expect(compareMysqlTypes('decimal(10,2)', 'decimal(12,2)').result).toBe('widen');
    expect(compareMysqlTypes('datetime(3)', 'datetime(6)').result).toBe('widen');
    expect(compareMysqlTypes('longtext', 'int').result).toBe('conflict');
    expect(compareMysqlTypes("enum('a','b')", "enum('a','c')")).toEqual({
      result: 'widen',
      widenTo: "enum('a','b','c')",
    });
    expect(compareMysqlTypes("enum('a','b','c')", "enum('a','c')").result).toBe('keep');
  });
});

describe('canonical values -> PostgreSQL text', () => {
  const t = (type: string, notNull = false) => ({
    name: 'c',
    type,
    notNull,
    ...(parsePgType(type) ? { parsed: parsePgType(type)! } : {}),
  });
  it('converts each kind', () => {
    expect(toPgParam(c('bytes', 'bytea'), 'AAH/', t('bytea'))).toBe('\\x0001ff');
    expect(toPgParam(c('boolean', 'bool'), false, t('boolean'))).toBe('false');
    expect(toPgParam(c('uint64', 'bigint unsigned'), '18446744073709551615', t('numeric(20,0)'))).toBe(
      '18446744073709551615',
    );
    expect(toPgParam(c('timestamp', 'datetime'), '2024-01-02T03:04:05.5', t('timestamp(6) without time zone'))).toBe(
      '2024-01-02 03:04:05.5',
    );
    expect(toPgParam(c('timestamptz', 'timestamp'), '2024-01-02T03:04:05Z', t('timestamp with time zone'))).toBe(
      '2024-01-02 03:04:05+00',
    );
    expect(toPgParam(c('date', 'date'), '-0043-03-15', t('date'))).toBe('0044-03-15 BC');
    expect(toPgParam(c('set', 'set'), ['a', 'b"c'], t('text[]'))).toBe('{"a","b\\"c"}');
    expect(
      toPgParam(
        c('array', 'integer[][]', { elementKind: 'int32' }),
        [
          [1, null],
          [3, 4],
        ],
        t('integer[]'),
      ),
    ).toBe('{{"1",NULL},{"3","4"}}');
    expect(toPgParam(c('array', 'bytea[]', { elementKind: 'bytes' }), ['AQ=='], t('bytea[]'))).toBe('{"\\\\x01"}');
    expect(toPgParam(c('json', 'json'), '{"a": 1}', t('json'))).toBe('{"a": 1}');
    expect(toPgParam(c('interval', 'interval'), 'P1Y2M', t('interval'))).toBe('P1Y2M');
    expect(toPgParam(c('float64', 'double'), 'NaN', t('double precision'))).toBe('NaN');
    expect(toPgParam(c('string', 'text'), null, t('text'))).toBeNull();
  });

  it('zero dates become NULL, or a data error for NOT NULL columns', () => {
    expect(toPgParam(c('date', 'date'), '0000-00-00', t('date'))).toBeNull();
    expect(toPgParam(c('timestamp', 'datetime'), '2024-00-00T00:00:00', t('timestamp without time zone'))).toBeNull();
    expect(() => toPgParam(c('date', 'date'), '0000-00-00', t('date', true))).toThrow(/zero date/);
  });

  it('refuses U+0000 in text and decimals that would be rounded', () => {
    expect(() => toPgParam(c('string', 'text'), 'a\u0000b', t('text'))).toThrow(/U\+0000/);
    expect(toPgParam(c('decimal', 'decimal(10,2)'), '1.500', t('numeric(10,2)'))).toBe('1.500');
    expect(() => toPgParam(c('decimal', 'decimal(10,3)'), '1.234', t('numeric(10,2)'))).toThrow(/rounded/);
    expect(toPgParam(c('decimal', 'decimal(10,3)'), '-1.230', t('numeric(10,2)'))).toBe('-1.230');
    expect(toPgParam(c('decimal', 'decimal(10,0)'), '12', t('numeric(10,0)'))).toBe('12');
    expect(() => toPgParam(c('decimal', 'decimal(10,1)'), '12.05', t('numeric(10,1)'))).toThrow(/rounded/);
    expect(toPgParam(c('decimal', 'decimal'), 'NaN', t('numeric(10,0)'))).toBe('NaN');
  });

  it('writes plain canonical dates and timestamps as PostgreSQL reads them, the others through the general rules', () => {
    expect(toPgParam(c('date', 'date'), '2024-02-29', t('date'))).toBe('2024-02-29');
    expect(toPgParam(c('timestamp', 'datetime(6)'), '2024-02-29T10:11:12.5', t('timestamp'))).toBe(
      '2024-02-29 10:11:12.5',
    );
    expect(toPgParam(c('timestamptz', 'timestamp'), '2024-02-29T10:11:12Z', t('timestamptz'))).toBe(
      '2024-02-29 10:11:12+00',
    );
    expect(toPgParam(c('date', 'date'), '0000-01-01', t('date'))).toBe('0001-01-01 BC');
    expect(toPgParam(c('timestamp', 'timestamp'), '-0043-03-15T00:00:00', t('timestamp'))).toBe(
      '0044-03-15 00:00:00 BC',
    );
  });
});

describe('canonical values -> MySQL parameters', () => {
  const t = (type: string) => ({ name: 'c', type, notNull: false });
  it('converts each kind', () => {
    expect(toMySqlParam(c('bytes', 'bytea'), 'AAH/', t('longblob'))).toEqual(Buffer.from([0, 1, 255]));
    expect(toMySqlParam(c('boolean', 'boolean'), true, t('tinyint(1)'))).toBe(1);
    expect(toMySqlParam(c('bit', 'bit(10)', { length: 10 }), '1000000001', t('bit(10)'))).toEqual(Buffer.from([2, 1]));
    expect(toMySqlParam(c('bit', 'varbit'), '101', t('varchar(16)'))).toBe('101');
    expect(toMySqlParam(c('timestamptz', 'timestamptz'), '2024-06-01T06:30:00.123456Z', t('datetime(6)'))).toBe(
      '2024-06-01 06:30:00.123456',
    );
    expect(toMySqlParam(c('date', 'date'), '0000-00-00', t('date'))).toBe('0000-00-00');
    expect(toMySqlParam(c('set', 'set'), ['x', 'z'], t("set('x','y','z')"))).toBe('x,z');
    expect(toMySqlParam(c('array', 'text[]', { elementKind: 'string' }), ['a', null], t('longtext'))).toBe(
      '["a",null]',
    );
    expect(toMySqlParam(c('int64', 'bigint'), '-9223372036854775808', t('bigint'))).toBe('-9223372036854775808');
    // MySQL reads YEAR '0' as 2000; '0000' is year zero.
    expect(toMySqlParam(c('year', 'year'), 0, t('year'))).toBe('0000');
    expect(toMySqlParam(c('year', 'year'), 2024, t('year'))).toBe('2024');
  });

  it('refuses what MySQL would change or cannot hold', () => {
    expect(() =>
      toMySqlParam(c('decimal', 'numeric'), '1.0000000000000000000000000000001', t('decimal(65,30)')),
    ).toThrow(/exactly/);
    expect(() => toMySqlParam(c('decimal', 'numeric'), '1'.repeat(36), t('decimal(65,30)'))).toThrow(/exactly/);
    expect(toMySqlParam(c('decimal', 'numeric'), '1.500000000000000000000000000000000', t('decimal(65,30)'))).toBe(
      '1.500000000000000000000000000000000',
    );
    expect(() => toMySqlParam(c('decimal', 'numeric'), 'NaN', t('decimal(65,30)'))).toThrow(/cannot store/);
    expect(() => toMySqlParam(c('float64', 'double precision'), 'Infinity', t('double'))).toThrow(/cannot store/);
    expect(() => toMySqlParam(c('timestamp', 'timestamp'), 'infinity', t('datetime(6)'))).toThrow(/infinite/);
    expect(() => toMySqlParam(c('date', 'date'), '-0043-03-15', t('date'))).toThrow(/0000\.\.9999/);
  });
});
