/**
 * No lock outlives one chunk query: while `ferry run` is still snapshotting a large table, an
 * application `ALTER TABLE … ADD COLUMN` on a table already read, and a `SELECT COUNT(*)` on it,
 * complete — and a position the running source stored AFTER both returned still lists the large
 * table as pending (the order of events, not a duration). Then everything converges: `ferry
 * verify` equal, the new column at the target with the value a later insert gave it.
 * For MariaDB and for PostgreSQL sources (PostgreSQL target).
 */
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceOffsetRecord } from '../../src/offsets/source-offsets.js';
import {
  dropSourceDatabase,
  ensureCliBuilt,
  eventually,
  type FerryProcess,
  freePort,
  parsedConfig,
  startFerry,
} from '../helpers/cli.js';
import { dropPgSlot } from '../helpers/e2e.js';
import { sandboxKafka, storedOffset } from '../helpers/kafka.js';
import { mysqlRoot, pgFerry, pgSuper, uniqueName } from '../helpers/sandbox.js';
import {
  type SnapshotPipeline,
  statusJson,
  verifyEqual,
  withLog,
  writeSnapshotPipeline,
} from '../helpers/snapshot-pipeline.js';

const SMALL_ROWS = 50;
const BIG_ROWS = 20_000;

const running: FerryProcess[] = [];
const cleanups: Array<() => Promise<void>> = [];

beforeAll(() => ensureCliBuilt(), 300_000);
afterAll(async () => {
  for (const p of running) await p.stop('SIGKILL');
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

/** What the test does at the source, per engine. */
interface SourceApp {
  /** `db` or `schema` holding a_small and b_big. */
  namespace: string;
  targetSchema: string;
  alterSmall(): Promise<void>;
  countSmall(): Promise<number>;
  /** An insert into a_small with extra = 9, and an update of b_big, after the ALTER. */
  writeAfter(): Promise<void>;
  end(): Promise<void>;
}

async function mariadbApp(): Promise<SourceApp> {
  const db = uniqueName('ferry_snapddl');
  const root = await mysqlRoot();
  await root.query('CREATE DATABASE ??', [db]);
  await root.query('USE ??', [db]);
  await root.query('CREATE TABLE a_small (id INT PRIMARY KEY, v INT NOT NULL)');
  await root.query('INSERT INTO a_small VALUES ?', [Array.from({ length: SMALL_ROWS }, (_, i) => [i + 1, i])]);
  await root.query('CREATE TABLE b_big (id INT PRIMARY KEY, v INT NOT NULL, pad VARCHAR(60) NOT NULL)');
  for (let i = 0; i < BIG_ROWS; i += 10_000) {
    await root.query('INSERT INTO b_big VALUES ?', [
      Array.from({ length: 10_000 }, (_, k) => [i + k + 1, 0, `padding for row ${i + k + 1}`]),
    ]);
  }
  const app: mysql.Connection = await mysqlRoot(db);
  cleanups.push(async () => {
    const pgc = await pgSuper();
    await pgc.query(`DROP SCHEMA IF EXISTS ${pgc.escapeIdentifier(db)} CASCADE`).finally(() => pgc.end());
    await dropSourceDatabase(db);
  });
  return {
    namespace: db,
    targetSchema: db,
    alterSmall: async () => void (await app.query('ALTER TABLE a_small ADD COLUMN extra INT NULL')),
    countSmall: async () => {
      const [rows] = (await app.query('SELECT COUNT(*) AS n FROM a_small')) as unknown as [Array<{ n: number }>];
      return Number(rows[0]!.n);
    },
    writeAfter: async () => {
      await app.query('INSERT INTO a_small (id, v, extra) VALUES (?, ?, ?)', [SMALL_ROWS + 1, 1, 9]);
      await app.query('UPDATE b_big SET v = 1 WHERE id = ?', [BIG_ROWS]);
    },
    end: async () => {
      await app.end();
      await root.end();
    },
  };
}

async function postgresApp(): Promise<SourceApp> {
  const schema = uniqueName('ferry_snapddl_pg').toLowerCase();
  const target = `${schema}_t`;
  const app: pg.Client = await pgFerry();
  app.on('error', () => undefined);
  const q = (s: string) => app.escapeIdentifier(s);
  await app.query(`CREATE SCHEMA ${q(schema)}`);
  await app.query(`CREATE TABLE ${q(schema)}.a_small (id int PRIMARY KEY, v int NOT NULL)`);
  await app.query(`INSERT INTO ${q(schema)}.a_small SELECT g, g - 1 FROM generate_series(1, $1::int) g`, [SMALL_ROWS]);
  await app.query(`CREATE TABLE ${q(schema)}.b_big (id int PRIMARY KEY, v int NOT NULL, pad varchar(60) NOT NULL)`);
  await app.query(
    `INSERT INTO ${q(schema)}.b_big SELECT g, 0, 'padding for row ' || g FROM generate_series(1, $1::int) g`,
    [BIG_ROWS],
  );
  cleanups.push(async () => {
    const pgc = await pgSuper();
    try {
      await pgc.query(`DROP SCHEMA IF EXISTS ${pgc.escapeIdentifier(schema)} CASCADE`);
      await pgc.query(`DROP SCHEMA IF EXISTS ${pgc.escapeIdentifier(target)} CASCADE`);
    } finally {
      await pgc.end();
    }
  });
  return {
    namespace: schema,
    targetSchema: target,
    alterSmall: async () => void (await app.query(`ALTER TABLE ${q(schema)}.a_small ADD COLUMN extra int NULL`)),
    countSmall: async () =>
      Number((await app.query<{ n: string }>(`SELECT COUNT(*) AS n FROM ${q(schema)}.a_small`)).rows[0]!.n),
    writeAfter: async () => {
      await app.query(`INSERT INTO ${q(schema)}.a_small (id, v, extra) VALUES ($1, 1, 9)`, [SMALL_ROWS + 1]);
      await app.query(`UPDATE ${q(schema)}.b_big SET v = 1 WHERE id = $1`, [BIG_ROWS]);
    },
    end: () => app.end(),
  };
}

async function waitForStored(
  name: string,
  what: string,
  pred: (s: SourceOffsetRecord) => boolean,
  timeoutMs = 120_000,
): Promise<SourceOffsetRecord> {
  const kafka = sandboxKafka();
  return eventually(
    what,
    async () => {
      const s = await storedOffset(kafka, name);
      return s && pred(s) ? s : null;
    },
    timeoutMs,
    200,
  );
}

async function converged(p: SnapshotPipeline): Promise<void> {
  await eventually(
    'the snapshot to end and the sink to catch up (status --json: stream, lag 0)',
    async () => {
      const s = await statusJson(p);
      return s.source.phase === 'stream' && s.lagEvents === 0;
    },
    300_000,
    1000,
  );
  await verifyEqual(p, 60_000);
}

describe.each([
  ['MariaDB', 'mysql' as const, mariadbApp],
  ['PostgreSQL', 'postgres' as const, postgresApp],
])('%s source: DDL and reads on a table already snapshotted, while a large table is read', (_label, kind, make) => {
  it('ALTER TABLE … ADD COLUMN and SELECT COUNT(*) return while the large table is still pending; then all converges', async () => {
    const app = await make();
    cleanups.push(() => app.end());
    const name = uniqueName(`snapddl_${kind}`).replace(/_/g, '-');
    const p = writeSnapshotPipeline({
      name,
      source: kind,
      namespace: app.namespace,
      ...(kind === 'postgres' ? { targetSchema: app.targetSchema } : {}),
      metricsPort: await freePort(),
      chunkSize: 50,
      parallelism: 1,
    });
    if (kind === 'postgres') {
      const config = parsedConfig(p.file, p.env);
      cleanups.push(() => dropPgSlot(config));
    }
    const ferry = startFerry(['run', '-c', p.file, '--no-progress'], p.env);
    running.push(ferry);
    const small = `${app.namespace}.a_small`;
    const big = `${app.namespace}.b_big`;

    // a_small is read (one chunk), b_big is being read.
    const before = await withLog(ferry, () =>
      waitForStored(
        name,
        `${small} done and ${big} started`,
        (s) =>
          (s.snapshot?.done ?? []).includes(small) &&
          (s.snapshot?.pending ?? []).some((t) => t.table === big && t.lastKey !== null),
      ),
    );

    await app.alterSmall();
    expect(await app.countSmall()).toBe(SMALL_ROWS);
    const returned = Date.now();

    // A position stored after the ALTER and the SELECT returned: b_big still pending.
    const after = await waitForStored(
      name,
      'a position stored after the ALTER returned',
      (s) => s.writtenAt > returned,
    );
    expect(after.phase).toBe('snapshot');
    expect((after.snapshot?.pending ?? []).map((t) => t.table)).toContain(big);
    expect(after.snapshot?.done).toContain(small);
    const keyBefore = before.snapshot?.pending?.find((t) => t.table === big)?.lastKey ?? null;
    expect(keyBefore, 'the large table was already being read before the ALTER').not.toBeNull();

    await app.writeAfter();
    await withLog(ferry, () => converged(p));

    // The new column arrived, with the value the insert after the ALTER gave it.
    const target = await pgSuper();
    try {
      const r = await target.query<{ id: number; extra: number | null }>(
        `SELECT id, extra FROM ${target.escapeIdentifier(app.targetSchema)}.a_small WHERE id = $1`,
        [SMALL_ROWS + 1],
      );
      expect(r.rows).toEqual([{ id: SMALL_ROWS + 1, extra: 9 }]);
      const n = await target.query<{ n: string }>(
        `SELECT COUNT(*) AS n FROM ${target.escapeIdentifier(app.targetSchema)}.b_big`,
      );
      expect(Number(n.rows[0]!.n)).toBe(BIG_ROWS);
    } finally {
      await target.end();
    }
    expect(await ferry.stop('SIGTERM')).toMatchObject({ code: 0 });
  }, 600_000);
});
