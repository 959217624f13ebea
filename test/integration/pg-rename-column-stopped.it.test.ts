/**
 * Regression "PostgreSQL: a column renamed while the source is stopped" (docs/schema-changes.md):
 * tables with rows are on the target, the source stops, columns are renamed (several, a swap
 * through a temporary name, a chain, beside an added column, and in a table renamed too), rows
 * are written, the source starts again. The target's columns must be exactly the source's (no old
 * column kept like a dropped one), `ferry verify` equal, and the renamed columns' data kept on
 * both routes (PostgreSQL -> PostgreSQL and PostgreSQL -> MariaDB), also for a table with no row
 * change after the start; no table is read again for a column rename (one row at most).
 */
import type { Kafka } from 'kafkajs';
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipelineConfig } from '../../src/config/index.js';
import { createKafka } from '../../src/kafka/client.js';
import {
  deletePipelineTopics,
  dropPgSlot,
  type RouteSpec,
  type RunningPipeline,
  routeConfig,
  startPipeline,
  summary,
  waitForConvergence,
} from '../helpers/e2e.js';
import { getSandbox, pgFerry, pgSuper, uniqueName } from '../helpers/sandbox.js';
import { mariadb } from '../helpers/sink-harness.js';

/** Source and sink of a route as separate processes' worth of pipeline, so the source can stop alone. */
interface Route {
  config: PipelineConfig;
  source: RunningPipeline;
  sink: RunningPipeline;
}

function startRoute(prefix: string, spec: Omit<RouteSpec, 'name'>): Route {
  const config = routeConfig({ name: uniqueName(prefix).replace(/_/g, '-'), ...spec });
  return {
    config,
    source: startPipeline(config, { source: true, sink: false }),
    sink: startPipeline(config, { source: false, sink: true }),
  };
}

const ROWS = 30;
const SEED_RC = Array.from(
  { length: ROWS },
  (_, i) => `(${i + 1}, 'x${i + 1}', 'y${i + 1}', 'p${i + 1}', 'q${i + 1}', 'c${i + 1}', ${i})`,
).join(', ');
const SEED_RT = Array.from({ length: ROWS }, (_, i) => `(${i + 1}, 'v${i + 1}', 'w${i + 1}')`).join(', ');
const SEED_RS = Array.from({ length: ROWS }, (_, i) => `(${i + 1}, 's${i + 1}', 't${i + 1}')`).join(', ');

/** The DDL and writes while the source is stopped: no row change between the renames and the start. */
const WHILE_STOPPED = [
  // a swap through a temporary name
  'ALTER TABLE rc RENAME COLUMN x TO tmp',
  'ALTER TABLE rc RENAME COLUMN y TO x',
  'ALTER TABLE rc RENAME COLUMN tmp TO y',
  // a chain: q -> r while p -> q
  'ALTER TABLE rc RENAME COLUMN q TO r',
  'ALTER TABLE rc RENAME COLUMN p TO q',
  // one more rename, beside an added column
  'ALTER TABLE rc RENAME COLUMN c TO c_new',
  'ALTER TABLE rc ADD COLUMN added int DEFAULT 5',
  // a column and its table renamed
  'ALTER TABLE rt RENAME COLUMN v TO v2',
  'ALTER TABLE rt RENAME TO rt2',
  // a swap in a table that does not change after the start
  'ALTER TABLE rs RENAME COLUMN s TO tmp',
  'ALTER TABLE rs RENAME COLUMN t TO s',
  'ALTER TABLE rs RENAME COLUMN tmp TO t',
];
const AFTER_START = [
  `INSERT INTO rc (id, x, y, q, r, c_new, n, added) VALUES (100, 'new x', 'new y', 'new q', 'new r', 'new c', 1, 6)`,
  `UPDATE rc SET x = 'x changed', c_new = 'c changed' WHERE id = 3`,
  `UPDATE rc SET n = 1000 WHERE id = 4`,
  `INSERT INTO rt2 (id, v2, w) VALUES (100, 'new v2', 'new w')`,
  `UPDATE rt2 SET v2 = 'v2 changed' WHERE id = 5`,
];

const RC_COLUMNS = ['added', 'c_new', 'id', 'n', 'q', 'r', 'x', 'y'];
const RT_COLUMNS = ['id', 'v2', 'w'];

/** An untouched row kept its renamed columns' data: x holds what y held, q what p held, and so on. */
function expectKeptRow(row: Record<string, unknown> | undefined): void {
  expect(row).toBeDefined();
  expect({
    x: row!['x'],
    y: row!['y'],
    q: row!['q'],
    r: row!['r'],
    c_new: row!['c_new'],
    added: Number(row!['added']),
  }).toEqual({ x: 'y15', y: 'x15', q: 'p15', r: 'q15', c_new: 'c15', added: 5 });
}

/** Rows the restarted source read by snapshot, per table: a renamed column needs no re-read of its table. */
async function rowsReadAgain(route: Route, table: string): Promise<number> {
  const counted = await route.source.metrics.snapshotRows.get();
  return counted.values.filter((v) => v.labels['table'] === table).reduce((n, v) => n + v.value, 0);
}

describe('PostgreSQL: columns renamed while the source is stopped are renamed at the target', () => {
  const schema = uniqueName('rcs_pg');
  const tgtSchema = `${schema}_tgt`;
  const kafka: Kafka = createKafka({ brokers: getSandbox().kafka.brokers, clientId: 'ferry-pg-rename-column' });
  let src: pg.Client;
  let my: mysql.Connection;
  let toPg: Route;
  let toMy: Route;

  beforeAll(async () => {
    src = await pgFerry();
    my = await mariadb();
    await src.query(`CREATE SCHEMA "${schema}"`);
    await src.query(`SET search_path = "${schema}"`);
    await src.query(
      'CREATE TABLE rc (id int PRIMARY KEY, x varchar(20), y varchar(20), p varchar(20), q varchar(20), c varchar(20), n int)',
    );
    await src.query(`INSERT INTO rc VALUES ${SEED_RC}`);
    await src.query('CREATE TABLE rt (id int PRIMARY KEY, v varchar(20), w varchar(20))');
    await src.query(`INSERT INTO rt VALUES ${SEED_RT}`);
    await src.query('CREATE TABLE rs (id int PRIMARY KEY, s varchar(20), t varchar(20))');
    await src.query(`INSERT INTO rs VALUES ${SEED_RS}`);
    toPg = startRoute('rcs-p2p', {
      source: 'postgres',
      sourceNamespace: schema,
      sink: 'postgres',
      targetNamespace: tgtSchema,
    });
    toMy = startRoute('rcs-p2m', { source: 'postgres', sourceNamespace: schema, sink: 'mysql' });
    // The target holds every row before the stop.
    await Promise.all([toPg, toMy].map((r) => waitForConvergence(r.source, kafka, { timeoutMs: 60_000 })));
    await Promise.all([toPg.source.stop(), toMy.source.stop()]);
    for (const q of WHILE_STOPPED) await src.query(q);
    for (const q of AFTER_START) await src.query(q);
    toPg.source = startPipeline(toPg.config, { source: true, sink: false });
    toMy.source = startPipeline(toMy.config, { source: true, sink: false });
  }, 180_000);

  afterAll(async () => {
    for (const r of [toPg, toMy].filter(Boolean)) {
      await Promise.all([r.source.stop(), r.sink.stop()]);
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

  it('PostgreSQL -> PostgreSQL: the target has exactly the source columns, verify is equal, renamed columns kept their data', async () => {
    const { report } = await waitForConvergence(toPg.source, kafka, { timeoutMs: 90_000 });
    expect(report.equal, JSON.stringify(summary(report))).toBe(true);
    // The renamed table is read again under its new name (the count works); the others are not
    // (one row at most, which carries the renames to the target).
    expect(await rowsReadAgain(toPg, `${schema}.rt2`)).toBeGreaterThan(1);
    expect(await rowsReadAgain(toPg, `${schema}.rc`)).toBeLessThanOrEqual(1);
    expect(await rowsReadAgain(toPg, `${schema}.rs`)).toBeLessThanOrEqual(1);
    const admin = await pgSuper();
    try {
      const columns = async (table: string) =>
        (
          await admin.query(
            'SELECT column_name AS c FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY 1',
            [tgtSchema, table],
          )
        ).rows.map((r) => r.c);
      expect(await columns('rc')).toEqual(RC_COLUMNS);
      expect(await columns('rt2')).toEqual(RT_COLUMNS);
      expect(await columns('rt')).toEqual([]);
      expect(await columns('rs')).toEqual(['id', 's', 't']);
      const rc = await admin.query(`SELECT * FROM "${tgtSchema}".rc WHERE id = 15`);
      expectKeptRow(rc.rows[0]);
      const rt = await admin.query(`SELECT * FROM "${tgtSchema}".rt2 WHERE id = 15`);
      expect(rt.rows[0]?.['v2']).toBe('v15');
      const rs = await admin.query(`SELECT s, t FROM "${tgtSchema}".rs WHERE id = 15`);
      expect(rs.rows[0]).toEqual({ s: 't15', t: 's15' });
    } finally {
      await admin.end();
    }
  }, 120_000);

  it('PostgreSQL -> MariaDB: the target has exactly the source columns, verify is equal, renamed columns kept their data', async () => {
    const { report } = await waitForConvergence(toMy.source, kafka, { timeoutMs: 90_000 });
    expect(report.equal, JSON.stringify(summary(report))).toBe(true);
    // The renamed table is read again under its new name (the count works); the others are not
    // (one row at most, which carries the renames to the target).
    expect(await rowsReadAgain(toMy, `${schema}.rt2`)).toBeGreaterThan(1);
    expect(await rowsReadAgain(toMy, `${schema}.rc`)).toBeLessThanOrEqual(1);
    expect(await rowsReadAgain(toMy, `${schema}.rs`)).toBeLessThanOrEqual(1);
    const columns = async (table: string) => {
      const [rows] = await my.query(
        'SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY 1',
        [schema, table],
      );
      return (rows as Array<{ c: string }>).map((r) => r.c);
    };
    expect(await columns('rc')).toEqual(RC_COLUMNS);
    expect(await columns('rt2')).toEqual(RT_COLUMNS);
    expect(await columns('rt')).toEqual([]);
    expect(await columns('rs')).toEqual(['id', 's', 't']);
    const [rc] = await my.query(`SELECT * FROM \`${schema}\`.rc WHERE id = 15`);
    expectKeptRow((rc as Array<Record<string, unknown>>)[0]);
    const [rt] = await my.query(`SELECT * FROM \`${schema}\`.rt2 WHERE id = 15`);
    expect((rt as Array<Record<string, unknown>>)[0]?.['v2']).toBe('v15');
    const [rs] = await my.query(`SELECT s, t FROM \`${schema}\`.rs WHERE id = 15`);
    expect({ ...(rs as Array<Record<string, unknown>>)[0] }).toEqual({ s: 't15', t: 's15' });
  }, 120_000);
});
