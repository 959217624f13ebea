/**
 * A table created at the source while `ferry run` streams (it matches source.tables) is captured
 * and snapshotted without a restart: rows inserted right after the CREATE, before ferry could
 * have noticed the table, and rows written later all arrive; `ferry verify` says equal.
 * MariaDB → PostgreSQL and PostgreSQL → PostgreSQL (the publication must grow to the new table).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import { mysqlRoot, pgFerry, pgSuper, uniqueName } from '../helpers/sandbox.js';
import { statusJson, verifyEqual, withLog, writeSnapshotPipeline } from '../helpers/snapshot-pipeline.js';

const running: FerryProcess[] = [];
const cleanups: Array<() => Promise<void>> = [];

beforeAll(() => ensureCliBuilt(), 300_000);
afterAll(async () => {
  for (const p of running) await p.stop('SIGKILL');
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

interface SourceApp {
  namespace: string;
  targetSchema: string;
  /** Runs one SQL statement at the source (in the namespace). */
  exec(sql: string, values?: unknown[]): Promise<void>;
  end(): Promise<void>;
}

async function mariadb(): Promise<SourceApp> {
  const db = uniqueName('ferry_snapnew');
  const root = await mysqlRoot();
  await root.query('CREATE DATABASE ??', [db]);
  await root.query('USE ??', [db]);
  await root.query('CREATE TABLE existing (id INT PRIMARY KEY, v INT NOT NULL)');
  await root.query('INSERT INTO existing VALUES (1, 1), (2, 2)');
  cleanups.push(async () => {
    const pgc = await pgSuper();
    await pgc.query(`DROP SCHEMA IF EXISTS ${pgc.escapeIdentifier(db)} CASCADE`).finally(() => pgc.end());
    await dropSourceDatabase(db);
  });
  return {
    namespace: db,
    targetSchema: db,
    exec: async (sql, values) => void (await root.query(sql, values)),
    end: () => root.end(),
  };
}

async function postgres(): Promise<SourceApp> {
  const schema = uniqueName('ferry_snapnew_pg').toLowerCase();
  const target = `${schema}_t`;
  const app = await pgFerry();
  app.on('error', () => undefined);
  await app.query(`CREATE SCHEMA ${app.escapeIdentifier(schema)}`);
  await app.query(`SET search_path TO ${app.escapeIdentifier(schema)}`);
  await app.query('CREATE TABLE existing (id int PRIMARY KEY, v int NOT NULL)');
  await app.query('INSERT INTO existing VALUES (1, 1), (2, 2)');
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
    exec: async (sql, values) => void (await app.query(sql, values)),
    end: () => app.end(),
  };
}

/** `?` placeholders numbered for PostgreSQL ($1, $2, …). */
function numbered(sql: string): string {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
}

describe.each([
  ['MariaDB', 'mysql' as const, mariadb],
  ['PostgreSQL', 'postgres' as const, postgres],
])('%s source: CREATE TABLE while streaming', (_label, kind, make) => {
  it('the new table and every row written after the CREATE arrive without a restart', async () => {
    const app = await make();
    cleanups.push(() => app.end());
    const exec = (sql: string, values?: unknown[]) => app.exec(kind === 'postgres' ? numbered(sql) : sql, values);
    const name = uniqueName(`snapnew_${kind}`).replace(/_/g, '-');
    const p = writeSnapshotPipeline({
      name,
      source: kind,
      namespace: app.namespace,
      ...(kind === 'postgres' ? { targetSchema: app.targetSchema } : {}),
      metricsPort: await freePort(),
      chunkSize: 100,
    });
    if (kind === 'postgres') {
      const config = parsedConfig(p.file, p.env);
      cleanups.push(() => dropPgSlot(config));
    }
    const ferry = startFerry(['run', '-c', p.file, '--no-progress'], p.env);
    running.push(ferry);
    const log = <T>(fn: () => Promise<T>) => withLog(ferry, fn);
    await log(() =>
      eventually(
        'the initial snapshot to end (status --json: stream, lag 0)',
        async () => {
          const s = await statusJson(p);
          return s.source.phase === 'stream' && s.lagEvents === 0 && s.tables.length === 1;
        },
        120_000,
        1000,
      ),
    );
    await log(() => verifyEqual(p));

    // The application creates a table and fills it at once, then keeps changing it.
    await exec('CREATE TABLE fresh (id INT PRIMARY KEY, v INT NOT NULL, note VARCHAR(40))');
    for (let i = 0; i < 5; i++) {
      const rows = Array.from({ length: 100 }, (_, k) => i * 100 + k + 1);
      await exec(
        `INSERT INTO fresh (id, v, note) VALUES ${rows.map(() => '(?, ?, ?)').join(', ')}`,
        rows.flatMap((id) => [id, id, `row ${id}`]),
      );
    }
    await exec('UPDATE fresh SET v = v + 1000 WHERE id <= 50');
    await exec('DELETE FROM fresh WHERE id > 480');
    await exec('UPDATE existing SET v = 3 WHERE id = 1');
    for (let i = 0; i < 20; i++) {
      await exec('INSERT INTO fresh (id, v, note) VALUES (?, ?, ?)', [1000 + i, i, 'later']);
    }

    await log(() =>
      eventually(
        'the new table to be captured and applied (status --json: fresh listed, lag 0)',
        async () => {
          const s = await statusJson(p);
          return s.tables.some((t) => t.table === `${app.namespace}.fresh`) && s.lagEvents === 0;
        },
        120_000,
        1000,
      ),
    );
    await log(() => verifyEqual(p));
    const target = await pgSuper();
    try {
      const r = await target.query<{ n: string; big: string }>(
        `SELECT COUNT(*) AS n, COUNT(*) FILTER (WHERE v >= 1000 AND id <= 50) AS big FROM ${target.escapeIdentifier(app.targetSchema)}.fresh`,
      );
      expect(r.rows[0]).toEqual({ n: '500', big: '50' });
    } finally {
      await target.end();
    }
    // Not restarted: the same process ran from the start.
    expect(ferry.child.exitCode).toBeNull();
    expect(await ferry.stop('SIGTERM')).toMatchObject({ code: 0 });
  }, 400_000);
});
