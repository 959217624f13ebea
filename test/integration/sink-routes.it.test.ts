/**
 * Sink routes against the sandbox: MariaDB -> PostgreSQL, PostgreSQL -> MariaDB,
 * PostgreSQL -> PostgreSQL (and MariaDB -> MariaDB), each with a mixed workload (inserts, updates, deletes, primary-key
 * changes, truncate, add column, edge values), ending with target == source row by row on
 * canonical values. Events are produced the way the sources publish them (test/helpers/events.ts).
 */
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { dataTopic } from '../../src/kafka/topics.js';
import { compareTables, type DbConn } from '../helpers/compare.js';
import { col, EventWriter, SourceTable, tableSchema } from '../helpers/events.js';
import { kafkaClient, uniqueName } from '../helpers/sandbox.js';
import {
  dlqCount,
  sandboxTarget,
  startSink,
  useSinkDatabases,
  waitFor,
  waitForCaughtUp,
} from '../helpers/sink-harness.js';

describe('sink routes', () => {
  const kafka = kafkaClient('sink-routes');
  let my: mysql.Connection;
  let pgc: pg.Client;
  useSinkDatabases((dbs) => ({ my, pgc } = dbs));

  it('MariaDB -> PostgreSQL: mixed workload, edge values, truncate, add column', async () => {
    const pipeline = uniqueName('m2p');
    const srcDb = `${pipeline}_src`;
    const target = sandboxTarget('postgres');
    await my.query(`CREATE DATABASE \`${srcDb}\``);
    await my.query(`CREATE TABLE \`${srcDb}\`.items (
      id BIGINT NOT NULL PRIMARY KEY, u64 BIGINT UNSIGNED NULL, i8 TINYINT NULL, flag TINYINT(1) NULL,
      dec1 DECIMAL(65,30) NULL, price DECIMAL(10,2) NULL, f FLOAT NULL, d DOUBLE NULL,
      name VARCHAR(100) NULL, body TEXT NULL, raw VARBINARY(32) NULL, doc JSON NULL,
      color ENUM('red','green','a,b') NULL, tags SET('x','y','z') NULL, bits BIT(10) NULL, yr YEAR NULL,
      day DATE NULL, tm TIME(6) NULL, dt DATETIME(6) NULL, ts TIMESTAMP(6) NULL DEFAULT NULL, zero_day DATE NULL
    )`);
    const schema = tableSchema(
      srcDb,
      'items',
      [
        col('id', 'bigint', 'int64'),
        col('u64', 'bigint unsigned', 'uint64', { unsigned: true }),
        col('i8', 'tinyint', 'int8'),
        col('flag', 'tinyint(1)', 'boolean'),
        col('dec1', 'decimal(65,30)', 'decimal', { precision: 65, scale: 30 }),
        col('price', 'decimal(10,2)', 'decimal', { precision: 10, scale: 2 }),
        col('f', 'float', 'float32'),
        col('d', 'double', 'float64'),
        col('name', 'varchar(100)', 'string', { length: 100 }),
        col('body', 'text', 'string', { length: 65535 }),
        col('raw', 'varbinary(32)', 'bytes', { length: 32 }),
        col('doc', 'json', 'json'),
        col('color', "enum('red','green','a,b')", 'enum', { enumValues: ['red', 'green', 'a,b'] }),
        col('tags', "set('x','y','z')", 'set', { enumValues: ['x', 'y', 'z'] }),
        col('bits', 'bit(10)', 'bit', { length: 10 }),
        col('yr', 'year', 'year'),
        col('day', 'date', 'date'),
        col('tm', 'time(6)', 'time', { fsp: 6 }),
        col('dt', 'datetime(6)', 'timestamp', { fsp: 6 }),
        col('ts', 'timestamp(6)', 'timestamptz', { fsp: 6 }),
        col('zero_day', 'date', 'date'),
      ],
      ['id'],
    );
    const db: DbConn = { engine: 'mysql', conn: my };
    const src = new SourceTable(db, schema);
    const writer = new EventWriter(kafka, pipeline, 3);
    await writer.schema(schema);

    const edge = {
      id: 1,
      u64: '18446744073709551615',
      i8: -128,
      flag: 1,
      dec1: '-12345678901234567890123456789012345.123456789012345678901234567890',
      price: '-99999999.99',
      f: 1.5,
      d: Math.PI,
      name: 'quote \' dq " backslash \\ emoji 😀 ünïcödé',
      body: 'x'.repeat(5000),
      raw: Buffer.from([0, 1, 2, 255, 0]),
      doc: '{"b": 1, "a": [1, 2.5, "x"], "nested": {"k": null}}',
      color: 'a,b',
      tags: 'x,z',
      bits: Buffer.from([0x02, 0x01]),
      yr: 2155,
      day: '9999-12-31',
      tm: '23:59:59.999999',
      dt: '2024-02-29 23:59:59.999999',
      ts: '2038-01-19 03:14:07.999999',
      zero_day: '0000-00-00',
    };
    await src.insert([
      edge,
      {
        id: 2,
        u64: '0',
        i8: 127,
        flag: 0,
        dec1: '0.000000000000000000000000000001',
        price: '0.00',
        f: -2.25,
        d: 1e-300,
        name: '',
        body: '',
        raw: Buffer.alloc(0),
        doc: '[]',
        color: 'red',
        tags: '',
        bits: Buffer.from([0, 0]),
        yr: 1901,
        day: '1000-01-01',
        tm: '00:00:00',
        dt: '1000-01-01 00:00:00',
        ts: '1970-01-01 00:00:01',
        zero_day: null,
      },
      { id: 3 },
    ]);
    const rows = Array.from({ length: 40 }, (_, i) => ({
      id: 10 + i,
      name: `row ${i}`,
      price: `${i}.5`,
      dt: '2024-01-01 10:00:00.5',
      ts: '2024-06-01 12:00:00',
      flag: i % 2,
    }));
    await src.insert(rows);
    await src.update({ id: 10 }, { name: 'updated once', price: '1.25' });
    await src.update({ id: 10 }, { name: 'updated twice', tags: 'y' });
    await src.update({ id: 11 }, { id: 111 });
    await src.delete({ id: 12 });
    await src.delete({ id: 13 });
    await src.update({ id: 14 }, { doc: '{"z": true}' });
    await writer.events(src.take());

    const sink = startSink({ pipeline, group: `${pipeline}-pg`, target, batchSize: 25 });
    try {
      const topic = dataTopic(pipeline, srcDb, 'items');
      const caughtUp = await waitForCaughtUp(kafka, pipeline, `${pipeline}-pg`, target, [topic], 60_000, [sink]);
      // Lag tools read the group's Kafka offsets: they follow the target's (lag-commits.ts).
      const stored = new Map(caughtUp.partitions.map((x) => [x.partition, x.nextOffset ?? '-1']));
      const admin = kafka.admin();
      await admin.connect();
      try {
        await waitFor('the Kafka group offsets to reach the stored ones', async () => {
          const [group] = await admin.fetchOffsets({ groupId: `${pipeline}-pg`, topics: [topic] });
          return group!.partitions.every((x) => x.offset === stored.get(x.partition)) || undefined;
        });
      } finally {
        await admin.disconnect();
      }
      // Truncate mid-stream, rows after it, then a new column (new schema version).
      await src.insert([{ id: 200, name: 'before truncate' }]);
      await src.truncate();
      await src.insert([edge, { id: 201, name: 'after truncate' }, { id: 202, name: 'after truncate 2' }]);
      await src.update({ id: 201 }, { name: 'after truncate, updated' });
      await writer.events(src.take());
      const v2 = await src.addColumn('VARCHAR(20) NULL', col('note', 'varchar(20)', 'string', { length: 20 }));
      await writer.schema(v2);
      await src.insert([{ id: 300, name: 'with note', note: 'hello' }]);
      await src.update({ id: 201 }, { note: 'noted' });
      await src.update({ id: 202 }, { id: 203 });
      await writer.events(src.take());
      await waitForCaughtUp(kafka, pipeline, `${pipeline}-pg`, target, [topic], 60_000, [sink]);
      const diff = await compareTables({
        schema: src.schema,
        source: db,
        sourceNamespace: srcDb,
        target: { engine: 'postgresql', conn: pgc },
        targetNamespace: srcDb,
        zeroDateAsNull: true,
      });
      expect(diff.different).toEqual([]);
      expect(diff.missing).toEqual([]);
      expect(diff.extra).toEqual([]);
      expect(diff.sourceRows).toBe(4);
      expect(await dlqCount(sink)).toBe(0);
      // The comparison is not vacuous: a changed target value is reported.
      await pgc.query(`UPDATE "${srcDb}".items SET name = 'tampered' WHERE id = 300`);
      const tampered = await compareTables({
        schema: src.schema,
        source: db,
        sourceNamespace: srcDb,
        target: { engine: 'postgresql', conn: pgc },
        targetNamespace: srcDb,
        zeroDateAsNull: true,
      });
      expect(tampered.different).toEqual([{ key: '[300]', column: 'name', source: 'with note', target: 'tampered' }]);
      const types = await pgc.query(
        `SELECT column_name, data_type, numeric_precision, numeric_scale FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'items' ORDER BY ordinal_position`,
        [srcDb],
      );
      const byName = Object.fromEntries(
        types.rows.map((r: { column_name: string; data_type: string }) => [r.column_name, r.data_type]),
      );
      expect(byName).toMatchObject({
        u64: 'numeric',
        flag: 'boolean',
        doc: 'json',
        tags: 'ARRAY',
        bits: 'bit',
        ts: 'timestamp with time zone',
        dt: 'timestamp without time zone',
        note: 'character varying',
      });
    } finally {
      await sink.stop();
      await writer.close();
    }
  });

  const pgThings = (db: string) =>
    tableSchema(
      db,
      'things',
      [
        col('id', 'integer', 'int32'),
        col('big', 'bigint', 'int64'),
        col('small', 'smallint', 'int16'),
        col('num', 'numeric(12,3)', 'decimal', { precision: 12, scale: 3 }),
        col('anynum', 'numeric', 'decimal'),
        col('r', 'real', 'float32'),
        col('dp', 'double precision', 'float64'),
        col('ok', 'boolean', 'boolean'),
        col('title', 'character varying(50)', 'string', { length: 50 }),
        col('body', 'text', 'string'),
        col('data', 'bytea', 'bytes'),
        col('uid', 'uuid', 'uuid'),
        col('j', 'json', 'json'),
        col('jb', 'jsonb', 'json'),
        col('day', 'date', 'date'),
        col('t', 'time(6) without time zone', 'time', { fsp: 6 }),
        col('ttz', 'time with time zone', 'timetz', { fsp: 6 }),
        col('ts', 'timestamp(6) without time zone', 'timestamp', { fsp: 6 }),
        col('tstz', 'timestamp with time zone', 'timestamptz', { fsp: 6 }),
        col('dur', 'interval', 'interval'),
        col('ints', 'integer[]', 'array', { elementKind: 'int32' }),
        col('words', 'text[]', 'array', { elementKind: 'string' }),
        col('b8', 'bit(8)', 'bit', { length: 8 }),
        col('vb', 'bit varying(16)', 'bit', { length: 16 }),
        col('addr', 'inet', 'string'),
        col('padded', 'character(5)', 'string', { length: 5 }),
      ],
      ['id'],
    );
  const PG_THINGS_DDL = `id integer PRIMARY KEY, big bigint, small smallint, num numeric(12,3), anynum numeric, r real,
    dp double precision, ok boolean, title varchar(50), body text, data bytea, uid uuid, j json, jb jsonb, day date,
    t time(6), ttz timetz, ts timestamp(6), tstz timestamptz, dur interval, ints integer[], words text[], b8 bit(8),
    vb varbit(16), addr inet, padded char(5)`;
  const pgEdge = {
    id: 1,
    big: '-9223372036854775808',
    small: 32767,
    num: '-999999999.999',
    anynum: '123456789012345678901234567890.123456789012345678901234567890',
    r: 0.1,
    dp: Math.E,
    ok: true,
    title: 'quote \' dq " backslash \\ 😀',
    body: '🚢'.repeat(20000),
    data: '\\xdeadbeef00',
    uid: 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
    j: '{"b":1,"a":[2,{"c":"d"}]}',
    jb: '{"b":1,"a":2}',
    day: '0001-01-01',
    t: '24:00:00',
    ttz: '12:34:56.5+02',
    ts: '2024-02-29 23:59:59.999999',
    tstz: '2024-06-01 12:00:00.123456+05:30',
    dur: '1 year 2 mons -3 days 04:05:06.789',
    ints: '{1,NULL,3}',
    words: '{"a b","c\\"d",NULL,""}',
    b8: '10100101',
    vb: '101',
    addr: '192.168.0.1/24',
    padded: 'ab',
  };

  async function pgWorkload(src: SourceTable, writer: EventWriter, phase: 1 | 2): Promise<void> {
    if (phase === 1) {
      await src.insert([pgEdge, { id: 2 }, { id: 3, body: 'short', ok: false, r: -0, dp: 1e-300, num: '0.000' }]);
      await src.insert(
        Array.from({ length: 30 }, (_, i) => ({
          id: 10 + i,
          title: `t${i}`,
          num: `${i}.25`,
          tstz: '2024-01-01 00:00:00+00',
        })),
      );
      await src.update({ id: 10 }, { title: 'changed', words: '{x,y}' });
      await src.update({ id: 11 }, { id: 1011 });
      await src.delete({ id: 12 });
      await src.update({ id: 13 }, { ints: '{}' });
      await writer.events(src.take());
      return;
    }
    await src.insert([{ id: 500, title: 'gone by truncate' }]);
    await src.truncate();
    await src.insert([pgEdge, { id: 501, title: 'after truncate' }, { id: 502 }]);
    await writer.events(src.take());
    const v2 = await src.addColumn('numeric(5,1)', col('extra', 'numeric(5,1)', 'decimal', { precision: 5, scale: 1 }));
    await writer.schema(v2);
    await src.insert([{ id: 600, extra: '1234.5' }]);
    await src.update({ id: 501 }, { extra: '-0.5' });
    await src.update({ id: 502 }, { id: 503 });
    await writer.events(src.take());
  }

  it('PostgreSQL -> MariaDB: mixed workload, edge values, truncate, add column', async () => {
    const pipeline = uniqueName('p2m');
    const srcNs = `${pipeline}_src`;
    const target = sandboxTarget('mysql', `${pipeline}_meta`);
    const group = `${pipeline}-my`;
    await pgc.query(`CREATE SCHEMA "${srcNs}"`);
    await pgc.query(`CREATE TABLE "${srcNs}".things (${PG_THINGS_DDL})`);
    const db: DbConn = { engine: 'postgresql', conn: pgc };
    const src = new SourceTable(db, pgThings(srcNs));
    const writer = new EventWriter(kafka, pipeline, 3);
    await writer.schema(src.schema);
    await pgWorkload(src, writer, 1);
    const sink = startSink({ pipeline, group, target, batchSize: 20 });
    try {
      const topic = dataTopic(pipeline, srcNs, 'things');
      await waitForCaughtUp(kafka, pipeline, group, target, [topic], 60_000, [sink]);
      await pgWorkload(src, writer, 2);
      await waitForCaughtUp(kafka, pipeline, group, target, [topic], 60_000, [sink]);
      const diff = await compareTables({
        schema: src.schema,
        source: db,
        sourceNamespace: srcNs,
        target: { engine: 'mysql', conn: my },
        targetNamespace: srcNs,
      });
      expect(diff.different).toEqual([]);
      expect(diff.missing).toEqual([]);
      expect(diff.extra).toEqual([]);
      expect(diff.sourceRows).toBe(4);
      expect(await dlqCount(sink)).toBe(0);
      const [cols] = await my.query(
        'SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
        [srcNs, 'things'],
      );
      const types = Object.fromEntries((cols as Array<{ name: string; type: string }>).map((c) => [c.name, c.type]));
      expect(types).toMatchObject({
        anynum: 'decimal(65,30)',
        ok: 'tinyint(1)',
        uid: 'char(36)',
        tstz: 'datetime(6)',
        dur: 'varchar(64)',
        data: 'longblob',
        ints: 'longtext',
        b8: 'bit(8)',
      });
    } finally {
      await sink.stop();
      await writer.close();
    }
  });

  it('PostgreSQL -> PostgreSQL: mixed workload, special values, unchanged TOAST columns, target namespace', async () => {
    const pipeline = uniqueName('p2p');
    const srcNs = `${pipeline}_src`;
    const tgtNs = `${pipeline}_tgt`;
    const target = sandboxTarget('postgres');
    const group = `${pipeline}-pg`;
    await pgc.query(`CREATE SCHEMA "${srcNs}"`);
    await pgc.query(`CREATE TABLE "${srcNs}".things (${PG_THINGS_DDL})`);
    const db: DbConn = { engine: 'postgresql', conn: pgc };
    const src = new SourceTable(db, pgThings(srcNs));
    const writer = new EventWriter(kafka, pipeline, 3);
    await writer.schema(src.schema);
    // Values only PostgreSQL holds: NaN, infinities, BC dates.
    await src.insert([
      {
        id: 90,
        anynum: 'NaN',
        dp: 'Infinity',
        r: '-Infinity',
        ts: 'infinity',
        tstz: '-infinity',
        day: '0044-03-15 BC',
        ints: '{{1,2},{3,NULL}}',
      },
    ]);
    await pgWorkload(src, writer, 1);
    const sink = startSink({ pipeline, group, target, batchSize: 15, targetNamespace: tgtNs });
    try {
      const topic = dataTopic(pipeline, srcNs, 'things');
      await waitForCaughtUp(kafka, pipeline, group, target, [topic], 60_000, [sink]);
      // An UPDATE that leaves a TOASTed column alone carries it as UNCHANGED: the target keeps it.
      await src.update({ id: 1 }, { title: 'toast kept' });
      const last = src.events[src.events.length - 1]!;
      last.after = { ...last.after!, body: '__debezium_unavailable_value' };
      await writer.events(src.take());
      await waitForCaughtUp(kafka, pipeline, group, target, [topic], 60_000, [sink]);
      await pgWorkload(src, writer, 2);
      await waitForCaughtUp(kafka, pipeline, group, target, [topic], 60_000, [sink]);
      const diff = await compareTables({
        schema: src.schema,
        source: db,
        sourceNamespace: srcNs,
        target: { engine: 'postgresql', conn: pgc },
        targetNamespace: tgtNs,
      });
      expect(diff.different).toEqual([]);
      expect(diff.missing).toEqual([]);
      expect(diff.extra).toEqual([]);
      expect(await dlqCount(sink)).toBe(0);
      const types = await pgc.query(
        `SELECT column_name, format_type(a.atttypid, a.atttypmod) AS t FROM information_schema.columns c
         JOIN pg_attribute a ON a.attrelid = format('%I.%I', c.table_schema, c.table_name)::regclass AND a.attname = c.column_name
         WHERE c.table_schema = $1 AND c.table_name = 'things'`,
        [tgtNs],
      );
      const byName = Object.fromEntries(
        types.rows.map((r: { column_name: string; t: string }) => [r.column_name, r.t]),
      );
      expect(byName).toMatchObject({
        num: 'numeric(12,3)',
        jb: 'jsonb',
        j: 'json',
        vb: 'bit varying(16)',
        addr: 'inet',
        ints: 'integer[]',
        tstz: 'timestamp with time zone',
        padded: 'character(5)',
      });
    } finally {
      await sink.stop();
      await writer.close();
    }
  });

  it('MariaDB -> MariaDB: same-engine types, zero dates, TIME range, new ENUM labels', async () => {
    const pipeline = uniqueName('m2m');
    const srcDb = `${pipeline}_src`;
    const tgtDb = `${pipeline}_tgt`;
    const group = `${pipeline}-my`;
    const target = sandboxTarget('mysql', `${pipeline}_meta`);
    await my.query(`CREATE DATABASE \`${srcDb}\``);
    await my.query(`CREATE TABLE \`${srcDb}\`.m (
      id INT UNSIGNED NOT NULL PRIMARY KEY, mi MEDIUMINT UNSIGNED NULL, big BIGINT UNSIGNED NULL, code CHAR(10) NULL,
      color ENUM('red','green') NULL, tags SET('x','y','z') NULL, bits BIT(64) NULL, yr YEAR NULL,
      tm TIME(6) NULL, born DATE NOT NULL, seen DATETIME NOT NULL, ts TIMESTAMP(3) NULL DEFAULT NULL, blob1 MEDIUMBLOB NULL
    )`);
    const cols = [
      col('id', 'int unsigned', 'int32', { unsigned: true }),
      col('mi', 'mediumint unsigned', 'int32', { unsigned: true }),
      col('big', 'bigint unsigned', 'uint64', { unsigned: true }),
      col('code', 'char(10)', 'string', { length: 10 }),
      col('color', "enum('red','green')", 'enum', { enumValues: ['red', 'green'] }),
      col('tags', "set('x','y','z')", 'set', { enumValues: ['x', 'y', 'z'] }),
      col('bits', 'bit(64)', 'bit', { length: 64 }),
      col('yr', 'year', 'year'),
      col('tm', 'time(6)', 'time', { fsp: 6 }),
      col('born', 'date', 'date', { nullable: false }),
      col('seen', 'datetime', 'timestamp', { fsp: 0, nullable: false }),
      col('ts', 'timestamp(3)', 'timestamptz', { fsp: 3 }),
      col('blob1', 'mediumblob', 'bytes'),
    ];
    const schema = tableSchema(srcDb, 'm', cols, ['id']);
    const db: DbConn = { engine: 'mysql', conn: my };
    const src = new SourceTable(db, schema);
    const writer = new EventWriter(kafka, pipeline, 2);
    await writer.schema(schema);
    await src.insert([
      {
        id: 4294967295,
        mi: 16777215,
        big: '18446744073709551615',
        code: 'abc',
        color: 'green',
        tags: 'x,y,z',
        bits: Buffer.from('ffffffffffffffff', 'hex'),
        yr: 0,
        tm: '-838:59:59',
        born: '0000-00-00',
        seen: '0000-00-00 00:00:00',
        ts: '2001-02-03 04:05:06.789',
        blob1: Buffer.alloc(70_000, 7),
      },
      { id: 1, born: '2024-00-15', seen: '2024-01-01 00:00:00', tm: '838:59:59.999999' },
      { id: 2, born: '1999-12-31', seen: '1999-12-31 23:59:59' },
    ]);
    await src.update({ id: 2 }, { id: 3 });
    await src.delete({ id: 1 });
    await writer.events(src.take());
    const sink = startSink({ pipeline, group, target, targetNamespace: tgtDb });
    try {
      const topic = dataTopic(pipeline, srcDb, 'm');
      await waitForCaughtUp(kafka, pipeline, group, target, [topic], 60_000, [sink]);
      // A new ENUM label at the source: the target column gains it.
      await my.query(`ALTER TABLE \`${srcDb}\`.m MODIFY color ENUM('red','green','blue') NULL`);
      const v2 = tableSchema(
        srcDb,
        'm',
        cols.map((c) =>
          c.name === 'color'
            ? { ...c, sourceType: "enum('red','green','blue')", enumValues: ['red', 'green', 'blue'] }
            : c,
        ),
        ['id'],
      );
      src.tableEvents.schema = v2;
      await writer.schema(v2);
      await src.update({ id: 3 }, { color: 'blue', tags: 'z' });
      await writer.events(src.take());
      await waitForCaughtUp(kafka, pipeline, group, target, [topic], 60_000, [sink]);
      const diff = await compareTables({
        schema: v2,
        source: db,
        sourceNamespace: srcDb,
        target: db,
        targetNamespace: tgtDb,
      });
      expect(diff.different).toEqual([]);
      expect(diff.missing).toEqual([]);
      expect(diff.extra).toEqual([]);
      expect(diff.sourceRows).toBe(2);
      expect(await dlqCount(sink)).toBe(0);
      const [cols2] = await my.query(
        'SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
        [tgtDb, 'm'],
      );
      const types = Object.fromEntries((cols2 as Array<{ name: string; type: string }>).map((c) => [c.name, c.type]));
      expect(types).toMatchObject({
        id: 'int(10) unsigned',
        mi: 'mediumint(8) unsigned',
        code: 'char(10)',
        color: "enum('red','green','blue')",
        tags: "set('x','y','z')",
        bits: 'bit(64)',
        seen: 'datetime',
        ts: 'datetime(3)',
        blob1: 'mediumblob',
      });
    } finally {
      await sink.stop();
      await writer.close();
    }
  });
});
