/**
 * The PostgreSQL sink's COPY path (docs/sinks.md#copy) against the sandbox: one batch of edge
 * values applied through COPY into a staging table, and the same batch through the multi-row
 * unnest path into a second table; every cell read back equals the other path's cell and the
 * expected text. Deletes by key through the stage, and a second batch reusing the stage in one
 * transaction (two tables of the same width), leave exactly the expected rows. A snapshot load
 * (the direct lane's chunks) copied straight into the table stores the same cells, also when some
 * keys are there already (it then upserts).
 */
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { PostgresSink, type PostgresSinkOptions } from '../../connectors/postgres-sink/index.js';
import type { Row, SinkBatch, TableSchema } from '../../src/api/index.js';
import { col, tableSchema } from '../helpers/events.js';
import { getSandbox, uniqueName } from '../helpers/sandbox.js';
import { quietLogger, useSinkDatabases } from '../helpers/sink-harness.js';

/** The sandbox's PostgreSQL as the ferry role. */
function pgTarget(): PostgresSinkOptions {
  const p = getSandbox().postgres;
  return { host: p.host, port: p.port, user: p.user, password: p.password, database: p.database };
}

const NUL_FREE_EDGES = [
  '',
  '\\N',
  '\\',
  '\\\\.',
  'tab\there',
  'line\nbreak',
  'cr\rlf\r\n',
  'quote \' dq " comma , semicolon ;',
  'emoji 😀 ünïcödé',
  ' lead and trail ',
  'x'.repeat(10_000),
];

function schemaOf(db: string, table: string): TableSchema {
  return {
    ...tableSchema(
      db,
      table,
      [
        col('id', 'bigint', 'int64'),
        col('t', 'text', 'string'),
        col('b', 'bytea', 'bytes'),
        col('arr', 'text[]', 'array', { elementKind: 'string' }),
        col('j', 'jsonb', 'json'),
        col('js', 'json', 'json'),
        col('ts', 'timestamp(6) without time zone', 'timestamp', { fsp: 6 }),
        col('tz', 'timestamp(6) with time zone', 'timestamptz', { fsp: 6 }),
        col('day', 'date', 'date'),
        col('n', 'numeric', 'decimal'),
        col('d', 'double precision', 'float64'),
        col('flag', 'boolean', 'boolean'),
      ],
      ['id'],
    ),
    sourceKind: 'postgresql',
  };
}

function rowsOf(count: number): Row[] {
  const rows: Row[] = [];
  for (let i = 1; i <= count; i++) {
    const text = NUL_FREE_EDGES[i % NUL_FREE_EDGES.length]!;
    const allNull = i % 13 === 0;
    rows.push({
      id: i,
      t: allNull ? null : text,
      b: allNull ? null : Buffer.from([0, 92, 9, 10, 13, 255, i % 256]).toString('base64'),
      arr: allNull ? null : [text, null, 'a"b', 'c\\d', '', 'NULL', '{x,y}'],
      j: allNull ? null : JSON.stringify({ k: text, n: 1.5, nested: [null, true] }),
      js: allNull ? null : `{"b": 1, "a": "back\\\\slash\\ttab", "big": 123456789012345678901234567890.000001}`,
      ts: allNull ? null : i % 5 === 0 ? 'infinity' : `2024-02-29T23:59:59.${String(i % 1_000_000).padStart(6, '0')}`,
      tz: allNull ? null : i % 7 === 0 ? '-infinity' : '1999-12-31T23:59:59.000001Z',
      day: allNull ? null : i % 3 === 0 ? 'infinity' : '0001-01-01',
      n: allNull ? null : i % 11 === 0 ? 'NaN' : `-${i}123456789012345678901234567890.000000000000000000000001`,
      d: allNull ? null : i % 9 === 0 ? 'Infinity' : i % 4 === 0 ? '-0' : 0.1 + i,
      flag: allNull ? null : i % 2 === 0,
    });
  }
  return rows;
}

async function cells(pgc: pg.Client, schema: string, table: string): Promise<string[][]> {
  const res = await pgc.query({
    text:
      'SELECT id::text, t, encode(b, $1), arr::text, j::text, js::text, ts::text, tz::text, day::text, ' +
      `n::text, d::text, flag::text FROM "${schema}"."${table}" AS x ORDER BY x.id`,
    values: ['hex'],
    rowMode: 'array',
  });
  return res.rows as string[][];
}

describe('PostgreSQL sink COPY path', () => {
  let pgc: pg.Client;
  useSinkDatabases((dbs) => ({ pgc } = dbs));

  it('stores an edge-value batch cell for cell as the unnest path does, and deletes through the stage', async () => {
    const pipeline = uniqueName('pgcopy');
    const db = `${pipeline}_t`;
    const target = pgTarget();
    const viaCopy = new PostgresSink({ ...target, copyThreshold: 1 });
    const viaUnnest = new PostgresSink({ ...target, copyThreshold: 0, maxRowsPerStatement: 37 });
    const ctx = { pipeline, group: `${pipeline}-g`, logger: quietLogger() };
    await viaCopy.start(ctx);
    await viaUnnest.start({ ...ctx, group: `${pipeline}-g2` });
    try {
      const a = schemaOf(db, 'copied');
      const a2 = schemaOf(db, 'copied_too');
      const b = schemaOf(db, 'unnested');
      for (const s of [a, a2]) await viaCopy.ensureTable(s);
      await viaUnnest.ensureTable(b);
      const rows = rowsOf(600);
      const batch = (schemas: TableSchema[], offset: string): SinkBatch => ({
        tables: schemas.map((schema) => ({ schema, truncate: false, upserts: rows, deletes: [] })),
        offsets: [{ topic: `${pipeline}.x`, partition: 0, nextOffset: offset, truncateBarrier: null }],
      });
      await viaCopy.apply(batch([a, a2], '600'));
      await viaUnnest.apply(batch([b], '600'));

      const copied = await cells(pgc, db, 'copied');
      const unnested = await cells(pgc, db, 'unnested');
      expect(copied).toHaveLength(600);
      expect(await cells(pgc, db, 'copied_too')).toEqual(copied);
      for (let i = 0; i < copied.length; i++) expect(copied[i], `row ${i + 1}`).toEqual(unnested[i]);

      // Spot checks against the expected text, column by column.
      const byId = new Map(copied.map((r) => [Number(r[0]), r]));
      const r2 = byId.get(2)!; // NUL_FREE_EDGES[2] = '\\'
      expect(r2[1]).toBe('\\');
      expect(r2[2]).toBe('005c090a0dff02');
      expect(r2[3]).toBe('{"\\\\",NULL,"a\\"b","c\\\\d","","NULL","{x,y}"}');
      expect(JSON.parse(r2[4]!)).toEqual({ k: '\\', n: 1.5, nested: [null, true] });
      expect(r2[5]).toBe('{"b": 1, "a": "back\\\\slash\\ttab", "big": 123456789012345678901234567890.000001}');
      expect(r2[6]).toBe('2024-02-29 23:59:59.000002');
      expect(r2[7]).toBe('1999-12-31 23:59:59.000001+00');
      expect(r2[9]).toBe('-2123456789012345678901234567890.000000000000000000000001');
      expect(r2[10]).toBe('2.1');
      expect(r2[11]).toBe('true');
      expect(byId.get(1)![1]).toBe('\\N');
      expect(byId.get(11)![1]).toBe('');
      expect(byId.get(11)![9]).toBe('NaN');
      expect(byId.get(4)![1]).toBe('tab\there');
      expect(byId.get(5)![1]).toBe('line\nbreak');
      expect(byId.get(5)![6]).toBe('infinity');
      expect(byId.get(6)![1]).toBe('cr\rlf\r\n');
      expect(byId.get(7)![7]).toBe('-infinity');
      expect(byId.get(9)![8]).toBe('infinity');
      expect(byId.get(9)![10]).toBe('Infinity');
      expect(byId.get(8)![10]).toBe('-0');
      expect(byId.get(10)![1]).toBe('x'.repeat(10_000));
      const nullRow = byId.get(13)!;
      expect(nullRow.slice(1)).toEqual(Array(11).fill(null));

      // Deletes by key through the stage, then upserts of the same width in the same transaction.
      const deletes = rows.filter((r) => Number(r['id']) % 2 === 1).map((r) => ({ id: r['id']! }));
      const changed = rows.filter((r) => Number(r['id']) % 4 === 0).map((r) => ({ ...r, t: 'changed\tagain' }));
      await viaCopy.apply({
        tables: [{ schema: a, truncate: false, upserts: changed, deletes }],
        offsets: [{ topic: `${pipeline}.x`, partition: 0, nextOffset: '700', truncateBarrier: null }],
      });
      const after = await cells(pgc, db, 'copied');
      expect(after.map((r) => Number(r[0]))).toEqual(rows.map((r) => Number(r['id'])).filter((id) => id % 2 === 0));
      for (const r of after) {
        const id = Number(r[0]);
        if (id % 4 === 0) expect(r[1]).toBe('changed\tagain');
        else expect(r[1]).toBe(copied[id - 1]![1]);
      }
      const offsets = await pgc.query(
        'SELECT next_offset::text AS n FROM ferry_offsets WHERE pipeline = $1 AND consumer_group = $2',
        [pipeline, ctx.group],
      );
      expect(offsets.rows).toEqual([{ n: '700' }]);
    } finally {
      await viaCopy.close();
      await viaUnnest.close();
    }
  });

  it('a snapshot load (TableChanges.load) copies straight into the table cell for cell as the unnest path, and upserts whole when a key exists', async () => {
    const pipeline = uniqueName('pgload');
    const db = `${pipeline}_t`;
    const target = pgTarget();
    const sink = new PostgresSink({ ...target, copyThreshold: 1 });
    const viaUnnest = new PostgresSink({ ...target, copyThreshold: 0, maxRowsPerStatement: 37 });
    const ctx = { pipeline, group: `${pipeline}-g`, logger: quietLogger() };
    await sink.start(ctx);
    await viaUnnest.start({ ...ctx, group: `${pipeline}-g2` });
    try {
      const fresh = schemaOf(db, 'loaded');
      const taken = schemaOf(db, 'loaded_over');
      const ref = schemaOf(db, 'unnested');
      for (const s of [fresh, taken]) await sink.ensureTable(s);
      await viaUnnest.ensureTable(ref);
      const rows = rowsOf(600);
      await viaUnnest.apply({ tables: [{ schema: ref, truncate: false, upserts: rows, deletes: [] }], offsets: [] });
      const expected = await cells(pgc, db, 'unnested');

      await sink.apply({
        tables: [{ schema: fresh, truncate: false, upserts: rows, deletes: [], load: true }],
        offsets: [],
      });
      const loaded = await cells(pgc, db, 'loaded');
      expect(loaded).toHaveLength(600);
      for (let i = 0; i < loaded.length; i++) expect(loaded[i], `row ${i + 1}`).toEqual(expected[i]);

      // Some keys are there already (older values): the plain COPY fails on them, and the
      // whole chunk is upserted instead, in the same transaction.
      const older = rows.filter((r) => Number(r['id']) % 50 === 0).map((r) => ({ ...r, t: 'older', flag: null }));
      await sink.apply({ tables: [{ schema: taken, truncate: false, upserts: older, deletes: [] }], offsets: [] });
      await sink.apply({
        tables: [{ schema: taken, truncate: false, upserts: rows, deletes: [], load: true }],
        offsets: [{ topic: `${pipeline}.x`, partition: 0, nextOffset: '9', truncateBarrier: null }],
      });
      const over = await cells(pgc, db, 'loaded_over');
      expect(over).toHaveLength(600);
      for (let i = 0; i < over.length; i++) expect(over[i], `row ${i + 1}`).toEqual(expected[i]);
      const offsets = await pgc.query(
        'SELECT next_offset::text AS n FROM ferry_offsets WHERE pipeline = $1 AND consumer_group = $2',
        [pipeline, ctx.group],
      );
      expect(offsets.rows).toEqual([{ n: '9' }]);
    } finally {
      await sink.close();
      await viaUnnest.close();
    }
  });

  it('rolls a failing COPY batch back whole, offsets included, and the next batch applies', async () => {
    const pipeline = uniqueName('pgcopyerr');
    const db = `${pipeline}_t`;
    const sink = new PostgresSink({ ...pgTarget(), copyThreshold: 1 });
    const ctx = { pipeline, group: `${pipeline}-g`, logger: quietLogger() };
    await sink.start(ctx);
    try {
      const s = schemaOf(db, 'items');
      await sink.ensureTable(s);
      const good = rowsOf(20);
      // jsonb rejects the escape \u0000: a data error at the server, inside the COPY path.
      const bad = [...good, { ...good[0]!, id: 999, j: '{"k": "\\u0000"}' }];
      await expect(
        sink.apply({
          tables: [{ schema: s, truncate: false, upserts: bad, deletes: [] }],
          offsets: [{ topic: `${pipeline}.x`, partition: 0, nextOffset: '21', truncateBarrier: null }],
        }),
      ).rejects.toMatchObject({ code: 'FERRY_APPLY' });
      expect((await pgc.query(`SELECT count(*)::int AS n FROM "${db}"."items"`)).rows).toEqual([{ n: 0 }]);
      await sink.apply({
        tables: [{ schema: s, truncate: false, upserts: good, deletes: [] }],
        offsets: [{ topic: `${pipeline}.x`, partition: 0, nextOffset: '21', truncateBarrier: null }],
      });
      expect((await pgc.query(`SELECT count(*)::int AS n FROM "${db}"."items"`)).rows).toEqual([{ n: 20 }]);
    } finally {
      await sink.close();
    }
  });
});
