/**
 * ferry verify with a PostgreSQL source against the sandbox: PostgreSQL -> PostgreSQL with the
 * edge values of the PostgreSQL source issue (NaN, ±Infinity, BC dates, 24:00, timetz,
 * intervals, arrays, enums, bit strings, jsonb…), and PostgreSQL -> MariaDB with the MySQL
 * sink's type mapping (boolean -> TINYINT(1), timestamptz -> DATETIME in UTC, uuid -> CHAR(36),
 * interval/timetz -> text, arrays and jsonb -> JSON), where arrays fall back to the client-side
 * comparison.
 */
import type { Connection } from 'mysql2/promise';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TablePair, type VerifyOptions, verify } from '../../src/verify/index.js';
import { mysqlRoot, pgFerry, uniqueName } from '../helpers/sandbox.js';
import { sandboxVerifyEndpoints as endpoints } from '../helpers/verify.js';

const FAST: Partial<VerifyOptions> = {
  chunkSize: 40,
  leafRows: 8,
  splitFactor: 4,
  recheck: { attempts: 1, delayMs: 10 },
};

const PG_EDGE = (mood: string) => `
  id bigint PRIMARY KEY,
  i2 smallint, i4 integer, i8 bigint,
  n numeric(40,10), nany numeric,
  r real, dp double precision,
  b boolean,
  tx text, vc varchar(20), ch char(5),
  by bytea, u uuid, js json, jb jsonb,
  d date, tm time(6), ttz timetz, ts timestamp(6), tstz timestamptz(6),
  iv interval,
  ia integer[], ta text[], tsa timestamptz[],
  en ${mood},
  bt bit(4), vb bit varying(8),
  ip inet`;

/** SQL literals of edge rows (the PostgreSQL source issue's values). */
const PG_EDGE_ROWS = [
  `(1, -32768, -2147483648, -9223372036854775808, 12345678901234567890.0123456789, 'NaN', 0.1, 0.1::float8 + 0.2::float8,
    true, E'h\\u00e9llo \\U0001F680 "q" \\\\ back\\nline', 'ÄÖÜ ñ 漢字', 'ab', '\\x00ff10', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
    '{"b": 1, "a": [1.50, 2e3, 12345678901234567890]}', '{"b": 1, "a": 1.50}', '2024-02-29', '23:59:59.999999',
    '12:34:56.789+05:30', '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.123456+02', '1 year 2 mons -3 days 04:05:06.789',
    '{1,NULL,3}', '{"a,b","c\\"d",NULL,"NULL",""}', '{"2024-01-02 03:04:05+02"}', 'happy', B'1010', B'101', '192.168.0.1/24')`,
  `(2, 32767, 2147483647, 9223372036854775807, -0.0000000001, 'Infinity', 'Infinity', '-Infinity',
    false, '', '', '', '\\x', '00000000-0000-0000-0000-000000000000', '[]', '{}', '0044-03-15 BC', '24:00:00',
    '00:00:00-08', '-infinity', 'infinity', '-00:00:00.5', '{}', '{}', '{}', 'sad', B'0000', B'', '::1')`,
  `(3, NULL, NULL, NULL, NULL, NULL, 'NaN', 'NaN', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
  `(4, 0, 0, 0, 0, 1.500, 1e-45, 5e-324, true, 'x', 'x', 'abcde', '\\xdeadbeef', 'ffffffff-ffff-ffff-ffff-ffffffffffff',
    '{"k":"v"}', '{"nested": {"a": [1, 2.0, null]}}', '9999-12-31', '00:00:00', '23:59:59+14:59',
    '1999-12-31 23:59:59.999999', '1970-01-01 00:00:00+00', '100:00:00', '{{1,2},{3,4}}', '{" spaced "}',
    '{NULL}', 'ok', B'1111', B'11111111', '10.0.0.0/8')`,
];

describe('verify PostgreSQL -> PostgreSQL (edge values)', () => {
  const src = uniqueName('vfy_src');
  const dst = uniqueName('vfy_dst');
  let client: pg.Client;

  beforeAll(async () => {
    client = await pgFerry();
    await client.query(`CREATE SCHEMA "${src}"`);
    await client.query(`CREATE SCHEMA "${dst}"`);
    await client.query(`CREATE TYPE "${src}".mood AS ENUM ('sad', 'ok', 'happy')`);
    await client.query(`CREATE TYPE "${dst}".mood AS ENUM ('sad', 'ok', 'happy')`);
    for (const table of ['edge', 'edge_diff']) {
      await client.query(`CREATE TABLE "${src}"."${table}" (${PG_EDGE(`"${src}".mood`)})`);
      await client.query(`INSERT INTO "${src}"."${table}" VALUES ${PG_EDGE_ROWS.join(', ')}`);
      await client.query(
        `INSERT INTO "${src}"."${table}" (id, i4, tx, ts, tstz, n, ta, en)
         SELECT g, g * 3, 'row ' || g, timestamp '2024-01-01' + g * interval '1 second 1 microsecond',
                timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute', g * 1.25, ARRAY['x' || g, NULL], 'ok'
           FROM generate_series(10, 200) g`,
      );
      await client.query(`CREATE TABLE "${dst}"."${table}" (${PG_EDGE(`"${dst}".mood`)})`);
      await client.query(
        `INSERT INTO "${dst}"."${table}" SELECT id, i2, i4, i8, n, nany, r, dp, b, tx, vc, ch, by, u, js, jb, d, tm, ttz, ts, tstz, iv,
                ia, ta, tsa, en::text::"${dst}".mood, bt, vb, ip FROM "${src}"."${table}"`,
      );
    }
  });

  afterAll(async () => {
    await client?.query(`DROP SCHEMA IF EXISTS "${src}" CASCADE`);
    await client?.query(`DROP SCHEMA IF EXISTS "${dst}" CASCADE`);
    await client?.end();
  });

  const pair = (table: string): TablePair => ({ source: { db: src, table }, target: { db: dst, table } });

  it('verifies equal tables equal, every column hashed inside the database', async () => {
    const e = endpoints();
    const report = await verify({ ...FAST, source: e.postgres, target: e.postgres, tables: [pair('edge')] });
    const t = report.tables[0]!;
    expect(t.error).toBeUndefined();
    expect({ different: t.different, missing: t.missing, extra: t.extra, notes: t.notes }).toEqual({
      different: [],
      missing: [],
      extra: [],
      notes: [],
    });
    expect(t).toMatchObject({ equal: true, method: 'checksum', mismatchedChunks: 0, sourceRows: 195, targetRows: 195 });
    expect(t.chunks).toBeGreaterThan(4);
  });

  it('finds changed array, interval, BC date, timetz and NaN values by key', async () => {
    await client.query(`UPDATE "${dst}"."edge_diff" SET ta = '{"a","b","c\\"d",NULL,"NULL",""}' WHERE id = 1`);
    await client.query(`UPDATE "${dst}"."edge_diff" SET iv = '-00:00:00.6', d = '0044-03-15' WHERE id = 2`);
    await client.query(`UPDATE "${dst}"."edge_diff" SET ttz = '23:59:59+14:58', nany = 0 WHERE id = 4`);
    await client.query(`UPDATE "${dst}"."edge_diff" SET r = 0 WHERE id = 3`);
    await client.query(`UPDATE "${dst}"."edge_diff" SET tx = 'row 150 ' WHERE id = 150`);
    const e = endpoints();
    const report = await verify({ ...FAST, source: e.postgres, target: e.postgres, tables: [pair('edge_diff')] });
    const t = report.tables[0]!;
    expect(t.equal).toBe(false);
    expect(t.different).toEqual([
      { key: { id: 1 }, columns: ['ta'] },
      { key: { id: 2 }, columns: ['d', 'iv'] },
      { key: { id: 3 }, columns: ['r'] },
      { key: { id: 4 }, columns: ['nany', 'ttz'] },
      { key: { id: 150 }, columns: ['tx'] },
    ]);
    expect(t.missing).toEqual([]);
    expect(t.extra).toEqual([]);
  });
});

/** The MySQL sink's mapping (connectors/mysql-sink/types.ts) of a PostgreSQL table. */
const PG_SOURCE = (schema: string) => `
  id integer PRIMARY KEY, dm "${schema}".posint, b boolean, u uuid, tstz timestamptz(6), ts timestamp(6), iv interval, ttz timetz,
  n numeric(12,3), bt bit(4), by bytea, tx text, d date, js json, nu numeric, cp char(5), jb jsonb, en text`;
const MARIADB_TARGET = `
  id INT NOT NULL PRIMARY KEY, dm INT NULL, b TINYINT(1) NULL, u CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NULL,
  tstz DATETIME(6) NULL, ts DATETIME(6) NULL, iv VARCHAR(64) NULL, ttz VARCHAR(32) NULL,
  n DECIMAL(12,3) NULL, bt BIT(4) NULL, \`by\` LONGBLOB NULL,
  tx LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NULL, d DATE NULL, js LONGTEXT NULL,
  nu DECIMAL(65,30) NULL, cp VARCHAR(5) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NULL, jb LONGTEXT NULL,
  en VARCHAR(255) NULL`;

/** Row i as [PostgreSQL literal values, MariaDB parameters] (what the sink would write). */
function crossRow(i: number): [string, unknown[]] {
  const frac = String(i * 37)
    .padStart(6, '0')
    .slice(-6);
  const pgRow = `(${i}, ${i * 3}, ${i % 2 === 0}, '${i.toString(16).padStart(8, '0').toUpperCase()}-0000-4000-8000-000000000000',
    '2024-05-06 07:08:09.${frac}+02', '2024-05-06 07:08:09.${frac}', '${i} days ${i % 24}:00:00.25', '10:00:00.5-0${i % 10}',
    ${i}.5, B'${(i % 16).toString(2).padStart(4, '0')}', '\\x${(i % 256).toString(16).padStart(2, '0')}ff', 'text ${i} ✓',
    '2024-01-${String((i % 28) + 1).padStart(2, '0')}', '{"i": ${i},  "s": "x"}', ${i}.5, 'c${i % 7}',
    '{"s": "x", "i": ${i}}', ${i % 5 === 0 ? 'NULL' : "'label'"})`;
  const myRow = [
    i,
    i * 3,
    i % 2 === 0 ? 1 : 0,
    `${i.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`,
    `2024-05-06 05:08:09.${frac}`,
    `2024-05-06 07:08:09.${frac}`,
    `P${i}DT${i % 24 === 0 ? '' : `${i % 24}H`}0.25S`,
    i % 10 === 0 ? '10:00:00.5+00:00' : `10:00:00.5-0${i % 10}:00`,
    `${i}.500`,
    i % 16,
    Buffer.from([i % 256, 0xff]),
    `text ${i} ✓`,
    `2024-01-${String((i % 28) + 1).padStart(2, '0')}`,
    `{"i": ${i},  "s": "x"}`,
    `${i}.500000000000000000000000000000`,
    `c${i % 7}`.padEnd(5, ' '),
    `{"i": ${i}, "s": "x"}`,
    i % 5 === 0 ? null : 'label',
  ];
  return [pgRow, myRow];
}

describe('verify PostgreSQL -> MariaDB', () => {
  const schema = uniqueName('vfy_pgsrc');
  const db = uniqueName('vfy_mytgt');
  let client: pg.Client;
  let my: Connection;

  beforeAll(async () => {
    client = await pgFerry();
    await client.query(`CREATE SCHEMA "${schema}"`);
    await client.query(`CREATE DOMAIN "${schema}".posint AS integer CHECK (VALUE > 0)`);
    my = await mysqlRoot();
    await my.query("SET time_zone = '+00:00'");
    await my.query(`CREATE DATABASE \`${db}\` CHARACTER SET utf8mb4`);
    for (const table of ['cross', 'cross_diff']) {
      await client.query(`CREATE TABLE "${schema}"."${table}" (${PG_SOURCE(schema)})`);
      await my.query(`CREATE TABLE \`${db}\`.\`${table}\` (${MARIADB_TARGET})`);
      for (let i = 1; i <= 120; i++) {
        const [pgRow, myRow] = crossRow(i);
        await client.query(`INSERT INTO "${schema}"."${table}" VALUES ${pgRow}`);
        await my.query(`INSERT INTO \`${db}\`.\`${table}\` VALUES (${myRow.map(() => '?').join(', ')})`, myRow);
      }
    }
    // Arrays land in MariaDB JSON (LONGTEXT) as canonical JSON arrays: no identical in-database form.
    await client.query(`CREATE TABLE "${schema}"."client" (id int PRIMARY KEY, ia integer[], jb jsonb)`);
    await client.query(
      `INSERT INTO "${schema}"."client" SELECT g, ARRAY[g, NULL, g * 2], jsonb_build_object('b', g, 'a', 1.50) FROM generate_series(1, 90) g`,
    );
    await my.query(
      `CREATE TABLE \`${db}\`.\`client\` (id INT NOT NULL PRIMARY KEY, ia LONGTEXT NULL, jb LONGTEXT NULL)`,
    );
    for (let g = 1; g <= 90; g++) {
      const ia = g === 45 ? `[${g},null,${g * 2 + 1}]` : `[${g},null,${g * 2}]`;
      await my.query(`INSERT INTO \`${db}\`.\`client\` VALUES (?, ?, ?)`, [g, ia, `{"a": 1.50, "b": ${g}}`]);
    }
    await my.query(`DELETE FROM \`${db}\`.\`client\` WHERE id = 60`);
  });

  afterAll(async () => {
    await client?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client?.end();
    await my?.query(`DROP DATABASE IF EXISTS \`${db}\``);
    await my?.end();
  });

  const pair = (table: string): TablePair => ({ source: { db: schema, table }, target: { db, table } });

  it('verifies equal tables equal with the sink type mapping, hashed inside both databases', async () => {
    const e = endpoints();
    const report = await verify({ ...FAST, source: e.postgres, target: e.mysql, tables: [pair('cross')] });
    const t = report.tables[0]!;
    expect({ different: t.different, missing: t.missing, extra: t.extra, notes: t.notes, error: t.error }).toEqual({
      different: [],
      missing: [],
      extra: [],
      notes: [
        'column nu (PostgreSQL numeric → MySQL decimal(65,30)): decimal scales differ, compared by value (trailing zeros ignored)',
      ],
      error: undefined,
    });
    expect(t).toMatchObject({ equal: true, method: 'checksum', mismatchedChunks: 0, sourceRows: 120 });
  });

  it('names a changed boolean, a shifted timestamptz and a missing row', async () => {
    await my.query(`UPDATE \`${db}\`.\`cross_diff\` SET b = 1 - b WHERE id = 7`);
    await my.query(`UPDATE \`${db}\`.\`cross_diff\` SET tstz = tstz + INTERVAL 1 HOUR WHERE id = 99`);
    await my.query(`DELETE FROM \`${db}\`.\`cross_diff\` WHERE id = 33`);
    const e = endpoints();
    const report = await verify({ ...FAST, source: e.postgres, target: e.mysql, tables: [pair('cross_diff')] });
    const t = report.tables[0]!;
    expect(t.different).toEqual([
      { key: { id: 7 }, columns: ['b'] },
      { key: { id: 99 }, columns: ['tstz'] },
    ]);
    expect(t.missing).toEqual([{ id: 33 }]);
    expect(t.extra).toEqual([]);
  });

  it('falls back to the client-side comparison for arrays stored as JSON, and still names the differences', async () => {
    const e = endpoints();
    const report = await verify({ ...FAST, source: e.postgres, target: e.mysql, tables: [pair('client')] });
    const t = report.tables[0]!;
    expect(t.method).toBe('client');
    // jsonb text lands in MariaDB as written, so jb is still hashed in the databases.
    expect(t.clientColumns).toEqual(['ia']);
    expect(t.different).toEqual([{ key: { id: 45 }, columns: ['ia'] }]);
    expect(t.missing).toEqual([{ id: 60 }]);
    expect(t.extra).toEqual([]);
    expect(t.chunks).toBeGreaterThan(2);
  });
});
