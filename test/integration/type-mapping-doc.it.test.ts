/**
 * docs/type-mapping.md agrees with what ferry does: this test parses the mapping tables of the
 * doc (one per route) and, for every row, creates source columns of that row's types on the real
 * sandbox, runs the route end to end (real source, Kafka, real sink), and checks that
 * - the type of each target column the sink created is the one the row's target cell names
 *   (placeholders such as `p`, `s`, `n`, `fsp` bound to the source column's own numbers; "the
 *   same" means the source column's type);
 * - every value reads back equal (verifyPipeline, the function behind `ferry verify`), and on
 *   PostgreSQL -> PostgreSQL negative zero keeps its sign.
 * A doc row without a fixture here, or a fixture without its doc row, fails the test: the doc and
 * the test cannot drift apart.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/kafka/client.js';
import { projectRoot } from '../../src/sandbox/index.js';
import {
  deletePipelineTopics,
  dropPgSlot,
  type RunningPipeline,
  startRoute,
  tableReport,
  waitForConvergence,
} from '../helpers/e2e.js';
import { getSandbox, pgFerry, uniqueName } from '../helpers/sandbox.js';
import { mariadb } from '../helpers/sink-harness.js';

/** One source column: its declared type, SQL literals for its rows, and which target token of the row it must get. */
interface Col {
  type: string;
  values: string[];
  /** Index of the backticked type in the doc's target cell (`a` / `b`); default 0. */
  target?: number;
  /** In the key of the table. */
  key?: boolean;
}

type Route = 'm2p' | 'p2m' | 'p2p' | 'm2m';

const SECTIONS: Record<Route, string> = {
  m2p: 'MySQL/MariaDB → PostgreSQL',
  p2m: 'PostgreSQL → MySQL/MariaDB',
  p2p: 'PostgreSQL → PostgreSQL',
  m2m: 'MySQL/MariaDB → MySQL/MariaDB',
};

/** Fixtures per route, keyed by the doc row's source cell exactly as written. */
const FIXTURES: Record<Route, Record<string, Col[]>> = {
  m2p: {
    '`TINYINT(1)`, `BOOLEAN` (`int8`)': [
      { type: 'tinyint(1)', values: ['1', '0', '2'] },
      { type: 'boolean', values: ['-5', '1'] },
    ],
    '`TINYINT` [UNSIGNED] (`int8` / `int16`)': [
      { type: 'tinyint', values: ['-128', '127'] },
      { type: 'tinyint unsigned', values: ['255', '0'] },
    ],
    '`SMALLINT` (`int16`) / UNSIGNED (`int32`)': [
      { type: 'smallint', values: ['-32768'] },
      { type: 'smallint unsigned', values: ['65535'], target: 1 },
    ],
    '`MEDIUMINT` [UNSIGNED] (`int32`)': [
      { type: 'mediumint', values: ['-8388608'] },
      { type: 'mediumint unsigned', values: ['16777215'] },
    ],
    '`INT` (`int32`) / UNSIGNED (`int64`)': [
      { type: 'int', values: ['-2147483648'] },
      { type: 'int unsigned', values: ['4294967295'], target: 1 },
    ],
    '`BIGINT` (`int64`)': [{ type: 'bigint', values: ['-9223372036854775808'] }],
    '`BIGINT UNSIGNED` (`uint64`)': [{ type: 'bigint unsigned', values: ['18446744073709551615'] }],
    '`DECIMAL(p,s)` (`decimal`)': [{ type: 'decimal(12,4)', values: ["'-12345678.1234'"] }],
    '`FLOAT` / `DOUBLE`': [
      { type: 'float', values: ['0.1', '-3.4e38'] },
      { type: 'double', values: ['0.1', '1e-300'], target: 1 },
    ],
    '`CHAR(n)`, `VARCHAR(n)` (`string`)': [
      { type: 'char(5)', values: ["'ab'"] },
      { type: 'varchar(20)', values: ["'😀 ✓ x'"] },
    ],
    '`TINYTEXT` … `LONGTEXT`': [
      { type: 'tinytext', values: ["'t'"] },
      { type: 'longtext', values: ["'long text'"] },
    ],
    '`BINARY`, `VARBINARY`, `BLOB`s (`bytes`)': [
      { type: 'binary(3)', values: ["X'00ff01'"] },
      { type: 'varbinary(8)', values: ["X''"] },
      { type: 'blob', values: ["X'deadbeef'"] },
    ],
    '`JSON` (`json`)': [{ type: 'json', values: [`'{"b":1, "a":[1.10]}'`] }],
    '`ENUM(...)` (`enum`)': [{ type: "enum('a','b,c')", values: ["'b,c'"] }],
    '`SET(...)` (`set`)': [{ type: "set('x','y','z')", values: ["'x,z'", "''"] }],
    '`BIT(n)` (`bit`)': [{ type: 'bit(10)', values: ["b'1000000001'"] }],
    '`YEAR` (`year`)': [{ type: 'year', values: ['2155', '1901'] }],
    '`DATE` (`date`)': [{ type: 'date', values: ["'1000-01-01'", "'9999-12-31'"] }],
    '`TIME(fsp)` (`time`)': [{ type: 'time(6)', values: ["'23:59:59.999999'"] }],
    '`DATETIME(fsp)` (`timestamp`)': [{ type: 'datetime(3)', values: ["'2024-01-02 03:04:05.123'"] }],
    '`TIMESTAMP(fsp)` (`timestamptz`)': [{ type: 'timestamp(6) NULL', values: ["'2024-01-02 03:04:05.000001'"] }],
  },
  p2m: {
    '`boolean`': [{ type: 'boolean', values: ['true', 'false'] }],
    '`smallint` / `integer` / `bigint`': [
      { type: 'smallint', values: ['-32768'] },
      { type: 'integer', values: ['2147483647'], target: 1 },
      { type: 'bigint', values: ['-9223372036854775808'], target: 2 },
    ],
    '`numeric(p,s)` with p ≤ 65, s ≤ 30': [{ type: 'numeric(12,4)', values: ["'-12345678.1234'"] }],
    '`numeric` (unbounded, or p > 65 / s > 30)': [
      { type: 'numeric', values: ["'12345678901234567890.123456789'"] },
      { type: 'numeric(70,2)', values: ["'1.5'"] },
    ],
    '`real` / `double precision`': [
      { type: 'real', values: ['0.1'] },
      { type: 'double precision', values: ['0.1::float8 + 0.2::float8'], target: 1 },
    ],
    '`character varying(n)`, `character(n)`, n ≤ 255': [
      { type: 'character varying(20)', values: ["'ÄÖÜ'"] },
      { type: 'character(5)', values: ["'ab'"] },
    ],
    'longer `varchar(n)`, `text`': [
      { type: 'varchar(1000)', values: ["'x'"] },
      { type: 'varchar(20000)', values: ["'y'"], target: 1 },
      { type: 'text', values: [`'long'`], target: 2 },
    ],
    'key columns of text types': [{ type: 'text', values: ["'k1'", "'k2'"], key: true, target: 1 }],
    '`bytea`': [
      { type: 'bytea', values: ["'\\xdeadbeef'::bytea"] },
      { type: 'bytea', values: ["'\\x00'::bytea", "'\\x01'::bytea"], key: true, target: 1 },
    ],
    '`uuid`': [{ type: 'uuid', values: ["'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'"] }],
    '`json`, `jsonb`': [
      { type: 'json', values: [`'{"b":1, "a":2}'`] },
      { type: 'jsonb', values: [`'{"b":1}'`] },
    ],
    arrays: [{ type: 'integer[]', values: ["'{1,2,NULL}'"] }],
    'enum types': [{ type: 'mood', values: ["'ok'"] }],
    '`bit(n)`, n ≤ 64': [{ type: 'bit(10)', values: ["B'1000000001'"] }],
    '`bit varying(n)`, `bit(n > 64)`': [
      { type: 'bit varying(12)', values: ["B'101'"] },
      { type: 'bit(70)', values: [`B'${'1'.repeat(70)}'`] },
      { type: 'bit varying', values: ["B'0101'"], target: 2 },
    ],
    '`date`': [{ type: 'date', values: ["'0001-01-01'", "'9999-12-31'"] }],
    '`time(p)`': [{ type: 'time(3)', values: ["'23:59:59.999'", "'24:00:00'"] }],
    '`timetz`': [{ type: 'timetz', values: ["'12:34:56.5+02'"] }],
    '`timestamp(p)`': [{ type: 'timestamp(6)', values: ["'2024-01-02 03:04:05.123456'"] }],
    '`timestamptz(p)`': [{ type: 'timestamptz(6)', values: ["'2024-01-02 03:04:05.123456+02'"] }],
    '`interval`': [{ type: 'interval', values: ["'1 year 2 mons -3 days 04:05:06.789'"] }],
    '`inet`, `money`, other text-form types': [
      { type: 'inet', values: ["'192.168.0.1/24'"] },
      { type: 'money', values: ["'12.34'"] },
    ],
  },
  p2p: {
    '`smallint`, `integer`, `bigint`': [
      { type: 'smallint', values: ['-32768'] },
      { type: 'integer', values: ['2147483647'] },
      { type: 'bigint', values: ['-9223372036854775808'] },
    ],
    '`numeric(p,s)`, `numeric`': [
      { type: 'numeric(12,4)', values: ["'-12345678.1234'"] },
      { type: 'numeric', values: ["'NaN'", "'Infinity'", "'1e-40'"] },
    ],
    '`real`, `double precision`': [
      { type: 'real', values: ["'-0'", "'NaN'", '0.1'] },
      { type: 'double precision', values: ["'-0'", "'-Infinity'", '0.1::float8 + 0.2::float8'] },
    ],
    '`boolean`, `text`, `character varying(n)`, `character(n)`': [
      { type: 'boolean', values: ['true'] },
      { type: 'text', values: ["'text'"] },
      { type: 'character varying(7)', values: ["'vc'"] },
      { type: 'character(4)', values: ["'ab'"] },
    ],
    '`bytea`, `uuid`, `json`, `jsonb`': [
      { type: 'bytea', values: ["'\\x00ff'::bytea"] },
      { type: 'uuid', values: ["'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"] },
      { type: 'json', values: [`'{"b":1,  "a":2}'`] },
      { type: 'jsonb', values: [`'{"b":1}'`] },
    ],
    '`date`, `time(p)`, `time with time zone`, `timestamp(p)`, `timestamp with time zone`': [
      { type: 'date', values: ["'0044-03-15 BC'", "'infinity'"] },
      { type: 'time(3)', values: ["'24:00:00'"] },
      { type: 'time with time zone', values: ["'12:00:00+02'"] },
      { type: 'timestamp(2)', values: ["'-infinity'", "'2024-01-02 03:04:05.12'"] },
      { type: 'timestamp with time zone', values: ["'2024-01-02 03:04:05.123456+02'"] },
    ],
    '`interval`, `bit(n)`, `bit varying(n)`, `money`': [
      { type: 'interval', values: ["'1 year -2 days 00:00:01.5'"] },
      { type: 'bit(3)', values: ["B'101'"] },
      { type: 'bit varying(5)', values: ["B'11'"] },
      { type: 'money', values: ["'-1.25'"] },
    ],
    '`inet`, `cidr`, `macaddr`, `macaddr8`, `point`, `box`, `xml`, `tsvector`, `tsquery`, `oid`, `pg_lsn`': [
      { type: 'inet', values: ["'::1'"] },
      { type: 'cidr', values: ["'10.0.0.0/8'"] },
      { type: 'macaddr', values: ["'08:00:2b:01:02:03'"] },
      { type: 'macaddr8', values: ["'08:00:2b:01:02:03:04:05'"] },
      { type: 'point', values: ["'(1.5,2)'"] },
      { type: 'box', values: ["'(1,1),(0,0)'"] },
      { type: 'xml', values: ["'<a>x</a>'"] },
      { type: 'tsvector', values: ["'a fat cat'"] },
      { type: 'tsquery', values: ["'fat & cat'"] },
      { type: 'oid', values: ['4294967295'] },
      { type: 'pg_lsn', values: ["'16/B374D848'"] },
    ],
    '`int4range`, `numrange`, `tstzrange`, `daterange`': [
      { type: 'int4range', values: ["'[1,5)'"] },
      { type: 'numrange', values: ["'(1.5,2.5]'"] },
      { type: 'tstzrange', values: ["'[2024-01-01 00:00:00+00,)'"] },
      { type: 'daterange', values: ["'empty'"] },
    ],
    'arrays: `integer[]`, `text[]`, `numeric(p,s)[]`': [
      { type: 'integer[]', values: ["'{{1,2},{3,NULL}}'"] },
      { type: 'text[]', values: [`'{"a b",NULL,""}'`] },
      { type: 'numeric(5,2)[]', values: ["'{1.50,-2.25}'"] },
    ],
    'user ENUM type, domain over text': [
      { type: 'mood', values: ["'happy'"] },
      { type: 'label', values: ["'x'"] },
    ],
    '`interval` with fields (`interval hour to minute`)': [{ type: 'interval hour to minute', values: ["'01:02'"] }],
  },
  m2m: {
    '`tinyint`, `smallint`, `mediumint`, `int`, `bigint`, signed or `unsigned`; `tinyint(1)`': [
      { type: 'tinyint', values: ['-128'] },
      { type: 'tinyint unsigned', values: ['255'] },
      { type: 'tinyint(1)', values: ['2'] },
      { type: 'smallint unsigned', values: ['65535'] },
      { type: 'mediumint', values: ['-8388608'] },
      { type: 'int unsigned', values: ['4294967295'] },
      { type: 'int', values: ['-2147483648'] },
      { type: 'bigint unsigned', values: ['18446744073709551615'] },
      { type: 'bigint', values: ['-9223372036854775808'] },
    ],
    '`decimal(p,s)`, `float`, `double`': [
      { type: 'decimal(65,30)', values: ["'-12345678901234567890123456789012345.123456789012345678901234567890'"] },
      { type: 'float', values: ['0.1'] },
      { type: 'double', values: ['1e-300'] },
    ],
    '`char(n)`, `varchar(n)`, `tinytext`, `text`, `mediumtext`, `longtext`': [
      { type: 'char(5)', values: ["'ab'"] },
      { type: 'varchar(300)', values: ["'😀'"] },
      { type: 'tinytext', values: ["'t'"] },
      { type: 'text', values: ["'t'"] },
      { type: 'mediumtext', values: ["'m'"] },
      { type: 'longtext', values: ["'l'"] },
    ],
    '`binary(n)`, `varbinary(n)`, `tinyblob`, `blob`, `mediumblob`, `longblob`': [
      { type: 'binary(3)', values: ["X'00ff01'"] },
      { type: 'varbinary(8)', values: ["X''"] },
      { type: 'tinyblob', values: ["X'01'"] },
      { type: 'blob', values: ["X'02'"] },
      { type: 'mediumblob', values: ["X'03'"] },
      { type: 'longblob', values: ["X'04'"] },
    ],
    '`enum(...)`, `set(...)`': [
      { type: "enum('a','b,c')", values: ["'b,c'"] },
      { type: "set('x','y','z')", values: ["'x,z'"] },
    ],
    '`bit(n)`, `year`, `date`, `time(fsp)`, `datetime(fsp)`': [
      { type: 'bit(10)', values: ["b'1000000001'"] },
      { type: 'year', values: ['1901'] },
      { type: 'date', values: ["'0000-00-00'", "'2024-02-29'"] },
      { type: 'time(6)', values: ["'-838:59:59.000000'"] },
      { type: 'datetime(6)', values: ["'9999-12-31 23:59:59.999999'"] },
    ],
    '`timestamp(fsp)`': [{ type: 'timestamp(6) NULL', values: ["'2024-01-02 03:04:05.000001'"] }],
    '`json`': [{ type: 'json', values: [`'{"b":1, "a":1.10}'`] }],
  },
};

interface DocRow {
  source: string;
  target: string;
}

/** The mapping table under `## <section>` in docs/type-mapping.md. */
function docRows(section: string): DocRow[] {
  const text = readFileSync(join(projectRoot(), 'docs', 'type-mapping.md'), 'utf8');
  const start = text.indexOf(`\n## ${section}\n`);
  if (start < 0) throw new Error(`docs/type-mapping.md has no section "${section}"`);
  const end = text.indexOf('\n## ', start + 4);
  const body = text.slice(start, end < 0 ? undefined : end);
  const rows: DocRow[] = [];
  for (const line of body.split('\n')) {
    if (!line.startsWith('|') || /^\|\s*-/.test(line)) continue;
    const cells = line
      .slice(1, -1)
      .split(' | ')
      .map((c) => c.trim());
    if (cells[0]?.startsWith('Source')) continue;
    rows.push({ source: cells[0]!, target: cells[1]! });
  }
  return rows;
}

/** Lowercase, single spaces; MySQL integer display widths dropped except `tinyint(1)`. */
function normalise(type: string): string {
  const t = type
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/ null$/, '')
    .trim();
  return t.replace(/^(smallint|mediumint|int|bigint|tinyint)\((\d+)\)/, (m, base: string, w: string) =>
    base === 'tinyint' && w === '1' ? m : base,
  );
}

/** Does `actual` (the created target type) match the doc's target token, placeholders bound to the source type? */
function matches(token: string, actual: string, sourceType: string): boolean {
  const numbers = [...normalise(sourceType).matchAll(/\d+/g)].map((m) => m[0]);
  let i = 0;
  const pattern = normalise(token)
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace(/\b(fsp|p|s|n)\b/g, () => (numbers[i] !== undefined ? numbers[i++]! : '\\d+'));
  return new RegExp(`^${pattern}$`).test(normalise(actual));
}

function expectedType(row: DocRow, col: Col): string | null {
  if (row.target === 'the same') return null;
  const tokens = [...row.target.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
  const token = tokens[col.target ?? 0];
  if (!token) throw new Error(`the doc row "${row.source}" has no target type #${col.target ?? 0}`);
  return token;
}

describe('docs/type-mapping.md agrees with what the sinks create and read back', () => {
  const kafka: Kafka = createKafka({ brokers: getSandbox().kafka.brokers, clientId: 'ferry-type-mapping' });
  let my: mysql.Connection;
  let pgc: pg.Client;
  const runs: RunningPipeline[] = [];

  beforeAll(async () => {
    my = await mariadb();
    pgc = await pgFerry();
  });
  afterAll(async () => {
    for (const r of runs) {
      await r.stop();
      await dropPgSlot(r.config).catch(() => undefined);
      await deletePipelineTopics(kafka, r.config.name);
    }
    await my?.end();
    await pgc?.end();
  });

  /** Source and target column types, by column name. */
  async function columnTypes(engine: 'mysql' | 'postgres', ns: string, table: string): Promise<Map<string, string>> {
    if (engine === 'postgres') {
      const r = await pgc.query<{ name: string; type: string }>(
        `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a
         WHERE a.attrelid = format('%I.%I', $1::text, $2::text)::regclass AND a.attnum > 0 AND NOT a.attisdropped`,
        [ns, table],
      );
      return new Map(r.rows.map((x) => [x.name, x.type]));
    }
    const [rows] = await my.query(
      'SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
      [ns, table],
    );
    const [[create]] = (await my.query(`SHOW CREATE TABLE \`${ns}\`.\`${table}\``)) as unknown as [
      Array<Record<string, string>>,
    ];
    const ddl = String(create?.['Create Table'] ?? '');
    // MariaDB's JSON is LONGTEXT with a JSON_VALID check.
    return new Map(
      (rows as Array<{ name: string; type: string }>).map((x) => [
        x.name,
        x.type === 'longtext' && ddl.includes(`json_valid(\`${x.name}\`)`) ? 'json' : x.type,
      ]),
    );
  }

  const cases: Array<[Route, 'mysql' | 'postgres', 'mysql' | 'postgres']> = [
    ['m2p', 'mysql', 'postgres'],
    ['p2m', 'postgres', 'mysql'],
    ['p2p', 'postgres', 'postgres'],
    ['m2m', 'mysql', 'mysql'],
  ];

  for (const [route, source, sink] of cases) {
    it(`type mapping doc: ${SECTIONS[route]} — every row of the table holds`, async () => {
      const rows = docRows(SECTIONS[route]);
      const fixtures = FIXTURES[route];
      expect(rows.map((r) => r.source).sort(), 'doc rows vs fixtures').toEqual(Object.keys(fixtures).sort());

      const ns = uniqueName(`tmap_${route}`);
      const targetNs = source === sink ? `${ns}_tgt` : undefined;
      const plain: Array<{ name: string; col: Col; row: DocRow }> = [];
      const keyed: Array<{ name: string; col: Col; row: DocRow }> = [];
      for (const row of rows) {
        fixtures[row.source]!.forEach((col, i) => {
          const name = `c${plain.length + keyed.length}_${i}`;
          (col.key ? keyed : plain).push({ name, col, row });
        });
      }
      const q = (n: string) => (source === 'mysql' ? `\`${n}\`` : `"${n}"`);
      const exec = async (sql: string) => {
        if (source === 'mysql') await my.query(sql);
        else await pgc.query(sql);
      };
      if (source === 'mysql') await exec(`CREATE DATABASE ${q(ns)}`);
      else {
        await exec(`CREATE SCHEMA ${q(ns)}`);
        await exec(`CREATE TYPE ${q(ns)}.mood AS ENUM ('sad', 'ok', 'happy')`);
        await exec(`CREATE DOMAIN ${q(ns)}.label AS text CHECK (VALUE <> '')`);
        await exec(`SET search_path = ${q(ns)}, public`);
      }
      const tables: Array<{ table: string; cols: typeof plain }> = [{ table: 't', cols: plain }];
      if (keyed.length > 0) tables.push({ table: 't_key', cols: keyed });
      for (const { table, cols } of tables) {
        const keyCols = table === 't_key' ? cols.map((c) => q(c.name)) : [q('id')];
        const defs = cols.map((c) => `${q(c.name)} ${c.col.type}${c.col.key ? ' NOT NULL' : ''}`);
        await exec(
          `CREATE TABLE ${q(ns)}.${q(table)} (id int NOT NULL, ${defs.join(', ')}, PRIMARY KEY (${keyCols.join(', ')}))`,
        );
        const count = Math.max(...cols.map((c) => c.col.values.length));
        for (let r = 0; r < count; r++) {
          const values = cols.map((c) => c.col.values[r] ?? (c.col.key ? c.col.values[0]! : 'NULL'));
          await exec(`INSERT INTO ${q(ns)}.${q(table)} VALUES (${r + 1}, ${values.join(', ')})`);
        }
      }

      const run = startRoute(`tmap-${route}`, {
        source,
        sourceNamespace: ns,
        sink,
        ...(targetNs ? { targetNamespace: targetNs, metaDatabase: `${ns}_meta` } : {}),
      });
      runs.push(run);
      try {
        const { report } = await waitForConvergence(run, kafka, { timeoutMs: 90_000 });
        for (const { table } of tables) expect(tableReport(report, `${ns}.${table}`).equal, table).toBe(true);

        const problems: string[] = [];
        for (const { table, cols } of tables) {
          const sourceTypes = await columnTypes(source, ns, table);
          const targetTypes = await columnTypes(sink, targetNs ?? ns, table);
          for (const { name, col, row } of cols) {
            const actual = targetTypes.get(name) ?? '(missing)';
            const sourceType = sourceTypes.get(name) ?? col.type;
            const token = expectedType(row, col);
            const ok =
              token === null ? normalise(actual) === normalise(sourceType) : matches(token, actual, sourceType);
            if (!ok) {
              problems.push(`${row.source}: source ${sourceType} -> ${actual}, doc says ${token ?? 'the same'}`);
            }
          }
        }
        expect(problems).toEqual([]);

        if (route === 'p2p') {
          // Negative zero keeps its sign (verify compares -0 and 0 as equal).
          const real = plain.find((c) => c.col.type === 'real')!.name;
          const dbl = plain.find((c) => c.col.type === 'double precision')!.name;
          const r = await pgc.query(
            `SELECT "${real}"::text AS r, "${dbl}"::text AS d FROM "${targetNs}".t WHERE id = 1`,
          );
          expect(r.rows[0]).toEqual({ r: '-0', d: '-0' });
        }
      } finally {
        await run.stop();
      }
    });
  }
});
