/**
 * ferry verify and MySQL zero dates: the PostgreSQL sink stores zero and partial-zero dates
 * ('0000-00-00', '2024-00-00', '2024-05-00', zero DATETIME/TIMESTAMP) as NULL in NULL-able
 * columns (docs/type-mapping.md), so verify counts them as NULL against a PostgreSQL target — in
 * the chunk checksums and in the row comparison — and still finds a real difference in those
 * columns. MariaDB -> MariaDB keeps zero dates as they are.
 */
import type { Connection } from 'mysql2/promise';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type VerifyOptions, verify } from '../../src/verify/index.js';
import { mysqlRoot, pgFerry, uniqueName } from '../helpers/sandbox.js';
import { dropAndClose, sandboxVerifyEndpoints as endpoints, tablePairIn } from '../helpers/verify.js';

const FAST: Partial<VerifyOptions> = {
  chunkSize: 10,
  leafRows: 4,
  splitFactor: 4,
  recheck: { attempts: 1, delayMs: 10 },
};

/** id, then d DATE, dt DATETIME(6), ts TIMESTAMP(6) as MySQL text (null: NULL). */
type Row = [number, string | null, string | null, string | null];

const ZERO_ROWS: Row[] = [
  [1, '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00'],
  [2, '2024-00-00', '2024-00-15 10:00:00.5', null],
  [3, '2024-05-00', '2024-01-01 00:00:00', '2024-01-01 00:00:00'],
  [4, '2024-02-29', '0000-00-00 00:00:00', '2038-01-19 03:14:07.999999'],
  [5, null, null, null],
];

/** Plain rows around them, so that there are several chunks. */
const ROWS: Row[] = [
  ...ZERO_ROWS,
  ...Array.from(
    { length: 40 },
    (_, i): Row => [
      10 + i,
      `2020-01-${String((i % 28) + 1).padStart(2, '0')}`,
      `2021-05-06 07:08:${String(i % 60).padStart(2, '0')}.${String(i).padStart(6, '0')}`,
      i % 3 === 0 ? null : `2022-03-04 05:06:${String(i % 60).padStart(2, '0')}`,
    ],
  ),
];

/** What the PostgreSQL sink stores: zero and partial-zero dates become NULL. */
const zeroToNull = (v: string | null) => (v === null || /^\d{4}-(00-|\d\d-00)/.test(v) ? null : v);

describe('verify MariaDB zero dates -> PostgreSQL NULLs', () => {
  const db = uniqueName('vfy_zd');
  let my: Connection;
  let pgc: pg.Client;

  beforeAll(async () => {
    my = await mysqlRoot();
    // Zero dates need a session without NO_ZERO_DATE / NO_ZERO_IN_DATE / strict mode.
    await my.query("SET SESSION sql_mode = '', time_zone = '+00:00'");
    await my.query(`CREATE DATABASE \`${db}\``);
    pgc = await pgFerry();
    await pgc.query(`CREATE SCHEMA "${db}"`);
    for (const t of ['zd', 'zd_diff', 'zd_copy', 'zd_copy_diff']) {
      await my.query(
        `CREATE TABLE \`${db}\`.\`${t}\` (id INT NOT NULL PRIMARY KEY, d DATE NULL, dt DATETIME(6) NULL, ts TIMESTAMP(6) NULL DEFAULT NULL)`,
      );
      await my.query(`INSERT INTO \`${db}\`.\`${t}\` VALUES ?`, [ROWS]);
    }
    for (const t of ['zd', 'zd_diff']) {
      // The tables the PostgreSQL sink creates for them (docs/type-mapping.md), as it fills them.
      await pgc.query(
        `CREATE TABLE "${db}"."${t}" (id integer NOT NULL PRIMARY KEY, d date, dt timestamp(6), ts timestamptz(6))`,
      );
      for (const [id, d, dt, ts] of ROWS) {
        await pgc.query(`INSERT INTO "${db}"."${t}" VALUES ($1, $2, $3, $4)`, [
          id,
          zeroToNull(d),
          zeroToNull(dt),
          ts === null || zeroToNull(ts) === null ? null : `${ts}+00`,
        ]);
      }
    }
  });

  afterAll(() => dropAndClose(my, pgc, db));

  const pair = tablePairIn(db);

  it('verifies equal: zero dates count as the NULLs the sink stored, inside both databases', async () => {
    const e = endpoints();
    const report = await verify({ ...FAST, source: e.mysql, target: e.postgres, tables: [pair('zd')] });
    const t = report.tables[0]!;
    expect(t.error).toBeUndefined();
    expect({ missing: t.missing, extra: t.extra, different: t.different }).toEqual({
      missing: [],
      extra: [],
      different: [],
    });
    expect(t).toMatchObject({ equal: true, method: 'checksum', mismatchedChunks: 0, sourceRows: ROWS.length });
    expect(t.chunks).toBeGreaterThan(3);
    expect(report.equal).toBe(true);
  });

  it('still finds a real difference in those columns', async () => {
    // A zero date whose target holds a date, and a date whose target lost it.
    await pgc.query(`UPDATE "${db}"."zd_diff" SET d = '2024-01-01' WHERE id = 1`);
    await pgc.query(`UPDATE "${db}"."zd_diff" SET ts = NULL WHERE id = 4`);
    await pgc.query(`UPDATE "${db}"."zd_diff" SET dt = '1999-01-01 00:00:00' WHERE id = 3`);
    const e = endpoints();
    const report = await verify({ ...FAST, source: e.mysql, target: e.postgres, tables: [pair('zd_diff')] });
    const t = report.tables[0]!;
    expect(t.error).toBeUndefined();
    expect(t.equal).toBe(false);
    expect(t.different).toEqual([
      { key: { id: 1 }, columns: ['d'] },
      { key: { id: 3 }, columns: ['dt'] },
      { key: { id: 4 }, columns: ['ts'] },
    ]);
    expect({ missing: t.missing, extra: t.extra }).toEqual({ missing: [], extra: [] });
  });

  it('MariaDB -> MariaDB keeps zero dates as they are: equal copies verify equal, NULL for a zero date differs', async () => {
    const e = endpoints();
    const same = await verify({ ...FAST, source: e.mysql, target: e.mysql, tables: [pair('zd', 'zd_copy')] });
    expect(same.tables[0]).toMatchObject({ equal: true, method: 'checksum', mismatchedChunks: 0 });
    await my.query(`UPDATE \`${db}\`.\`zd_copy_diff\` SET d = NULL WHERE id = 1`);
    const diff = await verify({ ...FAST, source: e.mysql, target: e.mysql, tables: [pair('zd', 'zd_copy_diff')] });
    expect(diff.tables[0]).toMatchObject({ equal: false, different: [{ key: { id: 1 }, columns: ['d'] }] });
  });
});
