/**
 * ferry verify across engines against the sandbox: a MariaDB edge-value table and the
 * PostgreSQL table a sink would create for it (docs/type-mapping.md of the PostgreSQL sink),
 * filled with the same values, verify equal; one changed value, one missing row and one extra
 * row are each found and named by key. MariaDB -> MariaDB too.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import type { Connection } from 'mysql2/promise';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FerryError } from '../../src/api/errors.js';
import { registerVerify } from '../../src/cli/commands/verify.js';
import { configFromObject } from '../../src/config/index.js';
import { mysqlNormaliseFloat, postgresNormaliseFloat } from '../../src/verify/canonical-sql.js';
import { type TablePair, type VerifyOptions, verify, verifyPipeline } from '../../src/verify/index.js';
import { getSandbox, mysqlRoot, pgFerry, uniqueName } from '../helpers/sandbox.js';
import { dropAndClose, sandboxVerifyEndpoints as endpoints, tablePairIn } from '../helpers/verify.js';

const MARIADB_EDGE = `
  id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  u64 BIGINT UNSIGNED NULL, i64 BIGINT NULL, tiny TINYINT NULL, flag TINYINT(1) NULL, small_u SMALLINT UNSIGNED NULL,
  dec65 DECIMAL(65,30) NULL, dec2 DECIMAL(10,2) NULL,
  f32 FLOAT NULL, f64 DOUBLE NULL,
  dt6 DATETIME(6) NULL, dt0 DATETIME NULL, ts6 TIMESTAMP(6) NULL, d DATE NULL, t6 TIME(6) NULL, y YEAR NULL,
  s VARCHAR(100) NULL, c CHAR(10) NULL, txt TEXT NULL,
  bin VARBINARY(16) NULL, blb BLOB NULL,
  j JSON NULL,
  e ENUM('small','medium','large') NULL, st SET('a','b','c') NULL,
  b10 BIT(10) NULL, b1 BIT(1) NULL,
  uid CHAR(36) NULL`;

/** The PostgreSQL sink's mapping of the columns above (connectors/postgres-sink/types.ts). */
const POSTGRES_EDGE = `
  id numeric(20,0) NOT NULL PRIMARY KEY,
  u64 numeric(20,0), i64 bigint, tiny smallint, flag smallint, small_u integer,
  dec65 numeric(65,30), dec2 numeric(10,2),
  f32 real, f64 double precision,
  dt6 timestamp(6), dt0 timestamp(0), ts6 timestamptz(6), d date, t6 time(6), y smallint,
  s varchar(100), c varchar(10), txt text,
  bin bytea, blb bytea,
  j json,
  e text, st text[],
  b10 bit(10), b1 bit(1),
  uid varchar(36)`;

const COLUMNS = [
  'id',
  'u64',
  'i64',
  'tiny',
  'flag',
  'small_u',
  'dec65',
  'dec2',
  'f32',
  'f64',
  'dt6',
  'dt0',
  'ts6',
  'd',
  't6',
  'y',
  's',
  'c',
  'txt',
  'bin',
  'blb',
  'j',
  'e',
  'st',
  'b10',
  'b1',
  'uid',
] as const;

type Row = Partial<Record<(typeof COLUMNS)[number], unknown>>;

const EDGE_ROWS: Row[] = [
  {
    id: '1',
    u64: '18446744073709551615',
    i64: '-9223372036854775808',
    tiny: -128,
    flag: 1,
    small_u: 65535,
    dec65: '12345678901234567890123456789012345.123456789012345678901234567890',
    dec2: '1.50',
    f32: 0.1,
    f64: 0.1 + 0.2,
    dt6: '2024-01-02 03:04:05.123456',
    dt0: '2024-02-29 23:59:59',
    ts6: '2038-01-19 03:14:07.999999',
    d: '2024-02-29',
    t6: '23:59:59.999999',
    y: 2024,
    s: 'héllo 😀 "q" \\ back',
    c: 'abc',
    txt: 'emoji 🎉 and ünïcödé',
    bin: Buffer.from([0x00, 0x01, 0xff]),
    blb: Buffer.from('blob \u0000 with nul', 'utf8'),
    j: '{"b":1,  "a":1.10, "big": 12345678901234567890}',
    e: 'medium',
    st: 'a,c',
    b10: 0b1000000001,
    b1: 1,
    uid: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  },
  {
    id: '2',
    u64: '0',
    i64: '9223372036854775807',
    tiny: 127,
    flag: 0,
    small_u: 0,
    dec65: '-0.000000000000000000000000000001',
    dec2: '-0.50',
    f32: 3.4028234663852886e38,
    f64: -2.5e100,
    dt6: '2024-01-02 03:04:05.000000',
    dt0: '1000-01-01 00:00:00',
    ts6: '2024-01-02 03:04:05.000000',
    d: '1000-01-01',
    t6: '00:00:00.000000',
    y: 1901,
    s: '',
    c: '',
    txt: '',
    bin: Buffer.alloc(0),
    blb: Buffer.alloc(0),
    j: '[]',
    e: 'small',
    st: '',
    b10: 0,
    b1: 0,
    uid: '00000000-0000-0000-0000-000000000000',
  },
  { id: '3' },
  {
    id: '18446744073709551615',
    u64: '9007199254740993',
    i64: '-1',
    f32: 16777216,
    f64: 1e20,
    dec2: '99999999.99',
    dt6: '9999-12-31 23:59:59.999999',
    ts6: '1970-01-01 00:00:01.000000',
    d: '9999-12-31',
    t6: '00:00:00.000001',
    y: 2155,
    s: 'last',
    j: '{"nested": {"k": [1, 2, {"x": null}]}}',
    e: 'large',
    st: 'a,b,c',
    b10: 0b1111111111,
  },
];

/** Plain rows to make several chunks: ids 100..399 with values derived from the id. */
function plainRows(): Row[] {
  return Array.from({ length: 300 }, (_, i) => {
    const n = 100 + i;
    return {
      id: String(n),
      u64: String(BigInt(n) * 1_000_000_007n),
      i64: String(-n),
      tiny: n % 100,
      flag: n % 2,
      dec65: `${n}.${String(n).padStart(30, '0')}`,
      dec2: `${n}.${String(n % 100).padStart(2, '0')}`,
      f32: n / 3,
      f64: n / 7,
      dt6: `2024-03-${String((n % 28) + 1).padStart(2, '0')} 10:11:12.${String(n * 1000)
        .padStart(6, '0')
        .slice(-6)}`,
      ts6: `2023-06-${String((n % 28) + 1).padStart(2, '0')} 01:02:03.${String(n).padStart(6, '0')}`,
      d: `2020-01-${String((n % 28) + 1).padStart(2, '0')}`,
      t6: `${String(n % 24).padStart(2, '0')}:30:00.5`,
      small_u: n * 100,
      dt0: `2021-05-${String((n % 28) + 1).padStart(2, '0')} 00:00:${String(n % 60).padStart(2, '0')}`,
      y: 1901 + (n % 250),
      txt: `text for ${n}`,
      blb: Buffer.from(`blob ${n}`),
      s: `row ${n} ✓`,
      c: `c${n}`,
      bin: Buffer.from([n & 0xff, (n >> 8) & 0xff]),
      j: `{"n": ${n}}`,
      e: ['small', 'medium', 'large'][n % 3],
      st: ['a', 'b', 'c', 'a,b'][n % 4],
      b10: n % 1024,
      b1: n % 2,
      uid: `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`,
    };
  });
}

const ALL_ROWS = [...EDGE_ROWS, ...plainRows()];

function mysqlValue(v: unknown): unknown {
  return v === undefined ? null : v;
}

function postgresValue(column: string, v: unknown): unknown {
  if (v === undefined || v === null) return null;
  switch (column) {
    case 'ts6':
      return `${v as string}+00`;
    case 'st':
      return (v as string) === '' ? [] : (v as string).split(',');
    case 'b10':
      return (v as number).toString(2).padStart(10, '0');
    case 'b1':
      return String(v);
    case 'f32':
    case 'f64':
      return String(v);
    default:
      return v;
  }
}

async function insertMysql(conn: Connection, table: string, rows: Row[]): Promise<void> {
  const cols = COLUMNS.map((c) => `\`${c}\``).join(', ');
  for (const row of rows) {
    await conn.query(
      `INSERT INTO ${table} (${cols}) VALUES (${COLUMNS.map(() => '?').join(', ')})`,
      COLUMNS.map((c) => mysqlValue(row[c])),
    );
  }
}

async function insertPostgres(client: pg.Client, table: string, rows: Row[]): Promise<void> {
  const cols = COLUMNS.map((c) => `"${c}"`).join(', ');
  for (const row of rows) {
    await client.query(
      `INSERT INTO ${table} (${cols}) VALUES (${COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`,
      COLUMNS.map((c) => postgresValue(c, row[c])),
    );
  }
}

const FAST: Pick<VerifyOptions, 'chunkSize' | 'leafRows' | 'splitFactor' | 'recheck'> = {
  chunkSize: 50,
  leafRows: 8,
  splitFactor: 4,
  recheck: { attempts: 1, delayMs: 10 },
};

describe('verify MariaDB -> PostgreSQL (edge values)', () => {
  const db = uniqueName('vfy');
  let my: Connection;
  let pgc: pg.Client;

  beforeAll(async () => {
    my = await mysqlRoot();
    await my.query("SET time_zone = '+00:00'");
    await my.query(`CREATE DATABASE \`${db}\` CHARACTER SET utf8mb4`);
    for (const t of ['edge', 'edge_diff', 'edge_cols']) {
      await my.query(`CREATE TABLE \`${db}\`.\`${t}\` (${MARIADB_EDGE}) CHARACTER SET utf8mb4`);
      await insertMysql(my, `\`${db}\`.\`${t}\``, ALL_ROWS);
    }
    await my.query(`CREATE TABLE \`${db}\`.\`edge_copy\` LIKE \`${db}\`.\`edge\``);
    await my.query(`INSERT INTO \`${db}\`.\`edge_copy\` SELECT * FROM \`${db}\`.\`edge\``);
    pgc = await pgFerry();
    await pgc.query(`CREATE SCHEMA "${db}"`);
    for (const t of ['edge', 'edge_diff', 'edge_cols']) {
      await pgc.query(`CREATE TABLE "${db}"."${t}" (${POSTGRES_EDGE})`);
      await insertPostgres(pgc, `"${db}"."${t}"`, ALL_ROWS);
    }
  });

  afterAll(() => dropAndClose(my, pgc, db));

  const pair = tablePairIn(db);

  it('verifies equal tables equal, every column hashed inside both databases', async () => {
    const e = endpoints();
    const report = await verify({ ...FAST, source: e.mysql, target: e.postgres, tables: [pair('edge')] });
    const t = report.tables[0]!;
    expect(t.error).toBeUndefined();
    expect({ missing: t.missing, extra: t.extra, different: t.different, notes: t.notes }).toEqual({
      missing: [],
      extra: [],
      different: [],
      notes: [],
    });
    expect(t).toMatchObject({
      equal: true,
      method: 'checksum',
      sourceRows: ALL_ROWS.length,
      targetRows: ALL_ROWS.length,
    });
    expect(t.chunks).toBeGreaterThan(5);
    expect(t.mismatchedChunks).toBe(0);
    expect(report.equal).toBe(true);
  });

  it('verifies MariaDB -> MariaDB equal', async () => {
    const e = endpoints();
    const report = await verify({ ...FAST, source: e.mysql, target: e.mysql, tables: [pair('edge', 'edge_copy')] });
    expect(report.tables[0]).toMatchObject({ equal: true, method: 'checksum', mismatchedChunks: 0, notes: [] });
  });

  it('names the changed value, the missing row and the extra row by key', async () => {
    await pgc.query(`UPDATE "${db}"."edge_diff" SET dec2 = 1.51 WHERE id = 150`);
    await pgc.query(`UPDATE "${db}"."edge_diff" SET ts6 = ts6 + interval '1 microsecond' WHERE id = 1`);
    await pgc.query(`DELETE FROM "${db}"."edge_diff" WHERE id = 275`);
    await pgc.query(`INSERT INTO "${db}"."edge_diff" (id, s) VALUES (1000, 'extra')`);
    const e = endpoints();
    const report = await verify({ ...FAST, source: e.mysql, target: e.postgres, tables: [pair('edge_diff')] });
    const t = report.tables[0]!;
    expect(report.equal).toBe(false);
    expect(t.equal).toBe(false);
    expect(t.missing).toEqual([{ id: 275 }]);
    expect(t.extra).toEqual([{ id: 1000 }]);
    expect(t.different).toEqual([
      { key: { id: 1 }, columns: ['ts6'] },
      { key: { id: 150 }, columns: ['dec2'] },
    ]);
    expect({ missing: t.missingCount, extra: t.extraCount, different: t.differentCount }).toEqual({
      missing: 1,
      extra: 1,
      different: 2,
    });
    expect(t.mismatchedChunks).toBeGreaterThanOrEqual(3);
  });

  const pipeline = () => {
    const s = getSandbox();
    return {
      name: 'vfy-pipe',
      kafka: { brokers: s.kafka.brokers },
      source: { kind: 'mysql', url: `${s.mysql.url}/${db}`, tables: [`${db}.edge*`], exclude: [`${db}.edge_cols`] },
      sink: { kind: 'postgres', url: s.postgres.url },
      log: { level: 'warn' },
    };
  };

  it('verifies the captured tables of a pipeline config, reporting a table missing in the target', async () => {
    const config = configFromObject(pipeline(), { env: {} });
    const report = await verifyPipeline(config, { ...FAST, recheck: { attempts: 0, delayMs: 0 } });
    expect(report.tables.map((t) => [t.source, t.target, t.equal])).toEqual([
      [`${db}.edge`, `${db}.edge`, true],
      [`${db}.edge_copy`, `${db}.edge_copy`, false],
      [`${db}.edge_diff`, `${db}.edge_diff`, expect.any(Boolean)],
    ]);
    expect(report.tables[1]).toMatchObject({
      error: `the target table ${db}.edge_copy does not exist (has the sink created it yet?)`,
      sourceRows: ALL_ROWS.length,
      targetRows: 0,
    });
    expect(report.equal).toBe(false);
    const only = await verifyPipeline(config, { ...FAST, tables: [`${db}.edge`] });
    expect(only.tables.map((t) => t.source)).toEqual([`${db}.edge`]);
    expect(only.equal).toBe(true);
  });

  it('runs as `ferry verify -c <file>`: a table on stdout, --json, and a mismatch error for exit code 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-verify-'));
    const file = join(dir, 'pipeline.json');
    writeFileSync(file, JSON.stringify(pipeline()));
    const out: string[] = [];
    const err: string[] = [];
    const cli = () => {
      const program = new Command('ferry').exitOverride();
      registerVerify(program, { out: (l) => out.push(l), err: (l) => err.push(l), isTTY: false });
      return program;
    };
    try {
      await cli().parseAsync(['verify', '-c', file, '--tables', `${db}.edge`, '--chunk-size', '50'], { from: 'user' });
      const n = ALL_ROWS.length;
      expect(out.join('\n')).toMatch(new RegExp(`${db}\\.edge\\s+checksum\\s+${n}\\s+${n}\\s+7\\s+0 .* equal`));
      expect(out.join('\n')).toContain('verify: EQUAL — 1 table(s)');
      out.length = 0;
      const failure = await cli()
        .parseAsync(['verify', '-c', file, '--json', '--rechecks', '0'], { from: 'user' })
        .catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(FerryError);
      expect((failure as FerryError).code).toBe('FERRY_VERIFY_MISMATCH');
      const json = JSON.parse(out.join('\n')) as { equal: boolean; tables: Array<{ source: string }> };
      expect(json.equal).toBe(false);
      expect(json.tables).toHaveLength(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds a small change in every column type, and NULL apart from the empty value', async () => {
    const changes: Array<[string, string]> = [
      ['u64', 'u64 - 1'],
      ['i64', 'i64 + 1'],
      ['tiny', 'tiny + 1'],
      ['flag', '1 - flag'],
      ['small_u', 'small_u + 1'],
      ['dec65', 'dec65 + 0.000000000000000000000000000001'],
      ['dec2', 'dec2 + 0.01'],
      ['f32', 'f32 * (1 + 1e-6)'],
      ['f64', 'f64 * (1 + 1e-15)'],
      ['dt6', "dt6 + interval '1 microsecond'"],
      ['dt0', "dt0 + interval '1 second'"],
      ['ts6', "ts6 - interval '1 microsecond'"],
      ['d', 'd + 1'],
      ['t6', "t6 + interval '1 microsecond'"],
      ['y', 'y + 1'],
      ['s', "s || ' '"],
      ['c', "c || 'x'"],
      ['txt', 'upper(txt)'],
      ['bin', "bin || '\\x00'::bytea"],
      ['blb', "'\\x00'::bytea"],
      ['j', "replace(j::text, ' ', '')::json"],
      ['e', "CASE WHEN e = 'large' THEN 'small' ELSE 'large' END"],
      ['st', "st || ARRAY['x']"],
      ['b10', '~b10'],
      ['b1', '~b1'],
      ['uid', "'A' || substr(uid, 2)"],
    ];
    const expected: Array<{ key: { id: number }; columns: string[] }> = [];
    for (const [i, [column, expr]] of changes.entries()) {
      const id = 101 + i * 7;
      await pgc.query(`UPDATE "${db}"."edge_cols" SET "${column}" = ${expr} WHERE id = $1`, [id]);
      expected.push({ key: { id }, columns: [column] });
    }
    await pgc.query(`UPDATE "${db}"."edge_cols" SET s = NULL, txt = '' WHERE id = 2`);
    await pgc.query(`UPDATE "${db}"."edge_cols" SET txt = '', bin = '' WHERE id = 3`);
    expected.unshift({ key: { id: 2 }, columns: ['s'] }, { key: { id: 3 }, columns: ['txt', 'bin'] });
    const e = endpoints();
    const report = await verify({ ...FAST, source: e.mysql, target: e.postgres, tables: [pair('edge_cols')] });
    const t = report.tables[0]!;
    expect(t.different).toEqual(expected);
    expect({ missing: t.missingCount, extra: t.extraCount, notes: t.notes }).toEqual({
      missing: 0,
      extra: 0,
      notes: ['differences re-checked 1 time(s) to let rows in flight arrive'],
    });
  });
});

describe('float canonical text', () => {
  const DOUBLES = [
    0,
    0.1,
    -0.1,
    0.1 + 0.2,
    1e20,
    1e21,
    1e22,
    1e-7,
    1e-8,
    1.5e-10,
    123456789012345680,
    1.7976931348623157e308,
    5e-324,
    -2.5e100,
    1e15,
    1e16,
    123.456,
    100,
    4.35,
    2.2250738585072014e-308,
    9007199254740992,
    1e-5,
    0.001,
    12345.678e10,
    -1e-300,
    0.5,
    1 / 3,
  ];
  const FLOATS = [0.1, 16777217, 3.4028234663852886e38, 1e-45, 1.1754943508222875e-38, 7, 0.3, -1.5, 1 / 3];

  it('is identical on MariaDB and PostgreSQL for doubles and floats of every magnitude', async () => {
    const name = uniqueName('vfy_float');
    const my = await mysqlRoot();
    const client = await pgFerry();
    try {
      await my.query(`CREATE DATABASE \`${name}\``);
      await my.query(`CREATE TABLE \`${name}\`.fl (id INT PRIMARY KEY, d DOUBLE NULL, f FLOAT NULL)`);
      await client.query(`CREATE TABLE "${name}" (id int PRIMARY KEY, d float8, f real)`);
      const n = Math.max(DOUBLES.length, FLOATS.length);
      for (let i = 0; i < n; i++) {
        const d = DOUBLES[i] ?? null;
        const f = FLOATS[i] ?? null;
        await my.query(`INSERT INTO \`${name}\`.fl VALUES (?, ?, ?)`, [i, d, f]);
        await client.query(`INSERT INTO "${name}" VALUES ($1, $2, $3)`, [
          i,
          d === null ? null : String(d),
          f === null ? null : String(f),
        ]);
      }
      const [myRows] = await my.query(
        `SELECT ${mysqlNormaliseFloat('(d + 0e0)')}, ${mysqlNormaliseFloat('(f + 0e0)')} FROM \`${name}\`.fl ORDER BY id`,
      );
      const pgRows = await client.query({
        text: `SELECT ${postgresNormaliseFloat('d::float8')}, ${postgresNormaliseFloat('f::float8')} FROM "${name}" ORDER BY id`,
        rowMode: 'array',
      });
      const mine = (myRows as Array<Record<string, unknown>>).map((r) => Object.values(r));
      expect(mine).toEqual(pgRows.rows);
      expect(pgRows.rows.slice(0, 6)).toEqual([
        ['0', '10000000149011612e0'],
        ['1e0', '16777216e8'],
        ['-1e0', '34028234663852886e39'],
        ['30000000000000004e0', '1401298464324817e-44'],
        ['1e21', '11754943508222875e-37'],
        ['1e22', '7e1'],
      ]);
    } finally {
      await my.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await my.end();
      await client.query(`DROP TABLE IF EXISTS "${name}"`);
      await client.end();
    }
  });
});

describe('verify with a composite text key across engines', () => {
  const db = uniqueName('vfy_key');
  let my: Connection;
  let client: pg.Client;
  const REGIONS = ['a', 'A', 'B', 'b ', 'é', 'e', 'Z', 'zz', '😀', '中', 'a-b', 'a_b', '', 'ß', 'Ä'];
  const rows = REGIONS.flatMap((region) => Array.from({ length: 12 }, (_, i) => [region, i, `${region}/${i}`]));

  beforeAll(async () => {
    my = await mysqlRoot();
    await my.query(`CREATE DATABASE \`${db}\``);
    // A case- and accent-insensitive collation: MariaDB orders these keys unlike PostgreSQL.
    await my.query(
      `CREATE TABLE \`${db}\`.regions (region VARCHAR(10) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_ci NOT NULL,
         id INT NOT NULL, label VARCHAR(40) NOT NULL, PRIMARY KEY (region, id))`,
    );
    client = await pgFerry();
    await client.query(`CREATE SCHEMA "${db}"`);
    // ICU collation on the target: its native order differs from both MariaDB's and byte order.
    await client.query(
      `CREATE TABLE "${db}".regions (region varchar(10) COLLATE "und-x-icu" NOT NULL, id integer NOT NULL,
         label varchar(40) NOT NULL, PRIMARY KEY (region, id))`,
    );
    const unique = rows.filter(
      (r, i) => rows.findIndex((o) => String(o[0]).toLowerCase() === String(r[0]).toLowerCase() && o[1] === r[1]) === i,
    );
    // Under the _ci collation 'a'/'A' and 'b '/'b' collide; keep what MariaDB accepts.
    for (const r of unique) {
      const [res] = await my.query(`INSERT IGNORE INTO \`${db}\`.regions VALUES (?, ?, ?)`, r);
      if ((res as { affectedRows: number }).affectedRows === 1) {
        await client.query(`INSERT INTO "${db}".regions VALUES ($1, $2, $3)`, r);
      }
    }
  });

  afterAll(() => dropAndClose(my, client, db));

  it('chunks both sides in the same byte order and finds a missing and a changed row by their composite key', async () => {
    const e = endpoints();
    const pair: TablePair = { source: { db, table: 'regions' }, target: { db, table: 'regions' } };
    const equal = await verify({ ...FAST, chunkSize: 7, source: e.mysql, target: e.postgres, tables: [pair] });
    const t = equal.tables[0]!;
    expect({ equal: t.equal, missing: t.missing, extra: t.extra, different: t.different }).toEqual({
      equal: true,
      missing: [],
      extra: [],
      different: [],
    });
    expect(t.mismatchedChunks).toBe(0);
    expect(t.chunks).toBeGreaterThan(15);
    expect(t.notes).toEqual([
      expect.stringContaining('key column region is compared in byte order on the source'),
      expect.stringContaining('key column region is compared in byte order on the target'),
    ]);
    await client.query(`DELETE FROM "${db}".regions WHERE region = '😀' AND id = 3`);
    await client.query(`UPDATE "${db}".regions SET label = 'changed' WHERE region = 'é' AND id = 11`);
    const diff = await verify({ ...FAST, chunkSize: 7, source: e.mysql, target: e.postgres, tables: [pair] });
    expect(diff.tables[0]).toMatchObject({
      missing: [{ region: '😀', id: 3 }],
      extra: [],
      different: [{ key: { region: 'é', id: 11 }, columns: ['label'] }],
    });
  });
});

describe('verify with hostile identifiers', () => {
  it('quotes every name in both dialects ("?", quotes, backticks, spaces, semicolons)', async () => {
    const db = uniqueName('vfy_q');
    const table = 'we?ird `t` "x"; --';
    const column = "c?o'l `x`";
    const my = await mysqlRoot();
    const client = await pgFerry();
    const myId = (n: string) => `\`${n.replace(/`/g, '``')}\``;
    const pgId = (n: string) => `"${n.replace(/"/g, '""')}"`;
    try {
      await my.query(`CREATE DATABASE ${myId(db)}`);
      await my.query(
        `CREATE TABLE ${myId(db)}.${myId(table)} (${myId('k?')} INT PRIMARY KEY, ${myId(column)} VARCHAR(20))`,
      );
      await client.query(`CREATE SCHEMA ${pgId(db)}`);
      await client.query(
        `CREATE TABLE ${pgId(db)}.${pgId(table)} (${pgId('k?')} int PRIMARY KEY, ${pgId(column)} varchar(20))`,
      );
      for (let i = 1; i <= 30; i++) {
        const v = i === 17 ? "it's ? `odd`" : `v${i}`;
        await my.query(`INSERT INTO ${myId(db)}.${myId(table)} VALUES (?, ?)`, [i, v]);
        if (i !== 5) await client.query(`INSERT INTO ${pgId(db)}.${pgId(table)} VALUES ($1, $2)`, [i, v]);
      }
      const e = endpoints();
      const report = await verify({
        ...FAST,
        chunkSize: 7,
        source: e.mysql,
        target: e.postgres,
        tables: [{ source: { db, table }, target: { db, table } }],
      });
      expect(report.tables[0]?.error).toBeUndefined();
      expect(report.tables[0]).toMatchObject({ missing: [{ 'k?': 5 }], extra: [], different: [] });
    } finally {
      await my.query(`DROP DATABASE IF EXISTS ${myId(db)}`);
      await my.end();
      await client.query(`DROP SCHEMA IF EXISTS ${pgId(db)} CASCADE`);
      await client.end();
    }
  });
});
