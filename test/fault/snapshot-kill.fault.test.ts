/**
 * The watermarked snapshot survives SIGKILL at any moment: `ferry run` (MariaDB → PostgreSQL,
 * 50 small tables and one of 30,000 rows, chunks of 200) is killed 10 times while an application
 * inserts, updates and deletes — twice as soon as the first chunk read starts (the stream
 * position and the pending tables are stored, no chunk is placed yet), the other times at a
 * random moment after the run stored progress of its own (mostly in the middle of `big`). At the end `ferry verify` says equal, and in every data topic no key goes back in time:
 * the values only grow, so a value appearing for the first time after a larger one would be a
 * stale row placed after a newer change; and each key's last event is the source's final row
 * (a deleted row ends with its delete, never resurrected by a snapshot row).
 */
import type { Kafka } from 'kafkajs';
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dropSourceDatabase,
  ensureCliBuilt,
  eventually,
  type FerryProcess,
  freePort,
  runFerry,
  startFerry,
} from '../helpers/cli.js';
import { sandboxKafka, storedOffset } from '../helpers/kafka.js';
import { pollUntil } from '../helpers/poll.js';
import { mysqlRoot, pgSuper, uniqueName } from '../helpers/sandbox.js';
import {
  type FinalState,
  historyProblems,
  keyHistories,
  statusJson,
  writeSnapshotPipeline,
} from '../helpers/snapshot-pipeline.js';

const SMALL_TABLES = 50;
const SMALL_ROWS = 20;
const BIG_ROWS = 30_000;
const KILLS = 10;
/** Small tables the application writes to (besides `big`). */
const WRITTEN_SMALL = ['s01', 's02', 's03', 's04', 's05'];

/** Ends a poll at once: the condition can no longer become true. */
class StopPolling extends Error {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const smallName = (i: number) => `s${String(i).padStart(2, '0')}`;

/**
 * The application: one statement per transaction, on `big` mostly, on a few small tables too.
 * Every insert or update sets v to a global counter, so per key the values only grow; deleted
 * keys are never inserted again.
 */
class Writer {
  private counter = 0;
  private running = true;
  private loop: Promise<void> = Promise.resolve();
  private failure: Error | null = null;
  readonly ids = new Map<string, { live: number[]; next: number }>();
  readonly ops = { insert: 0, update: 0, delete: 0 };

  constructor(private readonly conn: mysql.Connection) {
    this.ids.set('big', { live: Array.from({ length: BIG_ROWS }, (_, i) => i + 1), next: BIG_ROWS + 1 });
    for (const t of WRITTEN_SMALL)
      this.ids.set(t, { live: Array.from({ length: SMALL_ROWS }, (_, i) => i + 1), next: SMALL_ROWS + 1 });
  }

  start(): void {
    this.loop = this.run().catch((err: Error) => {
      this.failure = err;
    });
  }

  /** Stops writing; throws what made the application fail, if anything did. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    if (this.failure) throw this.failure;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const table = Math.random() < 0.7 ? 'big' : WRITTEN_SMALL[Math.floor(Math.random() * WRITTEN_SMALL.length)]!;
      const t = this.ids.get(table)!;
      const v = ++this.counter;
      const dice = Math.random();
      if (dice < 0.25 || t.live.length < 5) {
        const id = t.next++;
        await this.conn.query('INSERT INTO ?? (id, v) VALUES (?, ?)', [table, id, v]);
        t.live.push(id);
        this.ops.insert++;
      } else if (dice < 0.45) {
        const [id] = t.live.splice(Math.floor(Math.random() * t.live.length), 1);
        await this.conn.query('DELETE FROM ?? WHERE id = ?', [table, id]);
        this.ops.delete++;
      } else {
        const id = t.live[Math.floor(Math.random() * t.live.length)]!;
        await this.conn.query('UPDATE ?? SET v = ? WHERE id = ?', [table, v, id]);
        this.ops.update++;
      }
      await sleep(4);
    }
  }
}

describe('snapshot killed with SIGKILL (MariaDB → PostgreSQL, ferry run)', () => {
  const db = uniqueName('ferry_snapkill');
  const name = db.replace(/_/g, '-');
  const running: FerryProcess[] = [];
  let kafka: Kafka;
  let writerConn: mysql.Connection | undefined;

  beforeAll(async () => {
    ensureCliBuilt();
    kafka = sandboxKafka();
    const conn = await mysqlRoot();
    try {
      await conn.query('CREATE DATABASE ??', [db]);
      await conn.query('USE ??', [db]);
      for (let i = 1; i <= SMALL_TABLES; i++) {
        await conn.query('CREATE TABLE ?? (id INT PRIMARY KEY, v BIGINT NOT NULL)', [smallName(i)]);
        await conn.query('INSERT INTO ?? (id, v) VALUES ?', [
          smallName(i),
          Array.from({ length: SMALL_ROWS }, (_, k) => [k + 1, 0]),
        ]);
      }
      await conn.query('CREATE TABLE big (id INT PRIMARY KEY, v BIGINT NOT NULL, pad VARCHAR(40) NOT NULL DEFAULT "")');
      for (let i = 0; i < BIG_ROWS; i += 5000) {
        await conn.query('INSERT INTO big (id, v, pad) VALUES ?', [
          Array.from({ length: 5000 }, (_, k) => [i + k + 1, 0, `row ${i + k + 1}`]),
        ]);
      }
    } finally {
      await conn.end();
    }
  }, 300_000);

  afterAll(async () => {
    for (const p of running) await p.stop('SIGKILL');
    await writerConn?.end().catch(() => undefined);
    const pg = await pgSuper();
    try {
      await pg.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(db)} CASCADE`);
    } finally {
      await pg.end();
    }
    await dropSourceDatabase(db);
  });

  it('10 kills, 2 before any chunk was placed: verify equal, no key goes back in time, no delete lost', async () => {
    const port = await freePort();
    // Small chunks and one reader keep `big` in the snapshot across several runs, so the kills
    // land in the middle of it.
    const p = writeSnapshotPipeline({
      name,
      source: 'mysql',
      namespace: db,
      metricsPort: port,
      chunkSize: 50,
      parallelism: 1,
    });
    writerConn = await mysqlRoot(db);
    const writer = new Writer(writerConn);
    writer.start();

    /** Starts `ferry run`; resolves once `kill` decided to SIGKILL it and it exited. */
    const runUntilKilled = async (kill: (p: FerryProcess, started: number) => Promise<void>): Promise<string> => {
      const ferry = startFerry(['run', '-c', p.file, '--no-progress'], p.env);
      running.push(ferry);
      await kill(ferry, Date.now());
      const res = await ferry.exited;
      expect(res.signal, `ferry run ended by itself: ${res.code}\n${res.stderr.slice(-2000)}`).toBe('SIGKILL');
      return res.stderr;
    };
    /** SIGKILL at the first log line of a chunk read starting (synchronously, in the data handler). */
    const atFirstChunkRead = (ferry: FerryProcess) =>
      new Promise<void>((resolve) => {
        const onData = (d: Buffer | string) => {
          if (/"snapshotting a table"|"resuming the snapshot of a table"/.test(d.toString())) {
            ferry.child.kill('SIGKILL');
            ferry.child.stderr?.off('data', onData);
            resolve();
          }
        };
        ferry.child.stderr?.on('data', onData);
        void ferry.exited.then(() => resolve());
      });

    // Kills 1 and 2: the stream position and every pending table are stored, no chunk placed.
    const early: Array<{ phase: string | undefined; done: number; started: number }> = [];
    for (let k = 0; k < 2; k++) {
      await runUntilKilled((f) => atFirstChunkRead(f));
      const stored = await storedOffset(kafka, name);
      early.push({
        phase: stored?.phase,
        done: stored?.snapshot?.done?.length ?? 0,
        started: stored?.snapshot?.pending?.filter((t) => t.lastKey !== null).length ?? 0,
      });
    }
    expect(early, 'stored progress after the early kills: snapshot phase, nothing done').toEqual([
      { phase: 'snapshot', done: 0, started: 0 },
      { phase: 'snapshot', done: 0, started: 0 },
    ]);

    // Kills 3..10: once the run stored progress of its own (or the snapshot ended), after a
    // short random delay — so most of them hit the snapshot of `big` in the middle.
    const progressOf = (stored: Awaited<ReturnType<typeof storedOffset>>) => {
      const big = stored?.snapshot?.pending?.find((t) => t.table === `${db}.big`);
      return {
        phase: stored?.phase,
        done: stored?.snapshot?.done?.length ?? 0,
        big: big ? (big.lastKey ?? 'not started') : 'done',
      };
    };
    const killedAt: Array<{ afterMs: number; phase: string | undefined; done: number; big: unknown }> = [];
    let previous = JSON.stringify(progressOf(await storedOffset(kafka, name)));
    for (let k = 2; k < KILLS; k++) {
      const delay = Math.floor(Math.random() * 300);
      await runUntilKilled(async (f) => {
        await Promise.race([
          eventually(
            `run ${k + 1} to store progress of its own (last stored: ${previous})`,
            async () => {
              const now = progressOf(await storedOffset(kafka, name));
              return now.phase === 'stream' || JSON.stringify(now) !== previous;
            },
            120_000,
            100,
          ),
          f.exited,
        ]);
        await Promise.race([sleep(delay), f.exited]);
        f.child.kill('SIGKILL');
      });
      const progress = progressOf(await storedOffset(kafka, name));
      previous = JSON.stringify(progress);
      killedAt.push({ afterMs: delay, ...progress });
    }
    expect(writer.ops.delete).toBeGreaterThan(0);
    const midSnapshot = killedAt.filter((k) => k.phase === 'snapshot' && Array.isArray(k.big));
    expect(midSnapshot.length, `kills: ${JSON.stringify(killedAt)}`).toBeGreaterThanOrEqual(3);

    // The last run finishes the snapshot; the writer stops once the source streams.
    const last = startFerry(['run', '-c', p.file, '--no-progress'], p.env);
    running.push(last);
    // The rest of `big` (up to ~30,000 rows in chunks of 50) takes minutes on a loaded machine,
    // but the work is bounded: wait as long as the run keeps storing progress, and fail only when
    // it stored none for 2 minutes (a snapshot that is stuck) or the run exited.
    let lastProgress = previous;
    let movedAt = Date.now();
    await pollUntil(
      'the snapshot to finish after the kills',
      async () => {
        if (last.child.exitCode !== null) throw new StopPolling(`ferry run exited (${last.child.exitCode})`);
        const now = progressOf(await storedOffset(kafka, name));
        if (now.phase === 'stream') return true;
        if (JSON.stringify(now) !== lastProgress) {
          lastProgress = JSON.stringify(now);
          movedAt = Date.now();
        } else if (Date.now() - movedAt > 120_000) {
          throw new StopPolling(`no snapshot progress stored for 2 minutes (last stored: ${lastProgress})`);
        }
        return false;
      },
      480_000,
      1000,
      (err) => err instanceof StopPolling,
    );
    await sleep(1000);
    await writer.stop();
    await eventually(
      'ferry status --json to report lag 0',
      async () => {
        const s = await statusJson(p);
        return s.lagEvents === 0 && s.source.phase === 'stream';
      },
      60_000,
      1000,
    );
    const verified = await eventually(
      'ferry verify to exit 0',
      async () => {
        const res = await runFerry(['verify', '-c', p.file], p.env, 120_000);
        return res.code === 0 ? res : null;
      },
      60_000,
      1000,
    ).catch(async (err: Error) => {
      const res = await runFerry(['verify', '-c', p.file], p.env, 120_000);
      throw new Error(`${err.message}\nlast ferry verify (exit ${res.code}):\n${res.stdout}\n${res.stderr}`);
    });
    expect(verified.code).toBe(0);

    // Per key, in Kafka order: values only move forward; the last event is the final row.
    const source = await mysqlRoot(db);
    const problems: string[] = [];
    const checked = ['big', ...WRITTEN_SMALL, smallName(17), smallName(SMALL_TABLES)];
    try {
      for (const table of checked) {
        const [rows] = (await source.query('SELECT id, v FROM ??', [table])) as unknown as [
          Array<{ id: number; v: number | string }>,
        ];
        const final: FinalState = new Map(rows.map((r) => [Number(r.id), Number(r.v)]));
        const histories = await keyHistories(kafka, `${name}.${db}.${table}`);
        problems.push(...historyProblems(`${db}.${table}`, histories, final));
      }
    } finally {
      await source.end();
    }
    expect(problems.slice(0, 20), `kills: ${JSON.stringify(killedAt)}`).toEqual([]);
    expect(await last.stop('SIGTERM')).toMatchObject({ code: 0 });
  }, 900_000);
});
