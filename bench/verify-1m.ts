/**
 * Benchmark of `ferry verify` (not run by CI): one table of 1,000,000 rows in MariaDB and the
 * same rows in PostgreSQL (the PostgreSQL sink's type mapping), verified three ways:
 *   1. equal tables (every chunk checksummed inside both databases);
 *   2. the same with one changed, one missing and one extra row (drill-down);
 *   3. equal tables with a column compared client-side (the fallback method).
 * Prints rows, time, rows/s and the peak RSS of this process (its high-water mark, so the
 * figure after each run covers everything before it; the baseline is printed first).
 *
 * Run (Node 20 has no TypeScript loader, so compile first):
 *   npx tsc -p tsconfig.json --noEmit false --outDir .ferry/bench-build
 *   node .ferry/bench-build/bench/verify-1m.js [rows]
 * It starts (or reuses) the sandbox in .ferry/bench-sandbox, or FERRY_BENCH_SANDBOX_DIR.
 */
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { projectRoot, sandboxUp } from '../src/sandbox/index.js';
import {
  formatVerifyReport,
  type TablePair,
  type VerifyEndpoint,
  type VerifyReport,
  verify,
} from '../src/verify/index.js';

const ROWS = Number(process.argv[2] ?? 1_000_000);
const DB = 'ferry_bench_verify';
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const peakRss = () => process.resourceUsage().maxRSS * 1024;

async function main(): Promise<void> {
  const dir = process.env['FERRY_BENCH_SANDBOX_DIR'] ?? join(projectRoot(), '.ferry', 'bench-sandbox');
  const info = await sandboxUp({
    dir,
    only: ['mysql', 'postgres'],
    log: (l) => process.stderr.write(`[sandbox] ${l}\n`),
  });
  const my = await mysql.createConnection({
    host: info.mysql.host,
    port: info.mysql.port,
    user: info.mysql.rootUser,
    password: info.mysql.rootPassword,
  });
  const client = new pg.Client({
    host: info.postgres.host,
    port: info.postgres.port,
    user: info.postgres.user,
    password: info.postgres.password,
    database: info.postgres.database,
  });
  await client.connect();

  console.log(`loading ${ROWS.toLocaleString('en-US')} rows into MariaDB and PostgreSQL…`);
  let t0 = performance.now();
  await my.query("SET time_zone = '+00:00'");
  await my.query(`DROP DATABASE IF EXISTS ${DB}`);
  await my.query(`CREATE DATABASE ${DB} CHARACTER SET utf8mb4`);
  await my.query(`CREATE TABLE ${DB}.orders (
      id BIGINT UNSIGNED PRIMARY KEY, customer VARCHAR(64) NOT NULL, amount DECIMAL(12,2) NOT NULL,
      created DATETIME(6) NOT NULL, updated TIMESTAMP(6) NULL, score DOUBLE NULL, status ENUM('new','paid','shipped') NOT NULL,
      flags SET('gift','express','fragile') NOT NULL, note TEXT NULL, ref VARBINARY(16) NULL, doc JSON NULL)`);
  await my.query(`INSERT INTO ${DB}.orders
    SELECT seq, CONCAT('customer-', seq % 9973, ' ✓'), seq * 1.25, TIMESTAMP('2024-01-01') + INTERVAL (seq * 1001) MICROSECOND,
           TIMESTAMP('2024-06-01') + INTERVAL seq SECOND, seq / 7e0, ELT(1 + seq % 3, 'new', 'paid', 'shipped'),
           ELT(1 + seq % 4, '', 'gift', 'gift,express', 'express,fragile'), IF(seq % 10 = 0, NULL, CONCAT('note ', seq)),
           UNHEX(LPAD(HEX(seq), 8, '0')), CONCAT('{"n": ', seq, '}')
      FROM ${DB}.seq_1_to_${ROWS}`);
  await client.query(`DROP SCHEMA IF EXISTS ${DB} CASCADE`);
  await client.query(`CREATE SCHEMA ${DB}`);
  await client.query(`CREATE TABLE ${DB}.orders (
      id numeric(20,0) PRIMARY KEY, customer varchar(64) NOT NULL, amount numeric(12,2) NOT NULL,
      created timestamp(6) NOT NULL, updated timestamptz(6), score double precision, status text NOT NULL,
      flags text[] NOT NULL, note text, ref bytea, doc json)`);
  await client.query(`INSERT INTO ${DB}.orders
    SELECT g, 'customer-' || g % 9973 || ' ✓', g * 1.25, timestamp '2024-01-01' + g * 1001 * interval '1 microsecond',
           timestamptz '2024-06-01 00:00:00+00' + g * interval '1 second', g::float8 / 7, (ARRAY['new','paid','shipped'])[1 + g % 3],
           (ARRAY['{}', '{gift}', '{gift,express}', '{express,fragile}'])[1 + g % 4]::text[],
           CASE WHEN g % 10 = 0 THEN NULL ELSE 'note ' || g END, decode(lpad(to_hex(g), 8, '0'), 'hex'), ('{"n": ' || g || '}')::json
      FROM generate_series(1, ${ROWS}) g`);
  await client.query(`VACUUM ANALYZE ${DB}.orders`);
  // A copy whose `doc` is jsonb: JSON normalised on one side only, so that column is compared client-side.
  await client.query(`CREATE TABLE ${DB}.orders_jsonb AS SELECT * FROM ${DB}.orders`);
  await client.query(`ALTER TABLE ${DB}.orders_jsonb ADD PRIMARY KEY (id), ALTER COLUMN doc TYPE jsonb`);
  await client.query(`VACUUM ANALYZE ${DB}.orders_jsonb`);
  console.log(`loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const source: VerifyEndpoint = {
    kind: 'mysql',
    host: info.mysql.host,
    port: info.mysql.port,
    user: info.mysql.user,
    password: info.mysql.password,
  };
  const target: VerifyEndpoint = {
    kind: 'postgres',
    host: info.postgres.host,
    port: info.postgres.port,
    user: info.postgres.user,
    password: info.postgres.password,
    database: info.postgres.database,
  };
  const pair = (table: string): TablePair => ({ source: { db: DB, table: 'orders' }, target: { db: DB, table } });
  console.log(`baseline peak RSS before verifying: ${mb(peakRss())}`);

  const run = async (label: string, table: string): Promise<VerifyReport> => {
    t0 = performance.now();
    const report = await verify({ source, target, tables: [pair(table)], recheck: { attempts: 1, delayMs: 100 } });
    const seconds = (performance.now() - t0) / 1000;
    const t = report.tables[0]!;
    console.log(`\n== ${label}`);
    console.log(formatVerifyReport(report));
    console.log(
      `RESULT ${label}: ${t.sourceRows.toLocaleString('en-US')} rows, ${seconds.toFixed(1)} s, ` +
        `${t.rowsPerSecond.toLocaleString('en-US')} rows/s, method ${t.method}, peak RSS ${mb(report.peakRssBytes)}`,
    );
    return report;
  };

  await run('equal (checksum)', 'orders');
  await client.query(`UPDATE ${DB}.orders SET amount = amount + 0.01 WHERE id = ${Math.floor(ROWS * 0.61)}`);
  await client.query(`DELETE FROM ${DB}.orders WHERE id = ${Math.floor(ROWS * 0.37)}`);
  await client.query(
    `INSERT INTO ${DB}.orders SELECT id + ${ROWS}, customer, amount, created, updated, score, status, flags, note, ref, doc FROM ${DB}.orders WHERE id = 1`,
  );
  await run('one changed, one missing, one extra (drill-down)', 'orders');
  await run('equal, doc json -> jsonb (client method)', 'orders_jsonb');

  await my.query(`DROP DATABASE IF EXISTS ${DB}`);
  await client.query(`DROP SCHEMA IF EXISTS ${DB} CASCADE`);
  await my.end();
  await client.end();
  console.log(`\nsandbox left running; stop it with: npx ferry sandbox down --dir ${dir}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
