import { describe, expect, it } from 'vitest';
import { BinlogDecoder, type BinlogEvent } from '../../connectors/mysql-source/decode.js';
import { GtidState } from '../../connectors/mysql-source/gtid.js';
import { buildTableSchema } from '../../connectors/mysql-source/schema.js';
import { TableRegistry } from '../../connectors/mysql-source/table-registry.js';
import { captureAll, type SourceItem, type TableFilter } from '../../src/api/index.js';
import { infoColumn } from '../helpers/info-column.js';

const info = infoColumn;

const T_COLS = [
  info('id', 'bigint', 'bigint(20) unsigned', { nullable: false }),
  info('ts', 'timestamp', 'timestamp(6)', { datetimePrecision: 6 }),
  info('b', 'bit', 'bit(10)', { numericPrecision: 10 }),
  info('y', 'year', 'year(4)'),
  info('st', 'set', "set('x','y','z')"),
];
const HINTS = [
  { name: 'id', type: 'bigint unsigned' },
  { name: 'ts', type: 'timestamp(6)' },
  { name: 'b', type: 'bit(10)' },
  { name: 'y', type: 'year' },
  { name: 'st', type: "set('x','y','z')" },
];

function setup(filter: TableFilter = { ...captureAll(), include: ['app.*'] }) {
  const registry = new TableRegistry(filter);
  const built = buildTableSchema('app', 't', T_COLS, ['id'], filter);
  if (!built.ok) throw new Error('schema');
  registry.replace([{ schema: built.schema, info: T_COLS }], []);
  let now = 1_000_000;
  const decoder = new BinlogDecoder({
    filter,
    start: { file: 'binlog.000001', pos: 1086, gtid: '0-1-3', serverId: 1 },
    serverId: 1,
    heartbeatMs: 10_000,
    registry,
    now: () => now,
  });
  const feed = (...events: BinlogEvent[]): SourceItem[] =>
    events.flatMap((e) => {
      const r = decoder.handle(e);
      return r.items;
    });
  return { decoder, registry, schema: built.schema, feed, tick: (ms: number) => (now += ms) };
}

const rawRow = (id: number | string, extra: Record<string, unknown> = {}) => ({
  id,
  ts: '2024-01-02 01:04:05.000001',
  b: Buffer.from([0x02, 0x01]),
  y: 1900,
  st: 'x,z',
  ...extra,
});

const rows = (
  op: 'write' | 'update' | 'delete',
  list: unknown[],
  table = 't',
  columns = HINTS,
): Extract<BinlogEvent, { type: 'rows' }> => ({
  type: 'rows',
  op,
  db: 'app',
  table,
  columns,
  primaryKey: ['id'],
  rows: list,
  timestamp: 1_795_212_258_000,
});

describe('BinlogDecoder', () => {
  it('turns a transaction into a schema announcement, canonical events and a checkpoint', () => {
    const { feed, schema } = setup();
    const items = feed(
      { type: 'rotate', file: 'binlog.000001', position: 1086 },
      { type: 'gtid', gtid: '0-1-4', timestamp: 1 },
      rows('write', [rawRow('18446744073709551615'), rawRow(1, { ts: null, b: null, y: null, st: null })]),
      { type: 'xid', timestamp: 1_795_212_258_000, nextPosition: 2050 },
    );
    expect(items.map((i) => i.type)).toEqual(['checkpoint', 'schema', 'event', 'event', 'checkpoint']);
    expect(items[0]).toEqual({
      type: 'checkpoint',
      position: { file: 'binlog.000001', pos: 1086, gtid: '0-1-3', serverId: 1 },
    });
    const first = (items[2] as Extract<SourceItem, { type: 'event' }>).event;
    expect(first).toMatchObject({
      op: 'c',
      db: 'app',
      table: 't',
      key: { id: '18446744073709551615' },
      before: null,
      after: { id: '18446744073709551615', ts: '2024-01-02T01:04:05.000001Z', b: '1000000001', y: 0, st: ['x', 'z'] },
      schemaVersion: schema.version,
      snapshot: false,
      source: { connector: 'mysql', server_id: 1, gtid: '0-1-4', file: 'binlog.000001', pos: 1086, row: 0 },
      transaction: { id: '0-1-4', totalOrder: 1, dataCollectionOrder: 1 },
      tsMs: 1_795_212_258_000,
    });
    expect((items[3] as Extract<SourceItem, { type: 'event' }>).event.transaction?.totalOrder).toBe(2);
    expect(items[4]).toEqual({
      type: 'checkpoint',
      position: { file: 'binlog.000001', pos: 2050, gtid: '0-1-4', serverId: 1 },
      commitTsMs: 1_795_212_258_000,
    });
  });

  it('publishes a primary-key change as a delete of the old key and a create of the new one', () => {
    const { feed } = setup();
    const items = feed(
      { type: 'rotate', file: 'binlog.000001', position: 1086 },
      { type: 'gtid', gtid: '0-1-5', timestamp: 1 },
      rows('update', [
        { before: rawRow(1), after: rawRow(2) },
        { before: rawRow(3), after: rawRow(3, { y: 2024 }) },
      ]),
      { type: 'xid', timestamp: 2, nextPosition: 3000 },
    );
    const evs = items.filter((i) => i.type === 'event').map((i) => (i as Extract<SourceItem, { type: 'event' }>).event);
    expect(evs.map((e) => [e.op, e.key])).toEqual([
      ['d', { id: 1 }],
      ['c', { id: 2 }],
      ['u', { id: 3 }],
    ]);
    expect(evs[0]!.before?.['id']).toBe(1);
    expect(evs[0]!.after).toBeNull();
    expect(evs[1]!.before).toBeNull();
    expect(evs[2]!.before?.['y']).toBe(0);
    expect(evs[2]!.after?.['y']).toBe(2024);
  });

  it('skips tables that are not captured and checkpoints idle transactions only at the heartbeat interval', () => {
    const { feed, tick } = setup();
    feed({ type: 'rotate', file: 'binlog.000001', position: 1086 });
    const idle = feed(
      { type: 'gtid', gtid: '0-1-6', timestamp: 1 },
      { ...rows('write', [rawRow(1)]), db: 'other' },
      {
        type: 'xid',
        timestamp: 1,
        nextPosition: 4000,
      },
    );
    expect(idle).toEqual([]);
    tick(10_000);
    const beat = feed({ type: 'gtid', gtid: '0-1-7', timestamp: 1 }, { type: 'xid', timestamp: 1, nextPosition: 4100 });
    expect(beat).toEqual([
      { type: 'checkpoint', position: { file: 'binlog.000001', pos: 4100, gtid: '0-1-7', serverId: 1 }, commitTsMs: 1 },
    ]);
  });

  it('asks for a schema re-read on DDL, then publishes the changed schema and checkpoints after it', () => {
    const { decoder, registry, schema } = setup();
    decoder.handle({ type: 'rotate', file: 'binlog.000001', position: 1086 });
    decoder.handle({ type: 'gtid', gtid: '0-1-8', timestamp: 1 });
    const ddl = {
      type: 'query',
      query: 'ALTER TABLE t ADD COLUMN n INT',
      db: 'app',
      timestamp: 5,
      nextPosition: 5000,
    } as const;
    expect(decoder.handle(ddl)).toEqual({ items: [], refreshSchemas: true });
    const cols = [...T_COLS, info('n', 'int', 'int(11)')];
    const built = buildTableSchema('app', 't', cols, ['id'], captureAll());
    if (!built.ok) throw new Error('schema');
    const changed = registry.replace([{ schema: built.schema, info: cols }], []);
    expect(changed).toHaveLength(1);
    expect(built.schema.version).not.toBe(schema.version);
    const items = decoder.afterDdl(ddl, changed);
    expect(items).toEqual([
      { type: 'schema', schema: built.schema },
      { type: 'checkpoint', position: { file: 'binlog.000001', pos: 5000, gtid: '0-1-8', serverId: 1 }, commitTsMs: 5 },
    ]);
  });

  it('emits TRUNCATE as a keyless t event', () => {
    const { feed } = setup();
    const items = feed(
      { type: 'rotate', file: 'binlog.000002', position: 4 },
      { type: 'gtid', gtid: '0-1-9', timestamp: 1 },
      { type: 'query', query: 'TRUNCATE t', db: 'app', timestamp: 7, nextPosition: 400 },
    );
    const ev = items.find((i) => i.type === 'event') as Extract<SourceItem, { type: 'event' }>;
    expect(ev.event).toMatchObject({ op: 't', key: null, before: null, after: null, table: 't' });
    expect(items.at(-1)).toMatchObject({ type: 'checkpoint', position: { file: 'binlog.000002', pos: 400 } });
  });

  it('decodes rows written under an older shape (replay before an ALTER) with a schema derived from the binlog', () => {
    const { feed, schema } = setup();
    const old = HINTS.filter((h) => h.name !== 'st');
    const items = feed(
      { type: 'rotate', file: 'binlog.000001', position: 1086 },
      { type: 'gtid', gtid: '0-1-10', timestamp: 1 },
      rows('write', [{ id: 5, ts: null, b: null, y: 2000 }], 't', old),
      { type: 'xid', timestamp: 1, nextPosition: 6000 },
    );
    const announced = items.find((i) => i.type === 'schema') as Extract<SourceItem, { type: 'schema' }>;
    expect(announced.schema.columns.map((c) => c.name)).toEqual(['id', 'ts', 'b', 'y']);
    expect(announced.schema.version).not.toBe(schema.version);
    const ev = items.find((i) => i.type === 'event') as Extract<SourceItem, { type: 'event' }>;
    expect(ev.event.after).toEqual({ id: 5, ts: null, b: null, y: 2000 });
    expect(ev.event.schemaVersion).toBe(announced.schema.version);
  });

  it('stops on rows of a captured table that has no usable key', () => {
    const { feed } = setup();
    feed({ type: 'rotate', file: 'binlog.000001', position: 1086 }, { type: 'gtid', gtid: '0-1-11', timestamp: 1 });
    expect(() => feed({ ...rows('write', [{ a: 1 }], 'nokey', [{ name: 'a', type: 'int' }]), primaryKey: [] })).toThrow(
      /no primary key/,
    );
  });
});

describe('GtidState', () => {
  it('keeps the last committed GTID per MariaDB domain', () => {
    const g = GtidState.parse('0-1-5,1-2-7');
    g.begin('0-1-6');
    expect(g.toString()).toBe('0-1-5,1-2-7');
    g.commit();
    g.begin('2-1-1');
    g.commit();
    expect(g.toString()).toBe('0-1-6,1-2-7,2-1-1');
  });

  it('keeps the last MySQL GTID', () => {
    const g = GtidState.parse(null);
    g.begin('3e11fa47-71ca-11e1-9e33-c80aa9429562:23');
    g.commit();
    expect(g.toString()).toBe('3e11fa47-71ca-11e1-9e33-c80aa9429562:23');
  });
});
