import { describe, expect, it } from 'vitest';
import { classifyMySqlError } from '../../connectors/mysql-sink/errors.js';
import { classifyPgError } from '../../connectors/postgres-sink/errors.js';
import { FerryError, type JsonObject } from '../../src/api/index.js';
import { DLQ_HEADERS, deadLetterMessage } from '../../src/runtime/sink/dead-letter.js';
import {
  DebeziumSchemas,
  debeziumKeyColumns,
  debeziumTable,
  decodeBits,
  decodeConnectDecimal,
} from '../../src/runtime/sink/debezium.js';
import { isDataError } from '../../src/runtime/sink/runtime.js';
import { parseSchemaRecord } from '../../src/runtime/sink/schemas.js';

describe('Debezium input', () => {
  it('decodes Kafka Connect decimals (two-complement, scaled)', () => {
    expect(decodeConnectDecimal(Buffer.from([0x01, 0xe2, 0x40]).toString('base64'), 2)).toBe('1234.56');
    expect(decodeConnectDecimal(Buffer.from([0xff]).toString('base64'), 2)).toBe('-0.01');
    expect(decodeConnectDecimal(Buffer.from([0x00, 0x80]).toString('base64'), 0)).toBe('128');
    expect(decodeConnectDecimal(Buffer.from([0x05]).toString('base64'), 3)).toBe('0.005');
  });

  it('decodes little-endian Bits to a bit string of the declared length', () => {
    expect(decodeBits(Buffer.from([0x01, 0x02]).toString('base64'), 10)).toBe('1000000001');
    expect(decodeBits(Buffer.from([0x05]).toString('base64'), 3)).toBe('101');
  });

  it('finds the table and key columns', () => {
    expect(debeziumTable({ connector: 'postgresql', db: 'shop', schema: 'public', table: 't' })).toEqual({
      db: 'public',
      table: 't',
      sourceKind: 'postgresql',
    });
    expect(debeziumTable({ connector: 'mysql', db: 'inv', table: 'c' })).toEqual({
      db: 'inv',
      table: 'c',
      sourceKind: 'mysql',
    });
    expect(() => debeziumTable({ connector: 'mysql' })).toThrow(FerryError);
    expect(debeziumKeyColumns('{"id":1,"k":"x"}')).toEqual(['id', 'k']);
    expect(
      debeziumKeyColumns(JSON.stringify({ schema: { type: 'struct', fields: [{ field: 'a' }] }, payload: { a: 1 } })),
    ).toEqual(['a']);
    expect(debeziumKeyColumns(null)).toEqual([]);
  });

  it('derives a schema from the envelope schema and converts logical types', () => {
    const fields = [
      { type: 'int32', optional: false, field: 'id' },
      { type: 'int32', optional: true, name: 'io.debezium.time.Date', field: 'd' },
      { type: 'int64', optional: true, name: 'io.debezium.time.MicroTimestamp', field: 'ts' },
      { type: 'int64', optional: true, name: 'io.debezium.time.MicroTime', field: 't' },
      { type: 'string', optional: true, name: 'io.debezium.data.EnumSet', parameters: { allowed: 'a,b' }, field: 's' },
    ];
    const schema = { type: 'struct', fields: [{ type: 'struct', fields, field: 'after' }] };
    const out = new DebeziumSchemas().decode(
      {
        before: null,
        after: { id: 1, d: 19000, ts: -1, t: 3_600_000_001, s: 'a,b' },
        debeziumSchema: schema as unknown as JsonObject,
      },
      { db: 'x', table: 'y', sourceKind: 'mysql' },
      '{"id":1}',
    );
    expect(out.schema.primaryKey).toEqual(['id']);
    expect(out.schema.columns.map((c) => [c.name, c.kind])).toEqual([
      ['id', 'int32'],
      ['d', 'date'],
      ['ts', 'timestamp'],
      ['t', 'time'],
      ['s', 'set'],
    ]);
    expect(out.after).toEqual({
      id: 1,
      d: '2022-01-08',
      ts: '1969-12-31T23:59:59.999999',
      t: '01:00:00.000001',
      s: ['a', 'b'],
    });
  });

  it('infers a schema from rows without schemas: numbers are decimals, a column joins with its first non-null value', () => {
    const dbz = new DebeziumSchemas();
    const t = { db: 'x', table: 'y', sourceKind: undefined };
    const a = dbz.decode({ before: null, after: { id: 1, n: null, f: 1.5, o: { k: 1 } } }, t, '{"id":1}');
    expect(a.schema.columns.map((c) => [c.name, c.kind])).toEqual([
      ['id', 'decimal'],
      ['f', 'decimal'],
      ['o', 'json'],
    ]);
    expect(a.after).toEqual({ id: '1', n: null, f: '1.5', o: '{"k":1}' });
    const b = dbz.decode({ before: null, after: { id: 2, n: 5, extra: true } }, t, '{"id":2}');
    expect(b.schema.columns.map((c) => [c.name, c.kind])).toEqual([
      ['id', 'decimal'],
      ['f', 'decimal'],
      ['o', 'json'],
      ['n', 'decimal'],
      ['extra', 'boolean'],
    ]);
    expect(b.after).toEqual({ id: '2', n: '5', extra: true });
    expect(() => dbz.decode({ before: null, after: { id: 3 } }, t, null)).toThrow(/no key/);
  });
});

describe('schemas topic records', () => {
  it('accepts TableSchema JSON (or wrapped in {schema}) and rejects the rest', () => {
    const s = { db: 'd', table: 't', version: 'v', columns: [{ name: 'id', kind: 'int32' }], primaryKey: ['id'] };
    expect(parseSchemaRecord(JSON.stringify(s))).toEqual(s);
    expect(parseSchemaRecord(JSON.stringify({ schema: s }))).toEqual(s);
    expect(parseSchemaRecord('{"db":"d"}')).toBeUndefined();
    expect(parseSchemaRecord('nope')).toBeUndefined();
  });
});

describe('error classification', () => {
  it('PostgreSQL: connection, transient, auth, data, schema', () => {
    expect(
      classifyPgError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'x'),
    ).toMatchObject({ code: 'FERRY_CONNECTION', retriable: true });
    expect(classifyPgError(Object.assign(new Error('terminating connection'), { code: '57P01' }), 'x')).toMatchObject({
      code: 'FERRY_CONNECTION',
      retriable: true,
    });
    expect(classifyPgError(new Error('Connection terminated unexpectedly'), 'x')).toMatchObject({
      code: 'FERRY_CONNECTION',
    });
    expect(classifyPgError(Object.assign(new Error('deadlock'), { code: '40P01' }), 'x')).toMatchObject({
      code: 'FERRY_APPLY',
      retriable: true,
    });
    expect(classifyPgError(Object.assign(new Error('password'), { code: '28P01' }), 'x')).toMatchObject({
      code: 'FERRY_AUTH',
      retriable: false,
    });
    expect(classifyPgError(Object.assign(new Error('permission denied'), { code: '42501' }), 'x')).toMatchObject({
      code: 'FERRY_AUTH',
    });
    const data = classifyPgError(Object.assign(new Error('value too long'), { code: '22001' }), 'x');
    expect(data).toMatchObject({ code: 'FERRY_APPLY', retriable: false });
    expect(isDataError(data)).toBe(true);
    expect(classifyPgError(Object.assign(new Error('null value'), { code: '23502' }), 'x').retriable).toBe(false);
    expect(classifyPgError(Object.assign(new Error('no such column'), { code: '42703' }), 'x')).toMatchObject({
      code: 'FERRY_SCHEMA',
    });
    expect(isDataError(classifyPgError(Object.assign(new Error('x'), { code: '42703' }), 'x'))).toBe(false);
  });

  it('MySQL: connection, transient, auth, data, schema', () => {
    expect(
      classifyMySqlError(Object.assign(new Error('lost'), { code: 'PROTOCOL_CONNECTION_LOST', fatal: true }), 'x'),
    ).toMatchObject({ code: 'FERRY_CONNECTION', retriable: true });
    expect(classifyMySqlError(Object.assign(new Error('deadlock'), { errno: 1213 }), 'x')).toMatchObject({
      code: 'FERRY_APPLY',
      retriable: true,
    });
    expect(
      classifyMySqlError(Object.assign(new Error('denied'), { errno: 1045, sqlState: '28000' }), 'x'),
    ).toMatchObject({ code: 'FERRY_AUTH' });
    expect(classifyMySqlError(Object.assign(new Error('denied'), { errno: 1142 }), 'x')).toMatchObject({
      code: 'FERRY_AUTH',
    });
    expect(
      isDataError(classifyMySqlError(Object.assign(new Error('too long'), { errno: 1406, sqlState: '22001' }), 'x')),
    ).toBe(true);
    expect(isDataError(classifyMySqlError(Object.assign(new Error('bad date'), { errno: 1292 }), 'x'))).toBe(true);
    expect(
      classifyMySqlError(Object.assign(new Error('unknown column'), { errno: 1054, sqlState: '42S22' }), 'x'),
    ).toMatchObject({ code: 'FERRY_SCHEMA' });
  });
});

describe('dead letters', () => {
  it('copy key and value and say why and where', () => {
    const msg = deadLetterMessage(
      'shop',
      {
        record: {
          topic: 'shop.db.t',
          partition: 3,
          offset: '42',
          key: Buffer.from('{"id":1}'),
          value: Buffer.from([0xff, 0xfe]),
        },
        error: new FerryError('FERRY_DECODE', 'the record value is not valid UTF-8'),
        table: 'db.t',
      },
      new Date('2026-01-01T00:00:00Z'),
    );
    expect(msg.topic).toBe('shop.dlq');
    expect(msg.value).toEqual(Buffer.from([0xff, 0xfe]));
    expect(msg.headers).toEqual({
      [DLQ_HEADERS.reason]: 'the record value is not valid UTF-8',
      [DLQ_HEADERS.errorCode]: 'FERRY_DECODE',
      [DLQ_HEADERS.topic]: 'shop.db.t',
      [DLQ_HEADERS.partition]: '3',
      [DLQ_HEADERS.offset]: '42',
      [DLQ_HEADERS.table]: 'db.t',
      [DLQ_HEADERS.failedAt]: '2026-01-01T00:00:00.000Z',
    });
  });
});
