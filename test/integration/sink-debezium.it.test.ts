/**
 * Debezium input: the sink applies topics written by Debezium's JSON converter, with schemas
 * (logical types converted: Decimal, Date, MicroTimestamp, ZonedTimestamp, Bits, EnumSet, Json)
 * and without (types inferred from the rows), tombstones included.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventWriter } from '../helpers/events.js';
import { kafkaClient, uniqueName } from '../helpers/sandbox.js';
import { dlqCount, postgres, sandboxTarget, startSink, waitForCaughtUp } from '../helpers/sink-harness.js';

const fields = [
  { type: 'int32', optional: false, field: 'id' },
  { type: 'string', optional: true, field: 'name' },
  {
    type: 'bytes',
    optional: true,
    name: 'org.apache.kafka.connect.data.Decimal',
    version: 1,
    parameters: { scale: '2', 'connect.decimal.precision': '10' },
    field: 'balance',
  },
  { type: 'int32', optional: true, name: 'io.debezium.time.Date', version: 1, field: 'born' },
  { type: 'int64', optional: true, name: 'io.debezium.time.MicroTimestamp', version: 1, field: 'updated' },
  { type: 'string', optional: true, name: 'io.debezium.time.ZonedTimestamp', version: 1, field: 'seen' },
  {
    type: 'bytes',
    optional: true,
    name: 'io.debezium.data.Bits',
    version: 1,
    parameters: { length: '10' },
    field: 'flags',
  },
  {
    type: 'string',
    optional: true,
    name: 'io.debezium.data.EnumSet',
    version: 1,
    parameters: { allowed: 'a,b,c' },
    field: 'tags',
  },
  { type: 'string', optional: true, name: 'io.debezium.data.Json', version: 1, field: 'doc' },
  { type: 'boolean', optional: true, field: 'active' },
];

function envelopeSchema(name: string) {
  return {
    type: 'struct',
    name: `${name}.Envelope`,
    optional: false,
    fields: [
      { type: 'struct', fields, optional: true, name: `${name}.Value`, field: 'before' },
      { type: 'struct', fields, optional: true, name: `${name}.Value`, field: 'after' },
      { type: 'struct', fields: [], optional: false, name: 'io.debezium.connector.mysql.Source', field: 'source' },
      { type: 'string', optional: false, field: 'op' },
      { type: 'int64', optional: true, field: 'ts_ms' },
    ],
  };
}

const days = (iso: string) =>
  Date.UTC(Number(iso.slice(0, 4)), Number(iso.slice(5, 7)) - 1, Number(iso.slice(8, 10))) / 86_400_000;

describe('sink: Debezium input', () => {
  const kafka = kafkaClient('sink-debezium');
  let pgc: pg.Client;

  beforeAll(async () => {
    pgc = await postgres();
  });
  afterAll(async () => {
    await pgc?.end();
  });

  it('applies Debezium envelopes with and without schemas', async () => {
    const pipeline = uniqueName('dbz');
    const ns = `${pipeline}_tgt`;
    const target = sandboxTarget('postgres');
    const group = `${pipeline}-pg`;
    const writer = new EventWriter(kafka, 'unused', 2);
    const withSchema = `dbz_${pipeline}.inventory.customers`;
    const noSchema = `dbz_${pipeline}.public.accounts`;
    const mysqlSource = {
      version: '3.2.0.Final',
      connector: 'mysql',
      name: 'dbz',
      ts_ms: 1717225200000,
      db: 'inventory',
      table: 'customers',
      server_id: 1,
      file: 'mysql-bin.000003',
      pos: 154,
      row: 0,
    };
    const keySchema = {
      type: 'struct',
      name: 'dbz.inventory.customers.Key',
      optional: false,
      fields: [{ type: 'int32', optional: false, field: 'id' }],
    };
    const key = (id: number) => JSON.stringify({ schema: keySchema, payload: { id } });
    const value = (op: string, before: object | null, after: object | null) =>
      JSON.stringify({
        schema: envelopeSchema('dbz.inventory.customers'),
        payload: { before, after, source: mysqlSource, op, ts_ms: 1717225201000 },
      });
    const row1 = {
      id: 1,
      name: 'Ann',
      balance: Buffer.from([0x01, 0xe2, 0x40]).toString('base64'), // 1234.56
      born: days('1990-05-17'),
      updated: 1709251199123456, // 2024-02-29T23:59:59.123456
      seen: '2024-06-01T12:00:00.5+05:30',
      flags: Buffer.from([0x01, 0x02]).toString('base64'), // little-endian 0b10_0000_0001
      tags: 'a,c',
      doc: '{"k": [1, 2]}',
      active: true,
    };
    const row2 = { ...row1, id: 2, name: 'Bob', balance: Buffer.from([0xff]).toString('base64'), tags: '' };
    await writer.raw(withSchema, key(1), value('c', null, row1));
    await writer.raw(withSchema, key(2), value('r', null, row2));
    await writer.raw(withSchema, key(1), value('u', row1, { ...row1, name: 'Ann Updated', active: false }));
    await writer.raw(withSchema, key(2), value('d', row2, null));
    await writer.raw(withSchema, key(2), null);

    const pgSource = {
      version: '3.2.0.Final',
      connector: 'postgresql',
      name: 'dbz',
      ts_ms: 1717225200000,
      db: 'shop',
      schema: 'public',
      table: 'accounts',
      txId: 7,
      lsn: 1234,
    };
    const plain = (op: string, before: object | null, after: object | null) =>
      JSON.stringify({ before, after, source: pgSource, op, ts_ms: 1717225201000 });
    await writer.raw(
      noSchema,
      '{"id":10}',
      plain('c', null, { id: 10, name: 'x', score: 1.5, meta: { a: 1 }, ok: true }),
    );
    await writer.raw(
      noSchema,
      '{"id":11}',
      plain('c', null, { id: 11, name: 'y', score: 2.25, meta: null, ok: false }),
    );
    await writer.raw(
      noSchema,
      '{"id":10}',
      plain('u', null, { id: 10, name: 'x2', score: 3.5, meta: { b: [true] }, ok: true }),
    );
    await writer.raw(noSchema, '{"id":11}', plain('d', { id: 11 }, null));
    await writer.raw(noSchema, '{"id":12}', plain('c', null, { id: 12, name: 'z', score: 4, meta: null, ok: null }));

    const sink = startSink({ pipeline, group, target, topics: [withSchema, noSchema], targetNamespace: ns });
    try {
      await waitForCaughtUp(kafka, pipeline, group, target, [withSchema, noSchema], 60_000, [sink]);
      const customers = await pgc.query(
        `SELECT id, name, balance::text, born::text, updated::text, seen::text, flags::text, tags::text, doc::text, active FROM "${ns}".customers ORDER BY id`,
      );
      expect(customers.rows).toEqual([
        {
          id: 1,
          name: 'Ann Updated',
          balance: '1234.56',
          born: '1990-05-17',
          updated: '2024-02-29 23:59:59.123456',
          seen: '2024-06-01 06:30:00.5+00',
          flags: '1000000001',
          tags: '{a,c}',
          doc: '{"k": [1, 2]}',
          active: false,
        },
      ]);
      const types = await pgc.query(
        `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'customers'`,
        [ns],
      );
      expect(
        Object.fromEntries(
          types.rows.map((r: { column_name: string; data_type: string }) => [r.column_name, r.data_type]),
        ),
      ).toMatchObject({
        balance: 'numeric',
        born: 'date',
        updated: 'timestamp without time zone',
        seen: 'timestamp with time zone',
        flags: 'bit',
        tags: 'ARRAY',
        doc: 'json',
      });
      const accounts = await pgc.query(
        `SELECT id::text, name, score, meta::text, ok FROM "${ns}".accounts ORDER BY id`,
      );
      // Without schemas every number is an exact decimal (numeric), whatever value came first.
      expect(accounts.rows).toEqual([
        { id: '10', name: 'x2', score: '3.5', meta: '{"b":[true]}', ok: true },
        { id: '12', name: 'z', score: '4', meta: null, ok: null },
      ]);
      expect(await dlqCount(sink)).toBe(0);
    } finally {
      await sink.stop();
      await writer.close();
    }
  });
});
