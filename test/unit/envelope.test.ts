import { describe, expect, it } from 'vitest';
import type { ChangeEvent } from '../../src/api/index.js';
import { FerryError } from '../../src/api/index.js';
import { encodeEnvelope, keyJson, parseEnvelope, toEnvelope } from '../../src/event/envelope.js';

const event: ChangeEvent = {
  op: 'u',
  db: 'shop',
  table: 'orders',
  key: { id: 42 },
  before: { id: 42, total: '9.99' },
  after: { id: 42, total: '10.50' },
  tsMs: 1_700_000_000_000,
  schemaVersion: 'abc123',
  snapshot: false,
  source: { connector: 'mysql', server_id: 1, file: 'binlog.000003', pos: 1234, gtid: '0-1-77', row: 0 },
  transaction: { id: '0-1-77', totalOrder: 2, dataCollectionOrder: 1 },
};

describe('envelope', () => {
  it('writes the Debezium envelope shape with ferry source fields', () => {
    const env = toEnvelope(event, 'shop-move', 1_700_000_000_500);
    expect(env).toEqual({
      before: { id: 42, total: '9.99' },
      after: { id: 42, total: '10.50' },
      op: 'u',
      ts_ms: 1_700_000_000_500,
      source: {
        version: expect.any(String),
        connector: 'mysql',
        name: 'shop-move',
        ts_ms: 1_700_000_000_000,
        snapshot: false,
        db: 'shop',
        table: 'orders',
        server_id: 1,
        file: 'binlog.000003',
        pos: 1234,
        gtid: '0-1-77',
        row: 0,
        schema_version: 'abc123',
      },
      transaction: { id: '0-1-77', total_order: 2, data_collection_order: 1 },
    });
  });

  it('keys records by the primary-key JSON, and truncates carry no key', () => {
    expect(keyJson(event)).toBe('{"id":42}');
    expect(keyJson({ ...event, op: 't', key: null, before: null, after: null })).toBeNull();
  });

  it('encodeEnvelope writes the same bytes as JSON.stringify(toEnvelope(...))', () => {
    const variants: ChangeEvent[] = [
      event,
      { ...event, transaction: undefined },
      { ...event, op: 'c', before: null, snapshot: 'last' },
      { ...event, op: 'd', after: null },
      { ...event, op: 'r', snapshot: true, source: { file: 'b.1', pos: 4 } },
      { ...event, op: 't', key: null, before: null, after: null },
      { ...event, source: { connector: 'postgresql', schema: 's"q', txId: 7, lsn: '0/16B3748', extra: [1, 'x'] } },
      // Fields ferry writes itself inside the connector's block: the general path keeps their order.
      { ...event, source: { table: 'other', connector: 'mysql', db: 'x' } },
      {
        ...event,
        db: 'sh\u00f6p "quoted"',
        table: 'emoji 🚀',
        after: { id: 42, n: null, s: 'a\nb', j: '{"k":[1,2]}' },
      },
    ];
    for (const e of variants) {
      expect(encodeEnvelope(e, 'shop-move', 1_700_000_000_500)).toBe(
        JSON.stringify(toEnvelope(e, 'shop-move', 1_700_000_000_500)),
      );
    }
  });

  it('round-trips through JSON', () => {
    const text = JSON.stringify(toEnvelope(event, 'p'));
    const back = parseEnvelope(text);
    expect(back.op).toBe('u');
    expect(back.after).toEqual(event.after);
    expect(back.source['schema_version']).toBe('abc123');
  });

  it('unwraps Debezium records written with schemas.enable=true', () => {
    const text = JSON.stringify({
      schema: { type: 'struct', name: 'x.Envelope', fields: [] },
      payload: { before: null, after: { id: 1 }, source: { db: 'd', table: 't' }, op: 'c', ts_ms: 5 },
    });
    const env = parseEnvelope(text);
    expect(env.op).toBe('c');
    expect(env.after).toEqual({ id: 1 });
    expect(env.debeziumSchema?.['name']).toBe('x.Envelope');
  });

  it.each([
    ['not json', /not JSON/],
    ['[1,2]', /not a JSON object/],
    ['{"op":"x","source":{}}', /"op" must be one of r, c, u, d, t; got "x"/],
    ['{"op":"c","after":null,"source":{}}', /"c" event must carry "after"/],
    ['{"op":"d","before":null,"source":{}}', /"d" event must carry "before"/],
    ['{"op":"c","after":{"id":1}}', /"source" is missing/],
  ])('rejects %s with a FERRY_DECODE error naming the problem', (text, message) => {
    let caught: unknown;
    try {
      parseEnvelope(text);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(FerryError);
    expect((caught as FerryError).code).toBe('FERRY_DECODE');
    expect((caught as FerryError).message).toMatch(message);
  });
});
