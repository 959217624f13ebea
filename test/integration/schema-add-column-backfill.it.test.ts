/**
 * ADD COLUMN whose value in the rows that existed before the ALTER the schema cannot state
 * (docs/schema-changes.md): expression defaults (CURRENT_TIMESTAMP, uuid(), random(), a
 * sequence), binary/BIT/TIMESTAMP defaults, and MySQL's implicit value of a NOT NULL column
 * without a DEFAULT. The source reads the table again by itself (a backfill through the snapshot
 * engine), so `ferry verify` ends equal with no manual step; the old rows are checked directly.
 */
import type { Kafka } from 'kafkajs';
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/kafka/client.js';
import {
  deletePipelineTopics,
  dropPgSlot,
  type RunningPipeline,
  startPipeline,
  startRoute,
  summary,
  until,
  waitForConvergence,
} from '../helpers/e2e.js';
import { getSandbox, pgFerry, pgSuper, uniqueName } from '../helpers/sandbox.js';
import { mariadb } from '../helpers/sink-harness.js';

const SEED = Array.from({ length: 30 }, (_, i) => `(${i + 1}, 'row ${i + 1}')`).join(', ');

describe('ADD COLUMN with an expression default or an implicit value: MariaDB -> PostgreSQL', () => {
  const db = uniqueName('bf_my');
  const kafka: Kafka = createKafka({ brokers: getSandbox().kafka.brokers, clientId: 'ferry-backfill-my' });
  let my: mysql.Connection;
  let route: RunningPipeline;

  beforeAll(async () => {
    my = await mariadb();
    await my.query(`CREATE DATABASE \`${db}\` CHARACTER SET utf8mb4`);
    await my.query(`USE \`${db}\``);
    await my.query('CREATE TABLE bf (id INT NOT NULL PRIMARY KEY, v VARCHAR(20) NOT NULL)');
    await my.query(`INSERT INTO bf VALUES ${SEED}`);
    await my.query('CREATE TABLE ra (id INT NOT NULL PRIMARY KEY, v VARCHAR(20) NOT NULL, c INT NULL)');
    await my.query('INSERT INTO ra SELECT id, v, id FROM bf');
    route = startRoute('bf-m2p', { source: 'mysql', sourceNamespace: db, sink: 'postgres' });
    await until('the snapshot', async () => route.pipeline.sourceProgress()?.phase === 'stream', 60_000, [route]);
    await waitForConvergence(route, kafka);
  }, 120_000);

  afterAll(async () => {
    await route?.stop();
    if (route) await deletePipelineTopics(kafka, route.config.name);
    await my?.query(`DROP DATABASE IF EXISTS \`${db}\``).catch(() => undefined);
    const admin = await pgSuper();
    await admin.query(`DROP SCHEMA IF EXISTS "${db}" CASCADE`).catch(() => undefined);
    await admin.end();
    await my?.end();
  });

  it('old rows end equal: CURRENT_TIMESTAMP, uuid(), TIMESTAMP, binary, BIT and NOT NULL without DEFAULT', async () => {
    await my.query(
      `ALTER TABLE bf
         ADD COLUMN created DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
         ADD COLUMN tok VARCHAR(36) NULL DEFAULT (uuid()),
         ADD COLUMN ts TIMESTAMP(3) NOT NULL DEFAULT '2024-05-06 07:08:09.123',
         ADD COLUMN bin VARBINARY(4) NOT NULL DEFAULT 0x0102,
         ADD COLUMN bits BIT(3) NOT NULL DEFAULT b'101',
         ADD COLUMN cnt INT NOT NULL,
         ADD COLUMN nm VARCHAR(5) NOT NULL`,
    );
    await my.query(`INSERT INTO bf (id, v, cnt, nm) VALUES (100, 'after', 5, 'x')`);
    const { report } = await waitForConvergence(route, kafka, { timeoutMs: 90_000 });
    expect(report.equal, JSON.stringify(summary(report))).toBe(true);
    const [src] = (await my.query('SELECT tok, cnt, nm FROM bf WHERE id = 7')) as unknown as [
      Array<{ tok: string; cnt: number; nm: string }>,
    ];
    const admin = await pgSuper();
    try {
      const tgt = await admin.query(`SELECT tok, cnt, nm, created FROM "${db}".bf WHERE id = 7`);
      expect(tgt.rows[0]?.tok).toBe(src[0]!.tok);
      expect(tgt.rows[0]?.tok).toMatch(/^[0-9a-f-]{36}$/);
      expect(Number(tgt.rows[0]?.cnt)).toBe(0);
      expect(tgt.rows[0]?.nm).toBe('');
      expect(tgt.rows[0]?.created).not.toBeNull();
    } finally {
      await admin.end();
    }
  }, 150_000);

  it('re-adding a column under the name of a dropped one: old rows do not keep the stale values', async () => {
    await my.query('ALTER TABLE ra DROP COLUMN c');
    await my.query(`INSERT INTO ra (id, v) VALUES (100, 'between')`);
    await my.query('ALTER TABLE ra ADD COLUMN c INT NULL');
    await my.query(`INSERT INTO ra (id, v, c) VALUES (101, 'after', 7)`);
    const { report } = await waitForConvergence(route, kafka, { timeoutMs: 90_000 });
    expect(report.equal, JSON.stringify(summary(report))).toBe(true);
    const admin = await pgSuper();
    try {
      const tgt = await admin.query(`SELECT id, c FROM "${db}".ra WHERE id IN (7, 101) ORDER BY id`);
      expect(tgt.rows).toEqual([
        { id: 7, c: null },
        { id: 101, c: 7 },
      ]);
    } finally {
      await admin.end();
    }
  }, 150_000);
});

describe('ADD COLUMN with a volatile default: PostgreSQL -> PostgreSQL', () => {
  const schema = uniqueName('bf_pg');
  const tgtSchema = `${schema}_tgt`;
  const kafka: Kafka = createKafka({ brokers: getSandbox().kafka.brokers, clientId: 'ferry-backfill-pg' });
  let src: pg.Client;
  let route: RunningPipeline;

  beforeAll(async () => {
    src = await pgFerry();
    await src.query(`CREATE SCHEMA "${schema}"`);
    await src.query(`SET search_path = "${schema}"`);
    await src.query('CREATE TABLE bf (id int PRIMARY KEY, v varchar(20) NOT NULL)');
    await src.query(`INSERT INTO bf VALUES ${SEED}`);
    await src.query('CREATE TABLE rs (id int PRIMARY KEY, v varchar(20) NOT NULL)');
    await src.query(`INSERT INTO rs VALUES ${SEED}`);
    await src.query('CREATE TABLE rn (id int PRIMARY KEY, v varchar(20) NOT NULL)');
    await src.query(`INSERT INTO rn VALUES ${SEED}`);
    route = startRoute('bf-p2p', {
      source: 'postgres',
      sourceNamespace: schema,
      sink: 'postgres',
      targetNamespace: tgtSchema,
    });
    await until('the snapshot', async () => route.pipeline.sourceProgress()?.phase === 'stream', 60_000, [route]);
    await waitForConvergence(route, kafka);
  }, 120_000);

  afterAll(async () => {
    await route?.stop();
    if (route) {
      await dropPgSlot(route.config).catch(() => undefined);
      await deletePipelineTopics(kafka, route.config.name);
    }
    await src?.end();
    const admin = await pgSuper();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await admin.query(`DROP SCHEMA IF EXISTS "${tgtSchema}" CASCADE`).catch(() => undefined);
    await admin.end();
  });

  it('old rows end equal: random(), gen_random_uuid(), clock_timestamp() and a sequence', async () => {
    await src.query(
      `ALTER TABLE bf
         ADD COLUMN r float8 DEFAULT random(),
         ADD COLUMN u uuid NOT NULL DEFAULT gen_random_uuid(),
         ADD COLUMN at timestamptz DEFAULT clock_timestamp(),
         ADD COLUMN s bigserial`,
    );
    // A row change after the ALTER: its Relation message tells the source about the new shape.
    await src.query(`INSERT INTO bf (id, v) VALUES (100, 'after')`);
    const { report } = await waitForConvergence(route, kafka, { timeoutMs: 90_000 });
    expect(report.equal, JSON.stringify(summary(report))).toBe(true);
    const expected = await src.query('SELECT u::text AS u, s::text AS s FROM bf WHERE id = 7');
    const admin = await pgSuper();
    try {
      const tgt = await admin.query(`SELECT u::text AS u, s::text AS s, r FROM "${tgtSchema}".bf WHERE id = 7`);
      expect(tgt.rows[0]?.u).toBe(expected.rows[0]?.u);
      expect(tgt.rows[0]?.s).toBe(expected.rows[0]?.s);
      expect(tgt.rows[0]?.r).not.toBeNull();
    } finally {
      await admin.end();
    }
  }, 150_000);

  it('an ALTER while the source is stopped (no Relation message before the restart): the restart still reads the table again', async () => {
    await route.stop();
    await src.query('ALTER TABLE rs ADD COLUMN u uuid NOT NULL DEFAULT gen_random_uuid()');
    route = startPipeline(route.config);
    await src.query(`INSERT INTO rs (id, v) VALUES (100, 'after')`);
    const { report } = await waitForConvergence(route, kafka, { timeoutMs: 90_000 });
    expect(report.equal, JSON.stringify(summary(report))).toBe(true);
    const expected = await src.query('SELECT u::text AS u FROM rs WHERE id = 7');
    const admin = await pgSuper();
    try {
      const tgt = await admin.query(`SELECT u::text AS u FROM "${tgtSchema}".rs WHERE id = 7`);
      expect(tgt.rows[0]?.u).toBe(expected.rows[0]?.u);
    } finally {
      await admin.end();
    }
  }, 150_000);

  it('RENAME COLUMN while the source is stopped (found by attribute number): renamed at the target, data kept, no old column left', async () => {
    await route.stop();
    await src.query('ALTER TABLE rn RENAME COLUMN v TO w');
    route = startPipeline(route.config);
    await src.query(`INSERT INTO rn (id, w) VALUES (100, 'after')`);
    const { report } = await waitForConvergence(route, kafka, { timeoutMs: 90_000 });
    expect(report.equal, JSON.stringify(summary(report))).toBe(true);
    const admin = await pgSuper();
    try {
      const tgt = await admin.query(`SELECT w FROM "${tgtSchema}".rn WHERE id = 7`);
      expect(tgt.rows[0]?.w).toBe('row 7');
      const columns = await admin.query(
        'SELECT column_name AS c FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY 1',
        [tgtSchema, 'rn'],
      );
      expect(columns.rows.map((r) => r.c)).toEqual(['id', 'w']);
    } finally {
      await admin.end();
    }
  }, 150_000);
});
