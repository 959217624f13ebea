/**
 * Schema changes end to end on all four routes (docs/schema-changes.md): tables with rows get
 * ADD COLUMN … DEFAULT, RENAME COLUMN, a widening type change, DROP COLUMN and RENAME TABLE while
 * other connections keep writing (to the renamed table too, before and after the rename); then
 * `ferry verify` (verifyPipeline) must find every table equal, with no manual step, and the target
 * rows are checked directly: rows that existed before the ALTER hold the default, a renamed column
 * kept its data, the renamed table kept its rows.
 *
 * The sinks start only after the DDL (a lagging sink, regression "RENAME TABLE while the sink
 * lags"): the snapshot and the old table's events wait in the old topic, the renamed table's in
 * the new one, and the sink must apply the old topic up to the rename before the new one.
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
  tableReport,
  until,
  waitForConvergence,
} from '../helpers/e2e.js';
import { getSandbox, pgFerry, pgSuper, uniqueName } from '../helpers/sandbox.js';
import { mariadb, postgres } from '../helpers/sink-harness.js';

type Exec = (q: string) => Promise<unknown>;

/** Keeps inserting and updating rows of `sc` (only columns every DDL below keeps) until stopped. */
function writer(exec: Exec): { stop(): Promise<number> } {
  let running = true;
  let n = 0;
  const done = (async () => {
    while (running) {
      n++;
      await exec(`INSERT INTO sc (id, v) VALUES (${1000 + n}, 'w${n}')`);
      await exec(`UPDATE sc SET v = 'u${n}' WHERE id = ${(n % 20) + 1}`);
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return n;
    },
  };
}

/**
 * Keeps updating every row of `rn` until it is renamed, then those of `rn2` (the same keys, in
 * both topics) three times. The old topic gets many more events than the new one: a sink that
 * applied the new topic ahead of the old one would end with the old values.
 */
function renamedWriter(exec: Exec): { updates(): number; stop(): Promise<number> } {
  let n = 0;
  let after = 0;
  let table = 'rn';
  const done = (async () => {
    while (after < 3) {
      try {
        await exec(`UPDATE ${table} SET v = '${table} ${n}'`);
        if (table === 'rn') n++;
        else after++;
      } catch (err) {
        if (table === 'rn2') throw err;
        table = 'rn2';
      }
    }
  })();
  return {
    updates: () => n,
    async stop() {
      await done;
      return n;
    },
  };
}

/** A route whose source starts now and whose sink starts later (`startSink`), as one handle. */
interface LaggingRoute extends RunningPipeline {
  startSink(): void;
  stopSource(): Promise<void>;
  startSource(): void;
}

function startLaggingRoute(prefix: string, spec: Omit<RouteSpec, 'name'>): LaggingRoute {
  // Small batches: the old topic's events take several batches, so a new-topic event could overtake them.
  const config: PipelineConfig = routeConfig({ name: uniqueName(prefix).replace(/_/g, '-'), batchSize: 50, ...spec });
  let source = startPipeline(config, { source: true, sink: false });
  let sink: RunningPipeline | null = null;
  return {
    config,
    get pipeline() {
      return source.pipeline;
    },
    get metrics() {
      return source.metrics;
    },
    get done() {
      return Promise.all([source.done, sink?.done]).then(() => undefined);
    },
    get failure() {
      return source.failure ?? sink?.failure ?? null;
    },
    logs: () => [...source.logs(), ...(sink?.logs() ?? [])],
    startSink() {
      sink ??= startPipeline(config, { source: false, sink: true });
    },
    stopSource: () => source.stop(),
    startSource() {
      source = startPipeline(config, { source: true, sink: false });
    },
    async stop() {
      await Promise.all([source.stop(), sink?.stop()]);
    },
  };
}

/** The DDL of one source engine, in the order the test runs it. */
interface Dialect {
  addDefault: string;
  renameColumn: string;
  widen: string;
  dropColumn: string;
  renameTable: string;
  /** A new table under the renamed table's old name, with exactly its columns and key. */
  recreate: string;
}

const MARIADB: Dialect = {
  addDefault: "ALTER TABLE sc ADD COLUMN d INT NOT NULL DEFAULT 7, ADD COLUMN label VARCHAR(10) NULL DEFAULT 'it''s'",
  renameColumn: 'ALTER TABLE sc RENAME COLUMN old_name TO new_name',
  widen: 'ALTER TABLE sc MODIFY n BIGINT NULL',
  dropColumn: 'ALTER TABLE sc DROP COLUMN gone',
  renameTable: 'RENAME TABLE rn TO rn2',
  recreate: 'CREATE TABLE rn (id INT NOT NULL PRIMARY KEY, v VARCHAR(30) NULL)',
};

const POSTGRES: Dialect = {
  addDefault: "ALTER TABLE sc ADD COLUMN d int NOT NULL DEFAULT 7, ADD COLUMN label varchar(10) DEFAULT 'it''s'",
  renameColumn: 'ALTER TABLE sc RENAME COLUMN old_name TO new_name',
  widen: 'ALTER TABLE sc ALTER COLUMN n TYPE bigint',
  dropColumn: 'ALTER TABLE sc DROP COLUMN gone',
  renameTable: 'ALTER TABLE rn RENAME TO rn2',
  recreate: 'CREATE TABLE rn (id int PRIMARY KEY, v varchar(30))',
};

/** Runs the schema changes with writes going on, then a few more writes that use the new shape. */
async function changeSchemas(exec: Exec, writes: Exec, renames: Exec, ddl: Dialect): Promise<void> {
  const w = writer(writes);
  const rw = renamedWriter(renames);
  await exec(ddl.addDefault);
  await exec(`UPDATE sc SET v = 'after add' WHERE id = 3`);
  await exec(ddl.renameColumn);
  await exec(`UPDATE sc SET new_name = 'renamed and set' WHERE id = 4`);
  await exec(ddl.widen);
  await exec('UPDATE sc SET n = 9000000000 WHERE id = 5');
  await exec(ddl.dropColumn);
  await exec(`INSERT INTO rn (id, v) VALUES (100, 'before rename')`);
  await until('updates of rn', async () => rw.updates() >= 60, 30_000);
  await exec(ddl.renameTable);
  await exec(`INSERT INTO rn2 (id, v) VALUES (101, 'after rename')`);
  await exec(`UPDATE rn2 SET v = 'changed after rename' WHERE id = 2`);
  const n = await w.stop();
  expect(n).toBeGreaterThan(0);
  expect(await rw.stop()).toBeGreaterThanOrEqual(60);
  // Regression "a table re-created under the old name of a renamed table": same columns and key,
  // written while the old table's events still wait for the lagging sink.
  await exec(ddl.recreate);
  await exec(`INSERT INTO rn (id, v) VALUES (1, 'new 1'), (2, 'new 2')`);
  await exec(`UPDATE rn2 SET v = 'after the new rn' WHERE id = 3`);
  await exec(`UPDATE rn SET v = 'new 2 changed' WHERE id = 2`);
  await exec(`INSERT INTO sc (id, v, n, new_name, d) VALUES (500, 'new shape', 1, 'nn', 8)`);
}

const SEED_SC = Array.from({ length: 20 }, (_, i) => `(${i + 1}, 'row ${i + 1}', ${i}, 'name ${i + 1}', ${i})`).join(
  ', ',
);
const SEED_RN = Array.from({ length: 10 }, (_, i) => `(${i + 1}, 'r${i + 1}')`).join(', ');

/** What the target must hold for rows that existed before the ALTERs and were not touched since. */
function expectUntouchedRow(row: Record<string, unknown> | undefined): void {
  expect(row).toBeDefined();
  expect(Number(row!['d'])).toBe(7);
  expect(row!['label']).toBe("it's");
  expect(row!['new_name']).toBe('name 15');
}

describe('schema changes from MariaDB: MariaDB -> PostgreSQL and MariaDB -> MariaDB', () => {
  const db = uniqueName('sc_my');
  const tgtDb = `${db}_tgt`;
  const kafka: Kafka = createKafka({ brokers: getSandbox().kafka.brokers, clientId: 'ferry-e2e-schema-my' });
  let my: mysql.Connection;
  let writes: mysql.Connection;
  let renames: mysql.Connection;
  let pgc: pg.Client;
  let toPg: LaggingRoute;
  let toMy: LaggingRoute;

  beforeAll(async () => {
    my = await mariadb();
    pgc = await postgres();
    await my.query(`CREATE DATABASE \`${db}\` CHARACTER SET utf8mb4`);
    await my.query(`USE \`${db}\``);
    writes = await mariadb(db);
    renames = await mariadb(db);
    await my.query(`CREATE TABLE sc (id INT NOT NULL PRIMARY KEY, v VARCHAR(20) NOT NULL, n INT NULL,
      old_name VARCHAR(20) NULL, gone INT NULL)`);
    await my.query(`INSERT INTO sc VALUES ${SEED_SC}`);
    await my.query('CREATE TABLE rn (id INT NOT NULL PRIMARY KEY, v VARCHAR(30) NULL)');
    await my.query(`INSERT INTO rn VALUES ${SEED_RN}`);
    toPg = startLaggingRoute('sc-m2p', { source: 'mysql', sourceNamespace: db, sink: 'postgres' });
    toMy = startLaggingRoute('sc-m2m', { source: 'mysql', sourceNamespace: db, sink: 'mysql', targetNamespace: tgtDb });
    await until(
      'both snapshots',
      async () =>
        toPg.pipeline.sourceProgress()?.phase === 'stream' && toMy.pipeline.sourceProgress()?.phase === 'stream',
      60_000,
      [toPg, toMy],
    );
    await changeSchemas(
      (q) => my.query(q),
      (q) => writes.query(q),
      (q) => renames.query(q),
      MARIADB,
    );
    toPg.startSink();
    toMy.startSink();
  }, 180_000);

  afterAll(async () => {
    await Promise.all([toPg?.stop(), toMy?.stop()]);
    for (const r of [toPg, toMy].filter(Boolean)) await deletePipelineTopics(kafka, r.config.name);
    await my?.query(`DROP DATABASE IF EXISTS \`${db}\``).catch(() => undefined);
    await my?.query(`DROP DATABASE IF EXISTS \`${tgtDb}\``).catch(() => undefined);
    await pgc?.query(`DROP SCHEMA IF EXISTS "${db}" CASCADE`).catch(() => undefined);
    await Promise.all([my?.end(), writes?.end(), renames?.end(), pgc?.end()]);
  });

  it('MariaDB -> PostgreSQL: verify finds every table equal; old rows hold the default and the renamed column', async () => {
    const { report } = await waitForConvergence(toPg, kafka, { timeoutMs: 90_000 });
    expect(report.equal, JSON.stringify(summary(report))).toBe(true);
    expect(tableReport(report, `${db}.rn2`).sourceRows).toBe(12);
    expect(tableReport(report, `${db}.rn`).targetRows).toBe(2);
    const rows = await pgc.query(`SELECT * FROM "${db}".sc WHERE id = 15`);
    expectUntouchedRow(rows.rows[0]);
    const cols = await pgc.query(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'sc'`,
      [db],
    );
    const types = Object.fromEntries(cols.rows.map((r) => [r.column_name, r.data_type]));
    expect(types['n']).toBe('bigint');
    expect(types['old_name']).toBeUndefined();
  }, 120_000);

  it('MariaDB -> MariaDB: verify finds every table equal; old rows hold the default and the renamed column', async () => {
    const { report } = await waitForConvergence(toMy, kafka, { timeoutMs: 90_000 });
    expect(report.equal, JSON.stringify(summary(report))).toBe(true);
    const [rows] = await my.query(`SELECT * FROM \`${tgtDb}\`.sc WHERE id = 15`);
    expectUntouchedRow((rows as Array<Record<string, unknown>>)[0]);
    const [rn] = await my.query(`SELECT COUNT(*) AS c FROM \`${tgtDb}\`.rn2`);
    expect(Number((rn as Array<{ c: number }>)[0]!.c)).toBe(12);
    const [again] = await my.query(`SELECT id, v FROM \`${tgtDb}\`.rn ORDER BY id`);
    expect(again).toEqual([
      { id: 1, v: 'new 1' },
      { id: 2, v: 'new 2 changed' },
    ]);
  }, 120_000);
});

describe('schema changes from PostgreSQL: PostgreSQL -> PostgreSQL and PostgreSQL -> MariaDB', () => {
  const schema = uniqueName('sc_pg');
  const tgtSchema = `${schema}_tgt`;
  const kafka: Kafka = createKafka({ brokers: getSandbox().kafka.brokers, clientId: 'ferry-e2e-schema-pg' });
  let src: pg.Client;
  let writes: pg.Client;
  let renames: pg.Client;
  let my: mysql.Connection;
  let toPg: LaggingRoute;
  let toMy: LaggingRoute;

  beforeAll(async () => {
    src = await pgFerry();
    writes = await pgFerry();
    renames = await pgFerry();
    my = await mariadb();
    await src.query(`CREATE SCHEMA "${schema}"`);
    await src.query(`SET search_path = "${schema}"`);
    await writes.query(`SET search_path = "${schema}"`);
    await renames.query(`SET search_path = "${schema}"`);
    await src.query(
      'CREATE TABLE sc (id int PRIMARY KEY, v varchar(20) NOT NULL, n int, old_name varchar(20), gone int)',
    );
    await src.query(`INSERT INTO sc VALUES ${SEED_SC}`);
    await src.query('CREATE TABLE rn (id int PRIMARY KEY, v varchar(30))');
    await src.query(`INSERT INTO rn VALUES ${SEED_RN}`);
    toPg = startLaggingRoute('sc-p2p', {
      source: 'postgres',
      sourceNamespace: schema,
      sink: 'postgres',
      targetNamespace: tgtSchema,
    });
    toMy = startLaggingRoute('sc-p2m', { source: 'postgres', sourceNamespace: schema, sink: 'mysql' });
    await until(
      'both snapshots',
      async () =>
        toPg.pipeline.sourceProgress()?.phase === 'stream' && toMy.pipeline.sourceProgress()?.phase === 'stream',
      60_000,
      [toPg, toMy],
    );
    await changeSchemas(
      (q) => src.query(q),
      (q) => writes.query(q),
      (q) => renames.query(q),
      POSTGRES,
    );
    // Regression "PostgreSQL: a table renamed while the source is stopped": the target renames it too
    // (and no table stays under the old name). The renamed table's snapshot finishes first (a
    // snapshot of a table renamed while it waits is not the point here); the table re-created under
    // rn may not be captured yet when the source stops: then the start finds it under a captured
    // name with another oid and snapshots it.
    await until(
      'snapshots of the renamed and the re-created table',
      async () =>
        [toPg, toMy].every((r) => {
          const s = r.pipeline.sourceProgress()?.snapshot ?? [];
          return (
            s.some((t) => t.table.endsWith('.rn2')) &&
            s.every((t) => t.done) &&
            r.pipeline.sourceProgress()?.queueDepth === 0
          );
        }),
      30_000,
    );
    await Promise.all([toPg.stopSource(), toMy.stopSource()]);
    await src.query('ALTER TABLE rn2 RENAME TO rn3');
    await src.query(`UPDATE rn3 SET v = 'renamed while stopped' WHERE id = 4`);
    toPg.startSource();
    toMy.startSource();
    toPg.startSink();
    toMy.startSink();
  }, 180_000);

  afterAll(async () => {
    await Promise.all([toPg?.stop(), toMy?.stop()]);
    for (const r of [toPg, toMy].filter(Boolean)) {
      await dropPgSlot(r.config).catch(() => undefined);
      await deletePipelineTopics(kafka, r.config.name);
    }
    await Promise.all([src?.end(), writes?.end(), renames?.end()]);
    const admin = await pgSuper();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await admin.query(`DROP SCHEMA IF EXISTS "${tgtSchema}" CASCADE`).catch(() => undefined);
    await admin.end();
    await my?.query(`DROP DATABASE IF EXISTS \`${schema}\``).catch(() => undefined);
    await my?.end();
  });

  it('PostgreSQL -> PostgreSQL: verify finds every table equal; old rows hold the default and the renamed column; a table renamed while the source is stopped is renamed at the target', async () => {
    const { report } = await waitForConvergence(toPg, kafka, { timeoutMs: 90_000 });
    expect(report.equal, JSON.stringify(summary(report))).toBe(true);
    expect(tableReport(report, `${schema}.rn3`).sourceRows).toBe(12);
    expect(report.tables.some((t) => t.source === `${schema}.rn2`)).toBe(false);
    expect(tableReport(report, `${schema}.rn`).targetRows).toBe(2);
    const admin = await pgSuper();
    try {
      const rows = await admin.query(`SELECT * FROM "${tgtSchema}".sc WHERE id = 15`);
      expectUntouchedRow(rows.rows[0]);
      // No table left under the renamed table's old name (rn is the table created under its first name).
      const tables = await admin.query(
        `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1 AND table_name LIKE 'rn%' ORDER BY 1`,
        [tgtSchema],
      );
      expect(tables.rows.map((r) => r.t)).toEqual(['rn', 'rn3']);
    } finally {
      await admin.end();
    }
  }, 120_000);

  it('PostgreSQL -> MariaDB: verify finds every table equal; old rows hold the default and the renamed column; a table renamed while the source is stopped is renamed at the target', async () => {
    const { report } = await waitForConvergence(toMy, kafka, { timeoutMs: 90_000 });
    expect(report.equal, JSON.stringify(summary(report))).toBe(true);
    const [rows] = await my.query(`SELECT * FROM \`${schema}\`.sc WHERE id = 15`);
    const [tables] = await my.query(
      `SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME LIKE 'rn%' ORDER BY 1`,
      [schema],
    );
    // The table renamed while the source was stopped is renamed at the target too (no rn2 left).
    expect((tables as Array<{ t: string }>).map((r) => r.t)).toEqual(['rn', 'rn3']);
    expectUntouchedRow((rows as Array<Record<string, unknown>>)[0]);
  }, 120_000);
});
