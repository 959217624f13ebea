/**
 * Names with spaces, configured by name: a MariaDB database and tables whose names contain spaces
 * (and one a dot), listed one by one in `source.tables`, with `source.excludeColumns` and
 * `source.keyColumns` naming them too, replicate end to end through the real MariaDB source,
 * Kafka and the PostgreSQL sink (a pipeline built from the config as `ferry run` does). A table
 * the config does not name stays out, and so does a database whose name only starts the same.
 */
import type { Kafka } from 'kafkajs';
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quoteIdent as q } from '../../connectors/mysql-sink/dialect.js';
import { configFromObject } from '../../src/config/index.js';
import { createKafka } from '../../src/kafka/client.js';
import { deletePipelineTopics, type RunningPipeline, startPipeline, waitForConvergence } from '../helpers/e2e.js';
import { getSandbox, uniqueName } from '../helpers/sandbox.js';
import { mariadb, postgres } from '../helpers/sink-harness.js';

describe('end to end: database and table names with spaces, configured by name', () => {
  const kafka: Kafka = createKafka({ brokers: getSandbox().kafka.brokers, clientId: 'ferry-e2e-spaces' });
  const unique = uniqueName('spaces');
  const db = `acc db ${unique}`;
  /** Another database whose name has `db` as its first part followed by a dot. */
  const lookalike = `${db}.x`;
  let my: mysql.Connection;
  let pgc: pg.Client;
  let run: RunningPipeline | null = null;

  beforeAll(async () => {
    my = await mariadb();
    pgc = await postgres();
  });
  afterAll(async () => {
    await run?.stop();
    if (run) await deletePipelineTopics(kafka, run.config.name).catch(() => undefined);
    await my?.end();
    await pgc?.end();
  });

  it('names with spaces: replicates tables named with spaces and dots, configured by exact name', async () => {
    await my.query(`CREATE DATABASE ${q(db)}`);
    await my.query(`CREATE DATABASE ${q(lookalike)}`);
    await my.query(
      `CREATE TABLE ${q(db)}.${q('order lines')} (${q('line id')} INT NOT NULL PRIMARY KEY, ` +
        `${q('item name')} VARCHAR(40), ${q('secret note')} VARCHAR(40))`,
    );
    // No primary key: the configured key column is NOT NULL and unique, as source.keyColumns requires.
    await my.query(
      `CREATE TABLE ${q(db)}.${q('audit log')} (${q('entry id')} INT NOT NULL, what VARCHAR(40), UNIQUE KEY ${q('by entry')} (${q('entry id')}))`,
    );
    await my.query(`CREATE TABLE ${q(db)}.${q('v1.items')} (id INT NOT NULL PRIMARY KEY, v VARCHAR(40))`);
    await my.query(`CREATE TABLE ${q(db)}.${q('not listed')} (id INT NOT NULL PRIMARY KEY)`);
    await my.query(`CREATE TABLE ${q(lookalike)}.${q('order lines')} (id INT NOT NULL PRIMARY KEY)`);
    await my.query(`INSERT INTO ${q(db)}.${q('order lines')} VALUES (1, 'tea', 'hidden'), (2, 'milk', 'hidden')`);
    await my.query(`INSERT INTO ${q(db)}.${q('audit log')} VALUES (1, 'created')`);
    await my.query(`INSERT INTO ${q(db)}.${q('v1.items')} VALUES (1, 'dot')`);
    await my.query(`INSERT INTO ${q(db)}.${q('not listed')} VALUES (1)`);
    await my.query(`INSERT INTO ${q(lookalike)}.${q('order lines')} VALUES (1)`);

    const s = getSandbox();
    const sourceUrl = new URL(s.mysql.url);
    sourceUrl.pathname = `/${encodeURIComponent(db)}`;
    const config = configFromObject(
      {
        name: unique.replace(/_/g, '-'),
        kafka: { brokers: s.kafka.brokers, partitions: 2 },
        source: {
          kind: 'mysql',
          url: sourceUrl.toString(),
          tables: [`${db}.order lines`, `${db}.audit log`, `${db}.v1\\.items`],
          excludeColumns: [`${db}.order lines.secret note`],
          keyColumns: { [`${db}.audit log`]: ['entry id'] },
          snapshotChunkSize: 100,
          heartbeatIntervalMs: 500,
        },
        sink: { kind: 'postgres', url: s.postgres.url, batchSize: 100, lingerMs: 20, maxRetries: 0 },
        metrics: { enabled: false },
        log: { level: 'warn' },
      },
      { env: {} },
    );
    run = startPipeline(config);
    await waitForConvergence(run, kafka);

    // Changes while streaming, in every configured table and in the ones left out.
    await my.query(`INSERT INTO ${q(db)}.${q('order lines')} VALUES (3, 'bread', 'hidden')`);
    await my.query(`UPDATE ${q(db)}.${q('order lines')} SET ${q('item name')} = 'oat milk' WHERE ${q('line id')} = 2`);
    await my.query(`DELETE FROM ${q(db)}.${q('order lines')} WHERE ${q('line id')} = 1`);
    await my.query(`INSERT INTO ${q(db)}.${q('audit log')} VALUES (2, 'updated')`);
    await my.query(`UPDATE ${q(db)}.${q('v1.items')} SET v = 'dot, later' WHERE id = 1`);
    await my.query(`INSERT INTO ${q(db)}.${q('not listed')} VALUES (2)`);
    await my.query(`INSERT INTO ${q(lookalike)}.${q('order lines')} VALUES (2)`);
    const { report } = await waitForConvergence(run, kafka);

    expect(report.equal).toBe(true);
    expect(report.tables.map((t) => t.source).sort()).toEqual([
      `${db}.audit log`,
      `${db}.order lines`,
      `${db}.v1.items`,
    ]);
    const lines = await pgc.query(`SELECT * FROM "${db}"."order lines" ORDER BY "line id"`);
    expect(lines.rows).toEqual([
      { 'line id': 2, 'item name': 'oat milk' },
      { 'line id': 3, 'item name': 'bread' },
    ]);
    const audit = await pgc.query(`SELECT "entry id", what FROM "${db}"."audit log" ORDER BY "entry id"`);
    expect(audit.rows).toEqual([
      { 'entry id': 1, what: 'created' },
      { 'entry id': 2, what: 'updated' },
    ]);
    const items = await pgc.query(`SELECT id, v FROM "${db}"."v1.items"`);
    expect(items.rows).toEqual([{ id: 1, v: 'dot, later' }]);
    const tables = await pgc.query(
      'SELECT table_schema AS s, table_name AS t FROM information_schema.tables WHERE table_schema IN ($1, $2) ORDER BY 2',
      [db, lookalike],
    );
    expect(tables.rows).toEqual([
      { s: db, t: 'audit log' },
      { s: db, t: 'order lines' },
      { s: db, t: 'v1.items' },
    ]);
  });
});
