/**
 * ferry verify on a 200,000-row table, MariaDB -> PostgreSQL: equal tables verify equal in
 * chunks, and a single changed row deep inside is found by drill-down. (The 1-million-row
 * figure comes from bench/verify-1m.ts; tests never assert timings.)
 */
import type { Connection } from 'mysql2/promise';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TablePair, verify } from '../../src/verify/index.js';
import { mysqlRoot, pgFerry, uniqueName } from '../helpers/sandbox.js';
import { dropAndClose, sandboxVerifyEndpoints as endpoints } from '../helpers/verify.js';

const ROWS = 200_000;

describe(`verify a ${ROWS.toLocaleString('en-US')}-row table, MariaDB -> PostgreSQL`, () => {
  const name = uniqueName('vfy_big');
  let my: Connection;
  let client: pg.Client;
  const pair: TablePair = { source: { db: name, table: 'big' }, target: { db: name, table: 'big' } };

  beforeAll(async () => {
    my = await mysqlRoot();
    await my.query(`CREATE DATABASE \`${name}\``);
    await my.query(
      `CREATE TABLE \`${name}\`.big (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, amount DECIMAL(12,2) NOT NULL,
         created DATETIME(6) NOT NULL, score DOUBLE NULL, note TEXT NULL) CHARACTER SET utf8mb4`,
    );
    await my.query(
      `INSERT INTO \`${name}\`.big
       SELECT seq, CONCAT('name-', seq), seq * 1.25, TIMESTAMP('2024-01-01') + INTERVAL (seq * 1001) MICROSECOND,
              seq / 7e0, IF(seq % 10 = 0, NULL, CONCAT('note ', seq))
         FROM \`${name}\`.seq_1_to_${ROWS}`,
    );
    client = await pgFerry();
    await client.query(`CREATE SCHEMA "${name}"`);
    await client.query(
      `CREATE TABLE "${name}".big (id integer PRIMARY KEY, name varchar(40) NOT NULL, amount numeric(12,2) NOT NULL,
         created timestamp(6) NOT NULL, score double precision, note text)`,
    );
    await client.query(
      `INSERT INTO "${name}".big
       SELECT g, 'name-' || g, g * 1.25, timestamp '2024-01-01' + g * 1001 * interval '1 microsecond',
              g::float8 / 7, CASE WHEN g % 10 = 0 THEN NULL ELSE 'note ' || g END
         FROM generate_series(1, ${ROWS}) g`,
    );
    await client.query(`ANALYZE "${name}".big`);
  });

  afterAll(() => dropAndClose(my, client, name));

  it('verifies equal in checksum chunks without fetching rows', async () => {
    const e = endpoints();
    const report = await verify({ source: e.mysql, target: e.postgres, tables: [pair], chunkSize: 10_000 });
    const t = report.tables[0]!;
    expect(t).toMatchObject({
      equal: true,
      method: 'checksum',
      sourceRows: ROWS,
      targetRows: ROWS,
      chunks: ROWS / 10_000 + 1,
      mismatchedChunks: 0,
      missingCount: 0,
      extraCount: 0,
      differentCount: 0,
    });
    expect(t.rowsPerSecond).toBeGreaterThan(0);
  });

  it('finds a single changed row deep inside by drill-down', async () => {
    await client.query(`UPDATE "${name}".big SET amount = amount + 0.01 WHERE id = 123457`);
    const e = endpoints();
    const report = await verify({
      source: e.mysql,
      target: e.postgres,
      tables: [pair],
      chunkSize: 10_000,
      recheck: { attempts: 1, delayMs: 10 },
    });
    const t = report.tables[0]!;
    expect(report.equal).toBe(false);
    expect(t.different).toEqual([{ key: { id: 123457 }, columns: ['amount'] }]);
    expect(t).toMatchObject({ mismatchedChunks: 1, missingCount: 0, extraCount: 0, differentCount: 1 });
  });
});
