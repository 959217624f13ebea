/**
 * End to end through the REAL PostgreSQL source: WAL (pgoutput slot) -> source runtime -> Kafka
 * -> sink runtime -> MariaDB, and -> PostgreSQL. One source schema, two pipelines reading it at
 * the same time (their own slots, topics and consumer groups), both built by
 * src/pipeline/pipeline.ts from a pipeline config as `ferry run` does.
 *
 * Snapshot of seeded rows (every type of issue 4 with its edge values, TOASTed 200 kB texts, a
 * 350-row table read in several chunks while it changes), then a mixed workload while the
 * pipelines run: inserts, updates (some leaving the TOASTed column unchanged), deletes,
 * primary-key changes (of TOASTed rows too; composite text keys and odd identifiers included),
 * TRUNCATE followed by new rows, ALTER TABLE ADD COLUMN followed by rows using it, DROP COLUMN and
 * widened columns. The PostgreSQL -> PostgreSQL pipeline is stopped during the DDL and started
 * again. The verdict is verifyPipeline (the function behind `ferry verify`) once the sink applied
 * all of Kafka, plus values read from the targets directly.
 *
 * Documented limits are named expectations, not skips:
 * - values MariaDB cannot hold (docs/type-mapping.md: NaN and ±Infinity, ±infinity and BC dates,
 *   decimals DECIMAL(65,30) would round) live in `pg_only`: on PostgreSQL -> MariaDB its rows go
 *   to the dead-letter topic with the reason and verify names exactly those rows as missing; on
 *   PostgreSQL -> PostgreSQL it is equal;
 * `add_default` gets ADD COLUMN … DEFAULT: the rows that existed before hold the default in the
 * target too (docs/schema-changes.md), so it is equal on both routes.
 */
import type { Kafka } from 'kafkajs';
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/kafka/client.js';
import type { VerifyReport } from '../../src/verify/index.js';
import {
  deadLetterCount,
  deletePipelineTopics,
  dropPgSlot,
  type RunningPipeline,
  readDeadLetters,
  startPipeline,
  startRoute,
  summary,
  tableReport,
  until,
  waitForConvergence,
} from '../helpers/e2e.js';
import { PG_ALL_TYPES_COLUMNS as ALL_TYPES } from '../helpers/pg-columns.js';
import { getSandbox, pgFerry, pgSuper, uniqueName } from '../helpers/sandbox.js';
import { mariadb } from '../helpers/sink-harness.js';

/** Column -> SQL literal. Edge values of issue 4 that every target holds. */
type Row = Record<string, string>;

const R1: Row = {
  c_int2: '-32768',
  c_int4: '-2147483648',
  c_int8: '-9223372036854775808',
  c_num: '12345678901234567890.0123456789',
  c_num_any: '12345678901234567890.0123456789',
  c_real: '0.1',
  c_double: '0.1::float8 + 0.2::float8',
  c_bool: 'true',
  c_text: `E'h\\u00e9llo \\U0001F680 "q" \\\\ back\\nline'`,
  c_varchar: `'ÄÖÜ ñ 漢字'`,
  c_char: `'ab'`,
  c_bytea: `'\\x00ff10'::bytea`,
  c_uuid: `'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'`,
  c_json: `'{"b": 1, "a": [1.50, 2e3, 12345678901234567890]}'`,
  c_jsonb: `'{"b": 1, "a": 1.50}'`,
  c_date: `'2024-02-29'`,
  c_time: `'23:59:59.999999'`,
  c_timetz: `'12:34:56.789+05:30'`,
  c_ts: `'2024-01-02 03:04:05.123456'`,
  c_tstz: `'2024-01-02 03:04:05.123456+02'`,
  c_interval: `'1 year 2 mons -3 days 04:05:06.789'`,
  c_int_arr: `'{1,NULL,3}'`,
  c_text_arr: `'{"a,b","c\\"d",NULL,"NULL",""}'`,
  c_ts_arr: `'{"2024-01-01 00:00:00.000001+00"}'`,
  c_enum: `'happy'`,
  c_enum_arr: `'{sad,happy}'`,
  c_domain: '42',
  c_bit: `B'1010'`,
  c_varbit: `B'1'`,
  c_null: 'NULL',
};

const R2: Row = {
  c_int2: '32767',
  c_int4: '2147483647',
  c_int8: '9007199254740991',
  c_num: '-0.0000000001',
  c_num_any: '-0.000000000000000000000000000001',
  c_real: '3.4028235e38',
  c_double: '-0',
  c_bool: 'false',
  c_text: `''`,
  c_varchar: `'x'`,
  c_char: `'abcde'`,
  c_bytea: `''::bytea`,
  c_uuid: `'00000000-0000-0000-0000-000000000000'`,
  c_json: `'null'`,
  c_jsonb: `'[]'`,
  c_date: `'0001-01-01'`,
  c_time: `'00:00:00'`,
  c_timetz: `'00:00:00-08'`,
  c_ts: `'9999-12-31 23:59:59.999999'`,
  c_tstz: `'1970-01-01 00:00:00+00'`,
  c_interval: `'-1 days -00:00:00.000001'`,
  c_int_arr: `'{{1,2},{3,4}}'`,
  c_text_arr: `'{}'`,
  c_ts_arr: 'NULL',
  c_enum: `'sad'`,
  c_enum_arr: `'{}'`,
  c_domain: '1',
  c_bit: `B'0000'`,
  c_varbit: `B''`,
  c_null: 'NULL',
};

const R3: Row = {
  c_int8: '9223372036854775807',
  c_num: '0',
  c_num_any: '0',
  c_real: '-1.5',
  c_double: '1e-300',
  c_bool: 'NULL',
  c_text: `repeat('é', 3000)`,
  c_bytea: `'\\x000102ff'::bytea`,
  c_json: `'{"k":"\\u00e9"}'`,
  c_jsonb: `'{"k": 9007199254740993}'`,
  c_date: `'1999-12-31'`,
  c_time: `'24:00:00'`,
  c_timetz: `'23:59:59.999999+14'`,
  c_ts: `'2000-01-01 00:00:00'`,
  c_tstz: `'1999-12-31 23:59:59.999999-05'`,
  c_interval: `'0'`,
  c_text_arr: `ARRAY['🚀', ' sp ']`,
  c_ts_arr: `'{infinity,NULL}'`,
  c_enum_arr: `'{happy,NULL}'`,
  c_varbit: `B'10000001'`,
};

function insert(schema: string, id: number, row: Row): string {
  const cols = Object.keys(row);
  return `INSERT INTO "${schema}".all_types (id, ${cols.join(', ')}) VALUES (${id}, ${cols.map((k) => row[k]).join(', ')})`;
}

/** ~200 kB of barely compressible text: stored out of line (TOAST). */
const bigText = (seed: number) => `(SELECT string_agg(md5((g * ${seed})::text), '') FROM generate_series(1, 6400) g)`;

describe('end to end from PostgreSQL: PostgreSQL -> MariaDB and PostgreSQL -> PostgreSQL', () => {
  const schema = uniqueName('e2e_pg');
  const tgtSchema = `${schema}_tgt`;
  const kafka: Kafka = createKafka({ brokers: getSandbox().kafka.brokers, clientId: 'ferry-e2e-postgres' });
  let src: pg.Client;
  let my: mysql.Connection;
  let toMy: RunningPipeline;
  let toPg: RunningPipeline;
  const sql = (q: string) => src.query(q);

  beforeAll(async () => {
    src = await pgFerry();
    my = await mariadb();
    await sql(`CREATE SCHEMA "${schema}"`);
    await sql(`SET search_path = "${schema}"`);
    await sql("SET TIME ZONE 'UTC'");
    await sql(`CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')`);
    await sql('CREATE DOMAIN posint AS integer CHECK (VALUE > 0)');
    await sql(`CREATE TABLE all_types (${ALL_TYPES})`);
    await sql(insert(schema, 1, R1));
    await sql(insert(schema, 3, R3));
    await sql('INSERT INTO all_types (id) VALUES (4)');
    await sql(`CREATE TABLE pg_only (id int PRIMARY KEY, n numeric, r real, d double precision, dt date,
      ts timestamp, tstz timestamptz, big numeric)`);
    await sql(`INSERT INTO pg_only (id, n, r, d, dt, ts, tstz, big) VALUES
      (1, 'NaN', NULL, NULL, NULL, NULL, NULL, NULL),
      (2, 'Infinity', 'NaN', '-Infinity', NULL, NULL, NULL, NULL),
      (3, NULL, NULL, NULL, 'infinity', '-infinity', 'infinity', NULL),
      (4, NULL, NULL, NULL, '0044-03-15 BC', '0001-01-01 00:00:00 BC', NULL, NULL),
      (5, NULL, NULL, NULL, NULL, NULL, NULL, '0.1234567890123456789012345678901234'),
      (6, '1.5', '0.25', '2.5', '2024-01-01', '2024-01-01 00:00:00', '2024-01-01 00:00:00+00',
          '123456789012345678901234567890.5')`);
    await sql('CREATE TABLE docs (id int PRIMARY KEY, n int NOT NULL, body text)');
    await sql(`INSERT INTO docs VALUES (1, 0, ${bigText(1)})`);
    await sql('CREATE TABLE plain (id int PRIMARY KEY, v varchar(50) NOT NULL, n int)');
    await sql(`INSERT INTO plain SELECT g, 'row ' || g, g - 1 FROM generate_series(1, 30) g`);
    await sql('CREATE TABLE trunc (id int PRIMARY KEY, v varchar(20))');
    await sql(`INSERT INTO trunc SELECT g, 'old ' || g FROM generate_series(1, 10) g`);
    await sql('CREATE TABLE bulk (id int PRIMARY KEY, v varchar(20) NOT NULL, n int NOT NULL)');
    await sql(`INSERT INTO bulk SELECT g, 'b' || g, g FROM generate_series(1, 350) g`);
    await sql(`CREATE TABLE "Odd ""Name""" (k varchar(20) NOT NULL, "select" int NOT NULL, "Mixed Case" text,
      PRIMARY KEY (k, "select"))`);
    await sql(`INSERT INTO "Odd ""Name""" VALUES ('ä', 1, 'umlaut'), ('😀', 2, 'emoji'), ('a b', 3, 'space'),
      ('', 4, 'empty key'), ('q''uote', 5, 'quote'), ('A', 7, 'upper'), ('a', 7, 'lower')`);
    await sql('CREATE TABLE evolve (id int PRIMARY KEY, a int, s varchar(5), gone int NOT NULL)');
    await sql(`INSERT INTO evolve VALUES (1, 1, 'one', 1), (2, 2, 'two', 2), (3, NULL, NULL, 3)`);
    await sql('CREATE TABLE add_default (id int PRIMARY KEY, v varchar(10) NOT NULL)');
    await sql(`INSERT INTO add_default VALUES (1, 'one'), (2, 'two'), (3, 'three')`);

    toMy = startRoute('e2e-p2m', {
      source: 'postgres',
      sourceNamespace: schema,
      sink: 'mysql',
    });
    toPg = startRoute('e2e-p2p', {
      source: 'postgres',
      sourceNamespace: schema,
      sink: 'postgres',
      targetNamespace: tgtSchema,
    });

    // Phase 1, while the pipelines start and snapshot (these rows may land in the snapshots or
    // in the streams): row changes only.
    await sql(insert(schema, 2, R2));
    await sql(`INSERT INTO all_types SELECT (jsonb_populate_record(t, '{"id": 101}')).* FROM all_types t WHERE id = 1`);
    await sql(`INSERT INTO all_types (id, c_text) VALUES (1001, 'to be deleted')`);
    await sql(`INSERT INTO plain SELECT g, 'new ' || g, NULL FROM generate_series(31, 60) g`);
    await sql(`INSERT INTO docs VALUES (2, 0, ${bigText(7)}), (3, 0, 'small'), (4, 0, ${bigText(11)})`);
    await sql(`UPDATE trunc SET v = 'changed' WHERE id = 1`);
    // The snapshot reads `bulk` in 4 chunks of 100 rows; these may hit chunks read or not yet read.
    await sql('UPDATE bulk SET n = -n WHERE id % 7 = 0');
    await sql('DELETE FROM bulk WHERE id BETWEEN 100 AND 110');
    await sql(`INSERT INTO bulk SELECT g, 'b' || g, g FROM generate_series(351, 360) g`);

    // Phase 2, once both snapshots are done: everything below reaches the targets through the WAL.
    await until(
      'both snapshots',
      async () =>
        toMy.pipeline.sourceProgress()?.phase === 'stream' && toPg.pipeline.sourceProgress()?.phase === 'stream',
      // Two snapshots of a few hundred rows each: bounded, but minutes on a loaded machine.
      180_000,
      [toMy, toPg],
    );
    // Every edge value once more, as streamed inserts.
    await sql(`INSERT INTO all_types SELECT (jsonb_populate_record(t, jsonb_build_object('id', t.id + 10000))).*
      FROM all_types t`);
    await sql(`UPDATE all_types SET c_text = 'now set', c_num = '-1.5', c_tstz = '2038-01-19 03:14:07.999999+00',
      c_text_arr = '{x}', c_enum = 'ok' WHERE id = 4`);
    await sql(`UPDATE all_types SET c_jsonb = '{"z": [true, null]}', c_int_arr = '{7}', c_interval = '-2 hours',
      c_bytea = '\\x'::bytea, c_timetz = '01:02:03-01:30' WHERE id = 10001`);
    await sql('UPDATE all_types SET id = 202 WHERE id = 2');
    await sql('UPDATE all_types SET id = 20202 WHERE id = 10002');
    await sql('DELETE FROM all_types WHERE id IN (1001, 11001)');
    await sql('BEGIN');
    await sql(`UPDATE plain SET n = n * 10, v = v || ' ✎' WHERE id <= 10`);
    await sql('DELETE FROM plain WHERE id BETWEEN 11 AND 15');
    await sql('UPDATE plain SET id = 1000 WHERE id = 20');
    await sql(`INSERT INTO plain VALUES (61, 'in the transaction', 61)`);
    await sql('DELETE FROM plain WHERE id = 30');
    await sql(`INSERT INTO plain VALUES (30, 'reborn', 0)`);
    await sql('COMMIT');
    await sql('UPDATE plain SET id = id + 100 WHERE id BETWEEN 21 AND 25');
    await sql(`UPDATE bulk SET v = v || '+' WHERE id % 5 = 0`);
    await sql(`UPDATE "Odd ""Name""" SET "Mixed Case" = 'changed' WHERE k = '😀'`);
    await sql(`UPDATE "Odd ""Name""" SET k = 'é' WHERE k = 'ä'`);
    await sql(`DELETE FROM "Odd ""Name""" WHERE k = 'a b'`);
    await sql(`INSERT INTO "Odd ""Name""" VALUES ('Z', 6, NULL)`);
    await sql(`INSERT INTO pg_only (id, n, r, tstz) VALUES (11, '-Infinity', NULL, NULL), (12, NULL, 'Infinity', NULL),
      (13, NULL, NULL, '-infinity'), (16, '0.000001', '-0.5', '2000-01-01 00:00:00+00')`);
    // Only `n` changes: the events carry the TOASTed body as "unchanged"; the targets keep theirs.
    await sql('UPDATE docs SET n = n + 1');
    await sql(`UPDATE docs SET body = 'small, changed' WHERE id = 3`);
    // The PostgreSQL -> PostgreSQL pipeline stops here and starts again after the rest of the
    // workload: it resumes from its stored positions (slot and sink) across the DDL below.
    await toPg.stop();
    await sql(`UPDATE evolve SET a = 22, s = 'twice', gone = 0 WHERE id = 2`);
    await sql('TRUNCATE trunc');
    await sql(`INSERT INTO trunc VALUES (1, 'after'), (11, 'new'), (12, 'new')`);
    await sql(`UPDATE trunc SET v = 'after, updated' WHERE id = 11`);
    await sql('ALTER TABLE plain ADD COLUMN note varchar(20), ADD COLUMN amount numeric(12,4)');
    await sql(`INSERT INTO plain (id, v, n, note, amount) VALUES (2000, 'with note', 1, 'hello 👋', '-1.2500')`);
    await sql(`UPDATE plain SET note = 'noted', amount = 3 WHERE id = 1`);
    await sql(`UPDATE plain SET note = '' WHERE id = 2`);
    await sql(`UPDATE plain SET id = 2001, note = 'moved' WHERE id = 3`);
    await sql(`UPDATE docs SET n = 10 WHERE id = 1`);
    // Key changes of rows whose TOASTed body did not change: the WAL does not carry the body.
    await sql(`UPDATE docs SET id = 20 WHERE id = 2`);
    await sql('BEGIN');
    await sql(`UPDATE docs SET id = 40 WHERE id = 4`);
    await sql(`DELETE FROM docs WHERE id = 40`);
    await sql('COMMIT');
    await sql(`UPDATE all_types SET c_varchar = 'after alter' WHERE id = 202`);
    // Other schema changes: a column dropped (kept in the target, now NULL-able), columns widened.
    await sql('ALTER TABLE evolve DROP COLUMN gone, ALTER COLUMN a TYPE bigint, ALTER COLUMN s TYPE varchar(50)');
    await sql(`INSERT INTO evolve VALUES (4, 9007199254740993, 'a longer value than before')`);
    await sql(`UPDATE evolve SET a = -5000000000, s = 'widened 👍' WHERE id = 1`);
    // A column added with a DEFAULT: the WAL has no changes for the rows that already exist.
    await sql('ALTER TABLE add_default ADD COLUMN d int NOT NULL DEFAULT 7');
    await sql(`UPDATE add_default SET v = 'touched' WHERE id = 2`);
    await sql(`INSERT INTO add_default VALUES (4, 'new', 8)`);
    toPg = startPipeline(toPg.config);
  });

  afterAll(async () => {
    await Promise.all([toMy?.stop(), toPg?.stop()]);
    for (const r of [toMy, toPg].filter(Boolean)) {
      await dropPgSlot(r.config).catch(() => undefined);
      await deletePipelineTopics(kafka, r.config.name);
    }
    await src?.end();
    const admin = await pgSuper();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await admin.query(`DROP SCHEMA IF EXISTS "${tgtSchema}" CASCADE`).catch(() => undefined);
    await admin.end();
    await my?.query(`DROP DATABASE IF EXISTS \`${schema}\``).catch(() => undefined);
    await my?.end();
  });

  const table = (t: string) => `${schema}.${t}`;

  /** ADD COLUMN … DEFAULT: rows from before the ALTER hold the default in the target too. */
  const addDefaultEqual = (r: VerifyReport) => tableReport(r, table('add_default')).equal;
  const docsQuery = 'SELECT id, n, length(body) AS len, md5(body) AS md5 FROM $S.docs ORDER BY id';

  it('PostgreSQL -> MariaDB: every table equal, except the documented limits', async () => {
    const limits = [table('pg_only')];
    const accept = (r: VerifyReport) => {
      const lim = tableReport(r, table('pg_only'));
      return (
        r.tables.every((t) => t.equal || limits.includes(t.source)) &&
        addDefaultEqual(r) &&
        lim.missingCount === 8 &&
        lim.extraCount === 0 &&
        lim.differentCount === 0
      );
    };
    const { report } = await waitForConvergence(toMy, kafka, { accept });
    expect(summary(report)).toMatchObject(
      Object.fromEntries(
        ['all_types', 'bulk', 'docs', 'evolve', 'Odd "Name"', 'plain', 'trunc'].map((t) => [table(t), 'equal']),
      ),
    );
    expect(tableReport(report, table('add_default')).equal).toBe(true);
    // Documented limits of PostgreSQL -> MariaDB (docs/type-mapping.md): NaN, ±Infinity, ±infinity
    // and BC dates, decimals DECIMAL(65,30) would round go to the dead-letter topic with the reason.
    const lim = tableReport(report, table('pg_only'));
    expect(lim.missing.map((k) => k['id']).sort((a, b) => Number(a) - Number(b))).toEqual([1, 2, 3, 4, 5, 11, 12, 13]);
    const letters = await readDeadLetters(kafka, toMy.config.name, 8);
    const reasons = Object.fromEntries(
      letters.map((l) => [String(l.value?.after?.['id']), Object.values(l.headers).join(' ')]),
    );
    expect(Object.keys(reasons).sort()).toEqual(['1', '11', '12', '13', '2', '3', '4', '5']);
    expect(reasons['1']).toMatch(/DECIMAL cannot store NaN/);
    expect(reasons['2']).toMatch(/DECIMAL cannot store Infinity|cannot store the float NaN/);
    expect(reasons['3']).toMatch(/no infinite (dates|timestamps)/);
    expect(reasons['4']).toMatch(/years are limited to 0000\.\.9999/);
    expect(reasons['5']).toMatch(/does not fit decimal\(65,30\) exactly/);
    expect(reasons['12']).toMatch(/cannot store the float Infinity/);
    expect(await deadLetterCount(kafka, toMy.config.name)).toBe(8);

    // Spot checks on the target itself.
    const q = async (text: string) => (await my.query(text))[0];
    const docs = (await src.query(docsQuery.replace('$S', `"${schema}"`))).rows;
    expect(docs.map((d) => [d.id, d.n, d.len])).toEqual([
      [1, 10, 204800],
      [3, 1, 14],
      [20, 1, 204800],
    ]);
    expect(
      await q(
        `SELECT id, n, CAST(LENGTH(body) AS SIGNED) AS len, MD5(body) AS md5 FROM \`${schema}\`.docs ORDER BY id`,
      ),
    ).toEqual(docs.map((d) => ({ ...d, len: String(d.len) })));
    expect(
      await q(
        `SELECT id, v, n, note, amount FROM \`${schema}\`.plain WHERE id IN (1, 2, 3, 20, 61, 1000, 2000, 2001) ORDER BY id`,
      ),
    ).toEqual([
      { id: 1, v: 'row 1 ✎', n: 0, note: 'noted', amount: '3.0000' },
      { id: 2, v: 'row 2 ✎', n: 10, note: '', amount: null },
      { id: 61, v: 'in the transaction', n: 61, note: null, amount: null },
      { id: 1000, v: 'row 20', n: 19, note: null, amount: null },
      { id: 2000, v: 'with note', n: 1, note: 'hello 👋', amount: '-1.2500' },
      { id: 2001, v: 'row 3 ✎', n: 20, note: 'moved', amount: null },
    ]);
    // Keys that differ only by case are two rows in PostgreSQL; the sink's binary collation keeps them apart.
    expect(
      await q(`SELECT k, \`select\`, \`Mixed Case\` FROM \`${schema}\`.\`Odd "Name"\` ORDER BY \`select\`, k`),
    ).toEqual([
      { k: 'é', select: 1, 'Mixed Case': 'umlaut' },
      { k: '😀', select: 2, 'Mixed Case': 'changed' },
      { k: '', select: 4, 'Mixed Case': 'empty key' },
      { k: "q'uote", select: 5, 'Mixed Case': 'quote' },
      { k: 'Z', select: 6, 'Mixed Case': null },
      { k: 'A', select: 7, 'Mixed Case': 'upper' },
      { k: 'a', select: 7, 'Mixed Case': 'lower' },
    ]);
    expect(await q(`SELECT id, v FROM \`${schema}\`.trunc ORDER BY id`)).toEqual([
      { id: 1, v: 'after' },
      { id: 11, v: 'after, updated' },
      { id: 12, v: 'new' },
    ]);
    const r2 = {
      c_timetz: '00:00:00-08:00',
      c_interval: 'P-1DT-0.000001S',
      c_int_arr: '[[1,2],[3,4]]',
      c_enum: 'sad',
      c_tstz: '1970-01-01 00:00:00.000000',
      c_char: 'abcde',
      c_real: 3.4028234663852886e38,
    };
    expect(
      await q(
        `SELECT id, c_timetz, c_interval, CAST(c_int_arr AS CHAR) AS c_int_arr, c_enum, c_tstz, c_char, CAST(c_real AS DOUBLE) AS c_real
          FROM \`${schema}\`.all_types WHERE id IN (1, 2, 202, 10002, 20202) ORDER BY id`,
      ),
    ).toEqual([
      {
        id: 1,
        c_timetz: '12:34:56.789+05:30',
        c_interval: 'P1Y2M-3DT4H5M6.789S',
        c_int_arr: '[1,null,3]',
        c_enum: 'happy',
        c_tstz: '2024-01-02 01:04:05.123456',
        c_char: 'ab   ',
        c_real: 0.10000000149011612,
      },
      { id: 202, ...r2 },
      { id: 20202, ...r2 },
    ]);
  }, 300_000);

  it('PostgreSQL -> PostgreSQL: every table equal (pg_only included)', async () => {
    const accept = (r: VerifyReport) => r.tables.every((t) => t.equal) && addDefaultEqual(r);
    const { report } = await waitForConvergence(toPg, kafka, { accept });
    expect(summary(report)).toMatchObject(
      Object.fromEntries(
        ['all_types', 'bulk', 'docs', 'evolve', 'Odd "Name"', 'pg_only', 'plain', 'trunc'].map((t) => [
          table(t),
          'equal',
        ]),
      ),
    );
    expect(tableReport(report, table('add_default')).equal).toBe(true);
    expect(await deadLetterCount(kafka, toPg.config.name)).toBe(0);
    const both = async (text: string) => ({
      source: (await src.query(text.replaceAll('$S', `"${schema}"`))).rows,
      target: (await src.query(text.replaceAll('$S', `"${tgtSchema}"`))).rows,
    });
    // The TOASTed bodies, after updates of other columns and key changes.
    const docs = await both(docsQuery);
    expect(docs.target).toEqual(docs.source);
    expect(docs.target.map((d) => [d.id, d.n, d.len])).toEqual([
      [1, 10, 204800],
      [3, 1, 14],
      [20, 1, 204800],
    ]);
    const special = await both(
      'SELECT id, n::text, r::text, d::text, dt::text, ts::text, tstz::text FROM $S.pg_only ORDER BY id',
    );
    expect(special.target).toEqual(special.source);
    expect(special.target.slice(0, 4)).toEqual([
      { id: 1, n: 'NaN', r: null, d: null, dt: null, ts: null, tstz: null },
      { id: 2, n: 'Infinity', r: 'NaN', d: '-Infinity', dt: null, ts: null, tstz: null },
      { id: 3, n: null, r: null, d: null, dt: 'infinity', ts: '-infinity', tstz: 'infinity' },
      { id: 4, n: null, r: null, d: null, dt: '0044-03-15 BC', ts: '0001-01-01 00:00:00 BC', tstz: null },
    ]);
    const plain = await both(
      'SELECT id, v, n, note, amount::text FROM $S.plain WHERE id IN (3, 20, 2000, 2001) ORDER BY id',
    );
    expect(plain.target).toEqual([
      { id: 2000, v: 'with note', n: 1, note: 'hello 👋', amount: '-1.2500' },
      { id: 2001, v: 'row 3 ✎', n: 20, note: 'moved', amount: null },
    ]);
    // The dropped column stays in the target with the last value each row had before the DROP
    // (NULL for rows written after it), also when an image from before the DROP and one from after
    // it share a sink batch; the widened columns hold the new values.
    expect(
      (await src.query(`SELECT id, a::text, s, gone::text AS gone FROM "${tgtSchema}".evolve ORDER BY id`)).rows,
    ).toEqual([
      { id: 1, a: '-5000000000', s: 'widened 👍', gone: '1' },
      { id: 2, a: '22', s: 'twice', gone: '0' },
      { id: 3, a: null, s: null, gone: '3' },
      { id: 4, a: '9007199254740993', s: 'a longer value than before', gone: null },
    ]);
    const arrays = await both(
      'SELECT id, c_int_arr::text, c_text_arr::text, c_enum_arr::text, c_ts_arr::text FROM $S.all_types WHERE id IN (1, 3, 10003) ORDER BY id',
    );
    expect(arrays.target).toEqual(arrays.source);
  }, 300_000);
});
