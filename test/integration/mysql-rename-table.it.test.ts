/**
 * RENAME TABLE from MariaDB while the sink lags (docs/schema-changes.md#renames-on-the-sink). The
 * renamed table's version (renamedFrom) and its rename markers go out at the RENAME itself, so
 * the sink renames the target table before any event of a table created under the old name.
 * Regressions, each with `ferry verify` (verifyPipeline) equal and the rows checked in the target
 * tables:
 * - "a table created under the old name and written before the renamed table's first row
 *   change" (MariaDB -> PostgreSQL and MariaDB -> MariaDB);
 * - "the markers were never sent when the source stopped between the RENAME and the renamed
 *   table's first event": the source stops right after the RENAME, with no row change after it.
 */
import type { Kafka } from 'kafkajs';
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atOrBefore } from '../../connectors/mysql-source/rename-marks.js';
import { parseRenameMarker } from '../../src/event/rename-marker.js';
import { createKafka } from '../../src/kafka/client.js';
import { readTopicToEnd } from '../../src/kafka/read-topic.js';
import { dataTopic } from '../../src/kafka/topics.js';
import {
  deletePipelineTopics,
  type LaggingRoute,
  startLaggingRoute,
  summary,
  until,
  waitForConvergence,
} from '../helpers/e2e.js';
import { getSandbox, uniqueName } from '../helpers/sandbox.js';
import { mariadb, postgres } from '../helpers/sink-harness.js';

type Rows = Array<Record<string, unknown>>;

const kafka: Kafka = createKafka({ brokers: getSandbox().kafka.brokers, clientId: 'ferry-mysql-rename-table' });

async function pgTables(pgc: pg.Client, schema: string): Promise<string[]> {
  const r = await pgc.query(
    "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1 AND table_name <> 'ferry_offsets' ORDER BY 1",
    [schema],
  );
  return r.rows.map((x) => x.t as string);
}

async function myTables(my: mysql.Connection, db: string): Promise<string[]> {
  const [rows] = await my.query(
    'SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME <> ? ORDER BY 1',
    [db, 'ferry_offsets'],
  );
  return (rows as Array<{ t: string }>).map((r) => r.t);
}

async function pgRows(pgc: pg.Client, schema: string, table: string, cols = 'id, v'): Promise<Rows> {
  return (await pgc.query(`SELECT ${cols} FROM "${schema}"."${table}" ORDER BY id`)).rows;
}

async function myRows(my: mysql.Connection, db: string, table: string, cols = 'id, v'): Promise<Rows> {
  const [rows] = await my.query(`SELECT ${cols} FROM \`${db}\`.\`${table}\` ORDER BY id`);
  return rows as Rows;
}

const SEED = (n: number, prefix: string) =>
  Array.from({ length: n }, (_, i) => `(${i + 1}, '${prefix}${i + 1}')`).join(', ');

/** The rows the renamed table b must hold: a's five rows as updated before the rename, then b's own changes. */
const RENAMED_B = [
  { id: 1, v: 'a 1' },
  { id: 2, v: 'a 2' },
  { id: 3, v: 'b after' },
  { id: 4, v: 'a 4' },
  { id: 5, v: 'a 5' },
  { id: 6, v: 'b new' },
];
const NEW_A = [
  { id: 1, v: 'new 1' },
  { id: 2, v: 'new 2 changed' },
];

/** RENAME TABLE a TO b; a new a written before b's first row change; then b written. */
async function renameAndRecreate(my: mysql.Connection): Promise<void> {
  await my.query(`UPDATE a SET v = CONCAT('a ', id)`);
  await my.query('RENAME TABLE a TO b');
  await my.query('CREATE TABLE a (id INT NOT NULL PRIMARY KEY, v VARCHAR(30) NULL)');
  await my.query(`INSERT INTO a (id, v) VALUES (1, 'new 1'), (2, 'new 2')`);
  await my.query(`UPDATE a SET v = 'new 2 changed' WHERE id = 2`);
  await my.query(`UPDATE b SET v = 'b after' WHERE id = 3`);
  await my.query(`INSERT INTO b (id, v) VALUES (6, 'b new')`);
}

async function createDb(my: mysql.Connection, db: string): Promise<void> {
  await my.query(`CREATE DATABASE \`${db}\` CHARACTER SET utf8mb4`);
  await my.query(`USE \`${db}\``);
  await my.query('CREATE TABLE a (id INT NOT NULL PRIMARY KEY, v VARCHAR(30) NULL)');
  await my.query(`INSERT INTO a VALUES ${SEED(5, 'r')}`);
}

const streaming = (routes: LaggingRoute[]) =>
  until(
    'the snapshots',
    async () => routes.every((r) => r.pipeline.sourceProgress()?.phase === 'stream'),
    60_000,
    routes,
  );

describe('MariaDB RENAME TABLE, then a new table under the old name written first, while the sink lags', () => {
  const db = uniqueName('rnt_my');
  const tgtDb = `${db}_tgt`;
  let my: mysql.Connection;
  let pgc: pg.Client;
  let toPg: LaggingRoute;
  let toMy: LaggingRoute;

  beforeAll(async () => {
    my = await mariadb();
    pgc = await postgres();
    await createDb(my, db);
    toPg = startLaggingRoute('rnt-m2p', { source: 'mysql', sourceNamespace: db, sink: 'postgres' });
    toMy = startLaggingRoute('rnt-m2m', {
      source: 'mysql',
      sourceNamespace: db,
      sink: 'mysql',
      targetNamespace: tgtDb,
    });
    await streaming([toPg, toMy]);
    await renameAndRecreate(my);
    toPg.startSink();
    toMy.startSink();
  }, 180_000);

  afterAll(async () => {
    await Promise.all([toPg?.stop(), toMy?.stop()]);
    for (const r of [toPg, toMy].filter(Boolean)) await deletePipelineTopics(kafka, r.config.name);
    await my?.query(`DROP DATABASE IF EXISTS \`${db}\``).catch(() => undefined);
    await my?.query(`DROP DATABASE IF EXISTS \`${tgtDb}\``).catch(() => undefined);
    await pgc?.query(`DROP SCHEMA IF EXISTS "${db}" CASCADE`).catch(() => undefined);
    await Promise.all([my?.end(), pgc?.end()]);
  });

  it('MariaDB -> PostgreSQL: verify equal; the renamed and the new table hold their own rows', async () => {
    const { report } = await waitForConvergence(toPg, kafka, { timeoutMs: 90_000 });
    expect(report.equal, JSON.stringify(summary(report))).toBe(true);
    expect(await pgTables(pgc, db)).toEqual(['a', 'b']);
    expect(await pgRows(pgc, db, 'b')).toEqual(RENAMED_B);
    expect(await pgRows(pgc, db, 'a')).toEqual(NEW_A);
  }, 240_000);

  it('MariaDB -> MariaDB: verify equal; the renamed and the new table hold their own rows', async () => {
    const { report } = await waitForConvergence(toMy, kafka, { timeoutMs: 90_000 });
    expect(report.equal, JSON.stringify(summary(report))).toBe(true);
    expect(await myTables(my, tgtDb)).toEqual(['a', 'b']);
    expect(await myRows(my, tgtDb, 'b')).toEqual(RENAMED_B);
    expect(await myRows(my, tgtDb, 'a')).toEqual(NEW_A);
  }, 240_000);
});

describe('MariaDB RENAME TABLE, the source stopped right after it with no row change since', () => {
  const db = uniqueName('rnt_stop');
  let my: mysql.Connection;
  let pgc: pg.Client;
  let route: LaggingRoute;

  beforeAll(async () => {
    my = await mariadb();
    pgc = await postgres();
    await createDb(my, db);
    route = startLaggingRoute('rnt-stop', { source: 'mysql', sourceNamespace: db, sink: 'postgres' });
    await streaming([route]);
    await my.query(`UPDATE a SET v = CONCAT('a ', id)`);
    await my.query('RENAME TABLE a TO b');
    const [status] = await my.query('SHOW MASTER STATUS');
    const s = (status as Array<{ File: string; Position: number }>)[0]!;
    const renameEnd = `${s.File}:${s.Position}`;
    // Stopped once the position after the RENAME is stored: no row change of b was read.
    await until(
      'the position after the RENAME stored',
      async () => {
        const stored = route.pipeline.sourceProgress()?.storedPosition;
        return stored && atOrBefore(renameEnd, stored) ? stored : null;
      },
      30_000,
      [route],
    );
    await route.stopSource();
    route.startSource();
    await streaming([route]);
    await my.query(`UPDATE b SET v = 'b after' WHERE id = 3`);
    await my.query(`INSERT INTO b (id, v) VALUES (6, 'b new')`);
    route.startSink();
  }, 180_000);

  afterAll(async () => {
    await route?.stop();
    if (route) await deletePipelineTopics(kafka, route.config.name);
    await my?.query(`DROP DATABASE IF EXISTS \`${db}\``).catch(() => undefined);
    await pgc?.query(`DROP SCHEMA IF EXISTS "${db}" CASCADE`).catch(() => undefined);
    await Promise.all([my?.end(), pgc?.end()]);
  });

  it('MariaDB -> PostgreSQL: the markers are in the new topic, the target table is renamed, verify equal', async () => {
    const { report } = await waitForConvergence(route, kafka, { timeoutMs: 90_000 });
    expect(report.equal, JSON.stringify(summary(report))).toBe(true);
    const records = await readTopicToEnd(kafka, dataTopic(route.config.name, db, 'b'));
    const markers = records.filter((r) => parseRenameMarker(r.value));
    expect(markers.length).toBeGreaterThanOrEqual(3);
    expect(new Set(markers.map((r) => parseRenameMarker(r.value)?.fromTopic))).toEqual(
      new Set([dataTopic(route.config.name, db, 'a')]),
    );
    expect(await pgTables(pgc, db)).toEqual(['b']);
    expect(await pgRows(pgc, db, 'b')).toEqual(RENAMED_B);
  }, 240_000);
});
