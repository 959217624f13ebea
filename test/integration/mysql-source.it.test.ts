import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableSchema } from '../../src/api/index.js';
import { events, listTopics, readSchemas, sandboxKafka, storedOffset, waitForRecords } from '../helpers/kafka.js';
import { uniqueName } from '../helpers/sandbox.js';
import { filterFor, freshDatabase, type RunningSource, startSource, until } from './mysql-source.helpers.js';

const CREATE_ALL_TYPES = `CREATE TABLE all_types (
  id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, mi MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED,
  bi BIGINT, bi2 BIGINT,
  d DECIMAL(65,30), d2 DECIMAL(10,3), f FLOAT, db DOUBLE,
  dt DATE, dtm DATETIME(6), ts TIMESTAMP(6) NULL, tm TIME(6), y YEAR,
  c CHAR(5), vc VARCHAR(20), tx TEXT,
  bn BINARY(4), vb VARBINARY(10), bl BLOB, b BIT(10),
  e ENUM('a','b,c'), st SET('x','y','z'), j JSON, u UUID,
  g INT AS (ti * 2) VIRTUAL, secret VARCHAR(10)
)`;

const COLS = 'id,ti,tiu,si,mi,i,iu,bi,bi2,d,d2,f,db,dt,dtm,ts,tm,y,c,vc,tx,bn,vb,bl,b,e,st,j,u,secret';

const ROW_MAX = `(18446744073709551615, -128, 255, -32768, 16777215, -2147483648, 4294967295,
  -9223372036854775808, 9007199254740991,
  '-12345678901234567890123456789012345.123456789012345678901234567890', 1.5, 0.1, 1e-7,
  '0000-00-00', '2024-01-02 03:04:05.000001', '2024-01-02 03:04:05.000001', '-838:59:59.000000', 0,
  'ab', '😀 ✓', '', X'000102', X'ff', X'', b'1000000001',
  'b,c', 'x,z', '{"b":1, "a":1.10}', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'hidden')`;

/** The canonical image of ROW_MAX (TIMESTAMP written with time_zone '+02:00'). */
const MAX_IMAGE = {
  id: '18446744073709551615',
  ti: -128,
  tiu: 255,
  si: -32768,
  mi: 16777215,
  i: -2147483648,
  iu: 4294967295,
  bi: '-9223372036854775808',
  bi2: 9007199254740991,
  d: '-12345678901234567890123456789012345.123456789012345678901234567890',
  d2: '1.500',
  f: 0.1,
  db: 1e-7,
  dt: '0000-00-00',
  dtm: '2024-01-02T03:04:05.000001',
  ts: '2024-01-02T01:04:05.000001Z',
  tm: '-838:59:59',
  y: 0,
  c: 'ab',
  vc: '😀 ✓',
  tx: '',
  bn: 'AAECAA==',
  vb: '/w==',
  bl: '',
  b: '1000000001',
  e: 'b,c',
  st: ['x', 'z'],
  j: '{"b":1, "a":1.10}',
  u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  g: -256,
};

const NULL_IMAGE = Object.fromEntries(Object.keys(MAX_IMAGE).map((k) => [k, k === 'id' ? 1 : null]));

describe('MySQL source: snapshot then stream, every type', () => {
  const db = uniqueName('ferry_types');
  const pipeline = uniqueName('p');
  let kafka: Kafka;
  let source: RunningSource;
  let sql: (q: string, v?: unknown[]) => Promise<unknown>;
  let close: () => Promise<void>;

  beforeAll(async () => {
    kafka = sandboxKafka();
    const fresh = await freshDatabase(db);
    sql = fresh.sql;
    close = () => fresh.conn.end();
    await sql("SET time_zone = '+02:00'");
    await sql(CREATE_ALL_TYPES);
    await sql(`INSERT INTO all_types (${COLS}) VALUES ${ROW_MAX}`);
    await sql('INSERT INTO all_types (id) VALUES (1)');
    await sql('CREATE TABLE small (id INT PRIMARY KEY, v VARCHAR(10))');
    await sql("INSERT INTO small VALUES (1, 'one'), (2, 'two')");
    await sql('CREATE TABLE skipped (id INT PRIMARY KEY)');
    await sql('INSERT INTO skipped VALUES (1)');
    source = startSource(
      kafka,
      pipeline,
      filterFor(db, { exclude: [`${db}.skipped`], excludeColumns: [`${db}.all_types.secret`] }),
      { partitions: 2 },
    );
    await until(() => source.runtime.storedOffset()?.phase === 'stream', 60_000, 'the snapshot to finish');
  });

  afterAll(async () => {
    await source?.stop();
    await close?.();
  });

  it('snapshots every type with exact canonical values', async () => {
    const recs = await waitForRecords(kafka, `${pipeline}.${db}.all_types`, (r) => r.length >= 2);
    const byKey = new Map(events(recs).map((r) => [r.key, r.value]));
    const max = byKey.get('{"id":"18446744073709551615"}')!;
    expect(max.op).toBe('r');
    expect(max.after).toEqual(MAX_IMAGE);
    expect(byKey.get('{"id":1}')!.after).toEqual(NULL_IMAGE);
    expect(max.source).toMatchObject({ connector: 'mysql', name: pipeline, db, table: 'all_types' });
    const snapshotFlags = events(await waitForRecords(kafka, `${pipeline}.${db}.small`, (r) => r.length >= 2)).map(
      (r) => r.value.source['snapshot'],
    );
    expect([...snapshotFlags, max.source['snapshot']]).toContain('last');
    expect(await listTopics(kafka, `${pipeline}.`)).toEqual(
      [
        `${pipeline}.__offsets`,
        `${pipeline}.__schemas`,
        `${pipeline}.__signals`,
        `${pipeline}.__transactions`,
        `${pipeline}.${db}.all_types`,
        `${pipeline}.${db}.small`,
      ].sort(),
    );
    const progress = source.runtime.progress().snapshot.find((t) => t.table === `${db}.all_types`);
    expect(progress).toMatchObject({ rowsDone: 2, done: true });
  });

  it('streams inserts, updates, deletes, key changes and truncates with exact values', async () => {
    await sql("SET time_zone = '+00:00'");
    await sql(`INSERT INTO all_types (${COLS}) VALUES (2, 127, 0, 32767, 0, 2147483647, 0, 9223372036854775807,
      -9007199254740991, '0.000000000000000000000000000001', -0.5, -3.40282e38, 2.5,
      '2024-02-29', '1970-01-01 00:00:00', '1970-01-01 00:00:01.000001', '12:00:00.5', 2155,
      '', 'a\\0b', 'x', X'', X'', X'00', b'0', 'a', '', '[1, 2.0]', '00000000-0000-0000-0000-000000000000', 's')`);
    await sql("UPDATE all_types SET vc = NULL, tx = 'now set', ts = '2038-01-19 03:14:07.999999' WHERE id = 1");
    await sql('UPDATE all_types SET id = 3 WHERE id = 2');
    await sql('DELETE FROM all_types WHERE id = 3');
    await sql('TRUNCATE TABLE small');
    await sql('INSERT INTO skipped VALUES (2)');
    const recs = await waitForRecords(kafka, `${pipeline}.${db}.all_types`, (r) => events(r).length >= 7);
    // Two partitions: put the events back in source order (binlog position, then order in the transaction).
    const order = (r: (typeof recs)[number]) => [
      String(r.value!.source['file']),
      Number(r.value!.source['pos']),
      r.value!.transaction?.total_order ?? 0,
    ];
    const stream = events(recs)
      .filter((r) => r.value.op !== 'r')
      .sort((a, b) => {
        const [fa, pa, ta] = order(a) as [string, number, number];
        const [fb, pb, tb] = order(b) as [string, number, number];
        return fa.localeCompare(fb) || pa - pb || ta - tb;
      });
    const ops = stream.map((r) => `${r.value.op}:${r.key}`);
    expect(ops).toEqual(['c:{"id":2}', 'u:{"id":1}', 'd:{"id":2}', 'c:{"id":3}', 'd:{"id":3}']);
    const inserted = stream[0]!.value.after!;
    expect(inserted).toEqual({
      id: 2,
      ti: 127,
      tiu: 0,
      si: 32767,
      mi: 0,
      i: 2147483647,
      iu: 0,
      bi: '9223372036854775807',
      bi2: -9007199254740991,
      d: '0.000000000000000000000000000001',
      d2: '-0.500',
      f: -3.40282e38,
      db: 2.5,
      dt: '2024-02-29',
      dtm: '1970-01-01T00:00:00',
      ts: '1970-01-01T00:00:01.000001Z',
      tm: '12:00:00.5',
      y: 2155,
      c: '',
      vc: 'a\u0000b',
      tx: 'x',
      bn: 'AAAAAA==',
      vb: '',
      bl: 'AA==',
      b: '0000000000',
      e: 'a',
      st: [],
      j: '[1, 2.0]',
      u: '00000000-0000-0000-0000-000000000000',
      g: 254,
    });
    const update = stream[1]!.value;
    expect(update.before).toEqual(NULL_IMAGE);
    expect(update.after).toEqual({ ...NULL_IMAGE, tx: 'now set', ts: '2038-01-19T03:14:07.999999Z' });
    expect(update.source).toMatchObject({ connector: 'mysql', snapshot: false, file: expect.any(String) });
    expect(update.source['gtid']).toMatch(/^\d+-\d+-\d+$/);
    expect(update.transaction).toMatchObject({ total_order: 1, data_collection_order: 1 });
    // Key change: delete of the old key, then create of the new one, in one transaction.
    expect(stream[2]!.value.before).toEqual({ ...inserted });
    expect(stream[3]!.value.after).toEqual({ ...inserted, id: 3 });
    expect(stream[3]!.value.transaction!.id).toBe(stream[2]!.value.transaction!.id);
    // A delete is followed by a tombstone.
    const del = recs.findIndex((r) => r.value?.op === 'd' && r.key === '{"id":3}');
    expect(recs.slice(del + 1).some((r) => r.key === '{"id":3}' && r.value === null)).toBe(true);

    const small = await waitForRecords(
      kafka,
      `${pipeline}.${db}.small`,
      (r) => r.filter((x) => x.value?.op === 't').length === 2,
    );
    const truncates = small.filter((r) => r.value?.op === 't');
    expect(truncates.map((r) => r.partition).sort()).toEqual([0, 1]);
    expect(truncates[0]!.key).toBeNull();
  });

  it('publishes a new schema version on ALTER TABLE and later events carry the new column', async () => {
    await sql("INSERT INTO small VALUES (10, 'before')");
    await sql('ALTER TABLE small ADD COLUMN added DECIMAL(8,2) NOT NULL DEFAULT 1.25, ADD COLUMN note VARCHAR(5)');
    await sql("INSERT INTO small VALUES (11, 'after', 9.99, 'n')");
    await sql("UPDATE small SET v = 'changed' WHERE id = 10");
    const recs = await waitForRecords(kafka, `${pipeline}.${db}.small`, (r) =>
      events(r).some((x) => x.key === '{"id":10}' && x.value.op === 'u'),
    );
    const stream = events(recs).filter((r) => r.value.op === 'c' || r.value.op === 'u');
    const before = stream.find((r) => r.key === '{"id":10}' && r.value.op === 'c')!.value;
    const after = stream.find((r) => r.key === '{"id":11}')!.value;
    const update = stream.find((r) => r.key === '{"id":10}' && r.value.op === 'u')!.value;
    expect(before.after).toEqual({ id: 10, v: 'before' });
    expect(after.after).toEqual({ id: 11, v: 'after', added: '9.99', note: 'n' });
    expect(update.before).toEqual({ id: 10, v: 'before', added: '1.25', note: null });
    expect(update.after).toEqual({ id: 10, v: 'changed', added: '1.25', note: null });
    const oldVersion = before.source['schema_version'];
    const newVersion = after.source['schema_version'];
    expect(newVersion).not.toBe(oldVersion);
    const schemas = await readSchemas(kafka, pipeline);
    const published = schemas.find((r) => r.key === `${db}.small@${newVersion}`);
    expect(published).toBeDefined();
    const schema = JSON.parse(published!.value!) as TableSchema;
    expect(schema.columns.map((c) => [c.name, c.kind])).toEqual([
      ['id', 'int32'],
      ['v', 'string'],
      ['added', 'decimal'],
      ['note', 'string'],
    ]);
    // The schema record precedes the first event that uses it.
    const schemaPos = schemas.findIndex((r) => r.key === `${db}.small@${newVersion}`);
    expect(schemaPos).toBeGreaterThan(-1);
    const stored = await storedOffset(kafka, pipeline);
    expect(stored).toMatchObject({ phase: 'stream', connector: 'mysql' });
    expect(stored!.describe).toMatch(/^binlog\.\d+:\d+$/);
  });

  it('after a restart, replays rows written before an ALTER under their own shape', async () => {
    const other = uniqueName('p');
    await sql('CREATE TABLE evolve (id INT PRIMARY KEY, a VARCHAR(5))');
    const first = startSource(kafka, other, filterFor(db, { include: [`${db}.evolve`] }));
    await until(() => first.runtime.storedOffset()?.phase === 'stream', 60_000, 'the snapshot');
    await first.stop();
    // While the source is down: a row, a DDL dropping a column and adding two, another row.
    await sql("INSERT INTO evolve VALUES (1, 'old')");
    await sql('ALTER TABLE evolve DROP COLUMN a, ADD COLUMN b INT NOT NULL DEFAULT 5, ADD COLUMN c DATE');
    await sql("INSERT INTO evolve VALUES (2, 7, '2024-05-06')");
    const again = startSource(kafka, other, filterFor(db, { include: [`${db}.evolve`] }));
    try {
      const recs = await waitForRecords(kafka, `${other}.${db}.evolve`, (r) => events(r).length >= 2);
      const [one, two] = events(recs).map((r) => r.value);
      expect(one!.after).toEqual({ id: 1, a: 'old' });
      expect(two!.after).toEqual({ id: 2, b: 7, c: '2024-05-06' });
      const versions = new Set((await readSchemas(kafka, other)).map((r) => r.key));
      expect(versions.has(`${db}.evolve@${one!.source['schema_version']}`)).toBe(true);
      expect(versions.has(`${db}.evolve@${two!.source['schema_version']}`)).toBe(true);
    } finally {
      await again.stop();
    }
  });
});
