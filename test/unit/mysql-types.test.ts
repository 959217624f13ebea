import { describe, expect, it } from 'vitest';
import { buildTableSchema } from '../../connectors/mysql-source/schema.js';
import { hintToInfo } from '../../connectors/mysql-source/table-registry.js';
import { type InfoColumn, mapMysqlColumn, parseEnumValues } from '../../connectors/mysql-source/types.js';
import { captureAll } from '../../src/api/index.js';
import { infoColumn } from '../helpers/info-column.js';

function col(dataType: string, columnType: string, extra: Partial<InfoColumn> = {}): InfoColumn {
  return infoColumn('c', dataType, columnType, extra);
}

const kind = (c: InfoColumn) => {
  const m = mapMysqlColumn(c);
  if (!m.ok) throw new Error(m.reason);
  return m.column;
};

describe('MySQL type mapping', () => {
  it('maps integers by size and signedness', () => {
    expect(kind(col('tinyint', 'tinyint(4)')).kind).toBe('int8');
    expect(kind(col('tinyint', 'tinyint(3) unsigned'))).toMatchObject({ kind: 'int16', unsigned: true });
    expect(kind(col('smallint', 'smallint(5) unsigned')).kind).toBe('int32');
    expect(kind(col('mediumint', 'mediumint(8) unsigned')).kind).toBe('int32');
    expect(kind(col('int', 'int(10) unsigned')).kind).toBe('int64');
    expect(kind(col('bigint', 'bigint(20)')).kind).toBe('int64');
    expect(kind(col('bigint', 'bigint(20) unsigned')).kind).toBe('uint64');
  });

  it('maps every other supported type', () => {
    expect(kind(col('decimal', 'decimal(65,30)', { numericPrecision: 65, numericScale: 30 }))).toMatchObject({
      kind: 'decimal',
      precision: 65,
      scale: 30,
    });
    expect(kind(col('float', 'float')).kind).toBe('float32');
    expect(kind(col('double', 'double')).kind).toBe('float64');
    expect(kind(col('bit', 'bit(10)', { numericPrecision: 10 }))).toMatchObject({ kind: 'bit', length: 10 });
    expect(kind(col('year', 'year(4)')).kind).toBe('year');
    expect(kind(col('date', 'date')).kind).toBe('date');
    expect(kind(col('time', 'time(6)', { datetimePrecision: 6 }))).toMatchObject({ kind: 'time', fsp: 6 });
    expect(kind(col('datetime', 'datetime(6)', { datetimePrecision: 6 })).kind).toBe('timestamp');
    expect(kind(col('timestamp', 'timestamp(6)', { datetimePrecision: 6 })).kind).toBe('timestamptz');
    expect(kind(col('varchar', 'varchar(20)', { charMaxLength: 20 }))).toMatchObject({ kind: 'string', length: 20 });
    expect(kind(col('longtext', 'longtext')).kind).toBe('string');
    expect(kind(col('longtext', 'longtext', { json: true })).kind).toBe('json');
    expect(kind(col('json', 'json')).kind).toBe('json');
    expect(kind(col('varbinary', 'varbinary(10)', { charMaxLength: 10 })).kind).toBe('bytes');
    expect(kind(col('blob', 'blob')).kind).toBe('bytes');
    expect(kind(col('uuid', 'uuid')).kind).toBe('uuid');
    expect(kind(col('enum', "enum('a','b,c')"))).toMatchObject({ kind: 'enum', enumValues: ['a', 'b,c'] });
    expect(kind(col('set', "set('x','y')"))).toMatchObject({ kind: 'set', enumValues: ['x', 'y'] });
    expect(kind(col('int', 'int(11)', { generated: true }))).toMatchObject({ generated: true });
  });

  it('refuses unsupported types with a reason', () => {
    expect(mapMysqlColumn(col('geometry', 'geometry'))).toEqual({
      ok: false,
      reason: 'type geometry is not supported',
    });
  });

  it('parses quoted enum values with doubled quotes', () => {
    expect(parseEnumValues("enum('it''s','a,b','')")).toEqual(["it's", 'a,b', '']);
  });

  it('turns binlog column hints into information_schema-like columns', () => {
    expect(hintToInfo({ name: 'd', type: 'decimal(8,2)' })).toMatchObject({
      dataType: 'decimal',
      numericPrecision: 8,
      numericScale: 2,
    });
    expect(hintToInfo({ name: 'v', type: 'varchar(5)' })).toMatchObject({ dataType: 'varchar', charMaxLength: 5 });
    expect(hintToInfo({ name: 't', type: 'datetime(6)' })).toMatchObject({
      dataType: 'datetime',
      datetimePrecision: 6,
    });
  });
});

describe('buildTableSchema', () => {
  const cols = [
    col('int', 'int(11)', { name: 'id', nullable: false }),
    col('varchar', 'varchar(5)', { name: 'secret' }),
  ];

  it('uses the primary key, drops excluded columns and versions the shape', () => {
    const filter = { ...captureAll(), excludeColumns: ['app.t.secret'] };
    const built = buildTableSchema('app', 't', cols, ['id'], filter);
    expect(built.ok && built.schema.columns.map((c) => c.name)).toEqual(['id']);
    expect(built.ok && built.schema.version).toMatch(/^[0-9a-f]{16}$/);
  });

  it('needs a primary key or configured key columns', () => {
    const none = buildTableSchema('app', 't', cols, [], captureAll());
    expect(none.ok).toBe(false);
    expect(!none.ok && none.problem.fix).toContain('source.keyColumns["app.t"]');
    const keyed = { ...captureAll(), keyColumns: { 'app.t': ['id'] } };
    const configured = buildTableSchema('app', 't', cols, [], keyed, [['id']]);
    expect(configured.ok && configured.schema.primaryKey).toEqual(['id']);
  });

  it('configured key columns must be NOT NULL and unique, or the table is refused naming the column', () => {
    const nullable = buildTableSchema('app', 't', cols, [], { ...captureAll(), keyColumns: { 'app.t': ['secret'] } }, [
      ['secret'],
    ]);
    expect(!nullable.ok && nullable.problem.reason).toContain('nullable column(s) secret');
    const notUnique = buildTableSchema('app', 't', cols, [], { ...captureAll(), keyColumns: { 'app.t': ['id'] } });
    expect(!notUnique.ok && notUnique.problem.reason).toContain('not covered by a unique index');
    expect(!notUnique.ok && notUnique.problem.fix).toContain('ADD UNIQUE (`id`)');
  });

  it('without a primary key, a unique index on NOT NULL columns is the key', () => {
    const built = buildTableSchema('app', 't', cols, [], captureAll(), [['secret'], ['id']]);
    expect(built.ok && built.schema.primaryKey).toEqual(['id']);
  });

  it('never excludes a key column', () => {
    const built = buildTableSchema('app', 't', cols, ['id'], { ...captureAll(), excludeColumns: ['app.t.*'] });
    expect(built.ok && built.schema.columns.map((c) => c.name)).toEqual(['id']);
  });
});
