/**
 * Two binlog shapes that carry row changes differently, through the real MariaDB source, Kafka
 * and a PostgreSQL sink (pipelines built from a config as `ferry run` does):
 * - XA transactions: a prepared transaction's rows are published only once `XA COMMIT` is read,
 *   never after `XA ROLLBACK`; `XA COMMIT … ONE PHASE` is an ordinary commit; a prepared
 *   transaction still open when the source restarts is read again and published on its commit.
 * - DML written as a statement (a session with binlog_format=STATEMENT) on a captured table:
 *   the source stops with FERRY_STATEMENT_DML naming the table and position, or, with
 *   `source.statementDml: warn`, logs and counts it and goes on.
 */
import type { Kafka } from 'kafkajs';
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipelineConfig } from '../../src/config/index.js';
import { createKafka } from '../../src/kafka/client.js';
import {
  deletePipelineTopics,
  type RunningPipeline,
  routeConfig,
  startPipeline,
  until,
  waitForConvergence,
} from '../helpers/e2e.js';
import { getSandbox, uniqueName } from '../helpers/sandbox.js';
import { mariadb, postgres } from '../helpers/sink-harness.js';

describe('MariaDB source: XA transactions and statement-format DML', () => {
  const kafka: Kafka = createKafka({ brokers: getSandbox().kafka.brokers, clientId: 'ferry-xa-statement' });
  let my: mysql.Connection;
  let pgc: pg.Client;
  const pipelines: RunningPipeline[] = [];

  beforeAll(async () => {
    my = await mariadb();
    pgc = await postgres();
  });
  afterAll(async () => {
    for (const p of pipelines) await p.stop();
    for (const p of pipelines) await deletePipelineTopics(kafka, p.config.name).catch(() => undefined);
    await my?.end();
    await pgc?.end();
  });

  async function route(
    prefix: string,
    edit?: (c: PipelineConfig) => void,
  ): Promise<{ db: string; config: PipelineConfig }> {
    const db = uniqueName(prefix);
    await my.query(`CREATE DATABASE \`${db}\``);
    await my.query(`CREATE TABLE \`${db}\`.t (id INT NOT NULL PRIMARY KEY, v VARCHAR(20) NOT NULL)`);
    // One snapshot row: the sink creates the target table from it.
    await my.query(`INSERT INTO \`${db}\`.t VALUES (0, 'seed')`);
    const config = routeConfig({
      name: db.replace(/_/g, '-'),
      source: 'mysql',
      sourceNamespace: db,
      sink: 'postgres',
      partitions: 1,
    });
    edit?.(config);
    return { db, config };
  }

  async function targetIds(db: string): Promise<number[]> {
    const r = await pgc.query(`SELECT id FROM "${db}".t ORDER BY id`).catch(() => ({ rows: [] }));
    return (r.rows as Array<{ id: number }>).map((x) => x.id);
  }

  async function xa(conn: mysql.Connection, xid: string, ids: number[], end: 'prepare' | 'one phase'): Promise<void> {
    await conn.query(`XA START '${xid}'`);
    for (const id of ids) await conn.query('INSERT INTO t VALUES (?, ?)', [id, `xa ${xid}`]);
    await conn.query(`XA END '${xid}'`);
    if (end === 'prepare') await conn.query(`XA PREPARE '${xid}'`);
    else await conn.query(`XA COMMIT '${xid}' ONE PHASE`);
  }

  it('xa transactions: rows reach the target on XA COMMIT only, never after XA PREPARE + XA ROLLBACK', async () => {
    const { db, config } = await route('xa');
    const session = await mariadb(db);
    try {
      let run = startPipeline(config);
      pipelines.push(run);
      await waitForConvergence(run, kafka);

      // Prepared, then rolled back: the target must never see these rows, not even meanwhile.
      await xa(session, 'rolled back', [1, 2, 3], 'prepare');
      await my.query(`INSERT INTO \`${db}\`.t VALUES (100, 'after prepare')`);
      await until('row 100 at the target', async () => (await targetIds(db)).includes(100), 60_000, [run]);
      expect(await targetIds(db)).toEqual([0, 100]);
      await session.query("XA ROLLBACK 'rolled back'");

      // Prepared, then committed; and a one-phase commit.
      await xa(session, 'committed', [4, 5], 'prepare');
      await my.query(`INSERT INTO \`${db}\`.t VALUES (101, 'while prepared')`);
      await until('row 101 at the target', async () => (await targetIds(db)).includes(101), 60_000, [run]);
      expect(await targetIds(db)).toEqual([0, 100, 101]);
      await session.query("XA COMMIT 'committed'");
      await xa(session, 'one phase', [6], 'one phase');
      await waitForConvergence(run, kafka);
      expect(await targetIds(db)).toEqual([0, 4, 5, 6, 100, 101]);

      // Prepared while the source runs, committed after it restarted: the rows are not lost.
      await xa(session, 'across restart', [7, 8], 'prepare');
      await my.query(`INSERT INTO \`${db}\`.t VALUES (102, 'before restart')`);
      await until('row 102 at the target', async () => (await targetIds(db)).includes(102), 60_000, [run]);
      await run.stop();
      await session.query("XA COMMIT 'across restart'");
      await xa(session, 'rolled back later', [9], 'prepare');
      await session.query("XA ROLLBACK 'rolled back later'");
      run = startPipeline(config);
      pipelines.push(run);
      const { report } = await waitForConvergence(run, kafka);
      expect(report.equal).toBe(true);
      expect(await targetIds(db)).toEqual([0, 4, 5, 6, 7, 8, 100, 101, 102]);
    } finally {
      await session.end();
    }
  });

  it('statement-format dml: stops with FERRY_STATEMENT_DML naming the table and position', async () => {
    const { db, config } = await route('stmt_fail');
    const run = startPipeline(config);
    pipelines.push(run);
    await waitForConvergence(run, kafka);
    const session = await mariadb(db);
    try {
      await session.query('SET SESSION binlog_format = STATEMENT');
      await session.query("INSERT INTO t VALUES (1, 'as a statement')");
    } finally {
      await session.end();
    }
    await expect(run.done).rejects.toMatchObject({ code: 'FERRY_STATEMENT_DML' });
    const err = (await run.done.catch((e: unknown) => e)) as Error & { details: Record<string, unknown> };
    expect(err.message).toContain(`INSERT on the captured table ${db}.t was written to the binlog as a statement`);
    expect(err.message).toMatch(/at [\w.-]+\.\d{6}:\d+ \(GTID \d+-\d+-\d+\)/);
    expect(err.message).toContain('SET GLOBAL binlog_format = ROW');
    expect(err.details['table']).toBe(`${db}.t`);
    expect(await targetIds(db)).toEqual([0]);
  });

  it('statement-format dml: with statementDml warn, logs and counts it and goes on', async () => {
    const { db, config } = await route('stmt_warn', (c) => {
      (c.source as { statementDml?: string }).statementDml = 'warn';
    });
    const run = startPipeline(config);
    pipelines.push(run);
    await waitForConvergence(run, kafka);
    const session = await mariadb(db);
    try {
      await session.query('SET SESSION binlog_format = STATEMENT');
      await session.query("UPDATE t SET v = 'x' WHERE id = 0");
      await session.query('SET SESSION binlog_format = ROW');
      await session.query("INSERT INTO t VALUES (2, 'as rows')");
    } finally {
      await session.end();
    }
    await until('row 2 at the target', async () => (await targetIds(db)).includes(2), 60_000, [run]);
    const warning = run.logs().find((l) => l.includes('FERRY_STATEMENT_DML'));
    expect(warning).toBeDefined();
    expect(JSON.parse(warning!)).toMatchObject({ level: 'warn', code: 'FERRY_STATEMENT_DML', table: `${db}.t` });
    const errors = await run.metrics.errors.get();
    const counted = errors.values.find((v) => v.labels['code'] === 'FERRY_STATEMENT_DML');
    expect(counted?.value).toBe(1);
    expect(counted?.labels['component']).toBe('source');
  });
});
