/**
 * `ferry snapshot -c <config> --table db.t` against a running pipeline (MariaDB → PostgreSQL,
 * an application writing all along): target rows deleted and altered by hand are repaired
 * (`ferry verify` equal at the end) while streaming goes on — in the table's topic, changes the
 * stream published after the request sit between rows of the re-read, so the stream never waited
 * for the snapshot. A table the pipeline does not capture is refused with exit 2, naming it.
 * `ferry status` shows the table's snapshot pending while it is read and `done` at the end.
 */
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withAdmin } from '../../src/kafka/admin.js';
import {
  dropSourceDatabase,
  ensureCliBuilt,
  eventually,
  type FerryProcess,
  freePort,
  runFerry,
  startFerry,
} from '../helpers/cli.js';
import { events, readEnvelopes, sandboxKafka, storedOffset } from '../helpers/kafka.js';
import { mysqlRoot, pgSuper, uniqueName } from '../helpers/sandbox.js';
import { statusJson, verifyEqual, withLog, writeSnapshotPipeline } from '../helpers/snapshot-pipeline.js';

const ITEMS = 20_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const db = uniqueName('ferry_snapreq');
const name = db.replace(/_/g, '-');
const running: FerryProcess[] = [];

beforeAll(async () => {
  ensureCliBuilt();
  const conn = await mysqlRoot();
  try {
    await conn.query('CREATE DATABASE ??', [db]);
    await conn.query('USE ??', [db]);
    await conn.query('CREATE TABLE items (id INT PRIMARY KEY, v INT NOT NULL, note VARCHAR(60) NOT NULL)');
    for (let i = 0; i < ITEMS; i += 5000) {
      await conn.query('INSERT INTO items VALUES ?', [
        Array.from({ length: 5000 }, (_, k) => [i + k + 1, 0, `item ${i + k + 1}`]),
      ]);
    }
    await conn.query('CREATE TABLE other (id INT PRIMARY KEY, v INT NOT NULL)');
    await conn.query('INSERT INTO other VALUES (1, 0), (2, 0), (3, 0)');
  } finally {
    await conn.end();
  }
}, 300_000);

afterAll(async () => {
  for (const p of running) await p.stop('SIGKILL');
  const pg = await pgSuper();
  try {
    await pg.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(db)} CASCADE`);
  } finally {
    await pg.end();
  }
  await dropSourceDatabase(db);
});

/** Inserts into items (new keys above ITEMS) and updates of items and other, until stopped. */
function startWriter(conn: mysql.Connection) {
  let stopped = false;
  let n = 0;
  let nextId = ITEMS + 1;
  const loop = (async () => {
    while (!stopped) {
      n++;
      if (n % 3 === 0) await conn.query('INSERT INTO items VALUES (?, ?, ?)', [nextId++, n, `live ${n}`]);
      else if (n % 3 === 1) await conn.query('UPDATE items SET v = ? WHERE id = ?', [n, 1 + ((n * 7919) % ITEMS)]);
      else await conn.query('UPDATE other SET v = ? WHERE id = ?', [n, 1 + (n % 3)]);
      await sleep(5);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return n;
    },
  };
}

async function endOffsets(topic: string): Promise<Map<number, bigint>> {
  const kafka = sandboxKafka();
  return withAdmin(kafka, async (admin) => {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
  });
}

describe('ferry snapshot --table against a running pipeline (MariaDB → PostgreSQL)', () => {
  it('refuses a table outside source.tables: exit 2, naming the table', async () => {
    const p = writeSnapshotPipeline({
      name: `${name}-x`,
      source: 'mysql',
      namespace: db,
      metricsPort: await freePort(),
    });
    for (const table of [`other_${db}.items`, 'items']) {
      const res = await runFerry(['snapshot', '-c', p.file, '--table', table], p.env);
      expect(res.code, `${table}: ${res.stdout}${res.stderr}`).toBe(2);
      expect(res.stderr).toContain(table);
    }
  });

  // A name that matches source.tables but names no table at the source (a typo): accepting it
  // prints "the running source reads it" while the source only logs a warning and reads nothing.
  it('refuses a table that matches source.tables but does not exist: exit 2, naming the table', async () => {
    const p = writeSnapshotPipeline({
      name: `${name}-y`,
      source: 'mysql',
      namespace: db,
      metricsPort: await freePort(),
    });
    const res = await runFerry(['snapshot', '-c', p.file, '--table', `${db}.itemz`], p.env);
    expect(res.code, `${res.stdout}${res.stderr}`).toBe(2);
    expect(res.stderr).toContain(`${db}.itemz`);
  });

  it('re-reads a table whose target rows were deleted and altered by hand: verify equal, streaming never stopped', async () => {
    const p = writeSnapshotPipeline({
      name,
      source: 'mysql',
      namespace: db,
      metricsPort: await freePort(),
      chunkSize: 200,
      parallelism: 1,
      signalsIntervalMs: 300,
    });
    const kafka = sandboxKafka();
    const ferry = startFerry(['run', '-c', p.file, '--no-progress'], p.env);
    running.push(ferry);
    await withLog(ferry, () =>
      eventually(
        'the initial snapshot to end and the target to catch up',
        async () => {
          const s = await statusJson(p);
          return s.source.phase === 'stream' && s.lagEvents === 0;
        },
        180_000,
        1000,
      ),
    );
    const app = await mysqlRoot(db);
    const writer = startWriter(app);
    try {
      // Break the target by hand: rows deleted, rows altered.
      const target = await pgSuper();
      try {
        const t = `${target.escapeIdentifier(db)}.items`;
        const del = await target.query(`DELETE FROM ${t} WHERE id % 97 = 0 AND id <= $1`, [ITEMS]);
        const upd = await target.query(
          `UPDATE ${t} SET v = -1, note = 'broken by hand' WHERE id % 89 = 0 AND id <= $1`,
          [ITEMS],
        );
        expect(del.rowCount).toBeGreaterThan(100);
        expect(upd.rowCount).toBeGreaterThan(100);
      } finally {
        await target.end();
      }
      const broken = await runFerry(['verify', '-c', p.file], p.env, 120_000);
      expect(broken.code, `verify before the re-read:\n${broken.stdout}`).not.toBe(0);

      const topic = `${name}.${db}.items`;
      const before = await endOffsets(topic);
      const requested = await runFerry(['snapshot', '-c', p.file, '--table', `${db}.items`], p.env);
      expect(requested.stderr).toBe('');
      expect(requested.code).toBe(0);
      expect(requested.stdout).toContain(`requested a snapshot of ${db}.items`);

      // The running source picks the request up: items is pending in a stored position.
      await eventually(
        'a stored position listing items as pending again',
        async () => (await storedOffset(kafka, name))?.snapshot?.pending?.some((t) => t.table === `${db}.items`),
        60_000,
        200,
      );
      await withLog(ferry, () =>
        eventually(
          'the re-read to end (status --json: items done, stream)',
          async () => {
            const s = await statusJson(p);
            const items = s.tables.find((t) => t.table === `${db}.items`);
            return s.source.phase === 'stream' && items?.snapshot === 'done';
          },
          180_000,
          1000,
        ),
      );

      // In the items topic after the request: re-read rows (op r) with streamed changes between them.
      const after = events(await readEnvelopes(kafka, topic)).filter(
        (r) => BigInt(r.offset) >= (before.get(r.partition) ?? 0n),
      );
      const reread = after.filter((r) => r.value.op === 'r');
      expect(reread.length).toBeGreaterThan(ITEMS / 2);
      const interleaved = [...new Set(after.map((r) => r.partition))].some((partition) => {
        const inPartition = after
          .filter((r) => r.partition === partition)
          .sort((a, b) => Number(BigInt(a.offset) - BigInt(b.offset)));
        const first = inPartition.findIndex((r) => r.value.op === 'r');
        const last = inPartition.findLastIndex((r) => r.value.op === 'r');
        return inPartition.slice(first, last).some((r) => r.value.op !== 'r');
      });
      expect(interleaved, 'streamed changes published between the rows of the re-read').toBe(true);
    } finally {
      expect(await writer.stop()).toBeGreaterThan(100);
      await app.end();
    }

    await verifyEqual(p, 90_000);
    const status = await statusJson(p);
    expect(status.tables.map((t) => [t.table, t.snapshot])).toEqual([
      [`${db}.items`, 'done'],
      [`${db}.other`, 'done'],
    ]);
    expect(await ferry.stop('SIGTERM')).toMatchObject({ code: 0 });
  }, 600_000);
});
