/**
 * The PostgreSQL source under faults, against the sandbox's PostgreSQL and Kafka:
 * - the source as a real child process (src/runtime/source/main.ts, built to dist) is SIGKILLed
 *   mid-stream while writes continue; after a restart nothing is missing in Kafka, and the
 *   slot's confirmed_flush_lsn, sampled throughout, never passed what Kafka held;
 * - PostgreSQL is stopped and started while streaming: the source reconnects, nothing is lost,
 *   and the connected state follows.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type pg from 'pg';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseLsn } from '../../connectors/postgres-source/lsn.js';
import { parseEnvelope } from '../../src/event/envelope.js';
import { dataTopic } from '../../src/kafka/topics.js';
import { FerryMetrics } from '../../src/metrics/metrics.js';
import { startServer, stopServer } from '../../src/sandbox/index.js';
import { buildDistWhenStale } from '../helpers/build.js';
import { getSandbox, pgFerry, sandboxDir } from '../helpers/sandbox.js';
import { confirmedFlush, filterFor, freshSchema, startRuntime, waitFor } from '../integration/pg-source.helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'dist', 'src', 'runtime', 'source', 'main.js');

/** Builds dist when source-main or the connector changed since the last build. */
function ensureBuilt(): void {
  buildDistWhenStale(
    MAIN,
    ['connectors/postgres-source', 'src/runtime', 'src/api'],
    'npm run build failed; the source child process cannot start',
  );
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(prefix: string) {
  const s = await freshSchema(prefix);
  cleanups.push(s.cleanup);
  return s;
}

function kafka(): Kafka {
  return new Kafka({ clientId: 'pg-source-fault', brokers: getSandbox().kafka.brokers, logLevel: logLevel.NOTHING });
}

interface Held {
  offset: number;
  key: string | null;
  value: ReturnType<typeof parseEnvelope> | null;
}

/** A consumer that keeps every record of a topic (with its offset) as it arrives. */
async function follow(topic: string) {
  const k = kafka();
  const admin = k.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] });
  const consumer = k.consumer({ groupId: `pgfault-${topic}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const records: Held[] = [];
  void consumer.run({
    autoCommit: false,
    eachMessage: async ({ message }) => {
      records.push({
        offset: Number(message.offset),
        key: message.key?.toString() ?? null,
        value: message.value ? parseEnvelope(message.value.toString()) : null,
      });
    },
  });
  return {
    records,
    /** High watermark of partition 0: how many records Kafka holds. */
    async held(): Promise<number> {
      const [p] = await admin.fetchTopicOffsets(topic);
      return Number(p!.high);
    },
    async close() {
      await consumer.disconnect().catch(() => undefined);
      await admin.deleteGroups([`pgfault-${topic}`]).catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
    },
  };
}

/** Inserts a row per transaction (and updates an earlier one every 5th), until stopped. */
function writer(db: pg.Client, table: string, firstId: number) {
  let next = firstId;
  let stopped = false;
  const written: number[] = [];
  const done = (async () => {
    while (!stopped) {
      const id = next;
      try {
        await db.query('BEGIN');
        await db.query(`INSERT INTO ${table} (id, v) VALUES ($1, $2)`, [id, `v${id}`]);
        if (id % 5 === 0) await db.query(`UPDATE ${table} SET v = v || '+' WHERE id = $1`, [id - 3]);
        await db.query('COMMIT');
        written.push(id);
        next++;
      } catch {
        await db.query('ROLLBACK').catch(() => undefined);
        await new Promise((r) => setTimeout(r, 100));
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return {
    written,
    async stop() {
      stopped = true;
      await done;
    },
  };
}

function spawnSource(optionsFile: string, log: string[]): ChildProcess {
  const child = spawn(process.execPath, [MAIN, optionsFile], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => log.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => log.push(d.toString()));
  return child;
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('postgres source faults', () => {
  beforeAll(() => ensureBuilt(), 180_000);

  it('SIGKILL mid-stream: nothing missing after restart; confirmed_flush_lsn never passed what Kafka held', async () => {
    const s = await setup('pgf_kill');
    const { schema, pipeline, db } = s;
    const table = `"${schema}".t`;
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v text)`);
    await db.query(`INSERT INTO ${table} SELECT g, 'v' || g FROM generate_series(1, 200) g`);
    const topic = dataTopic(pipeline, schema, 't');
    const kafkaSide = await follow(topic);
    s.onCleanup(() => kafkaSide.close());

    const p = getSandbox().postgres;
    const dir = mkdtempSync(join(tmpdir(), 'pgfault-'));
    s.onCleanup(async () => rmSync(dir, { recursive: true, force: true }));
    const optionsFile = join(dir, 'source.json');
    writeFileSync(
      optionsFile,
      JSON.stringify({
        pipeline,
        brokers: getSandbox().kafka.brokers,
        kind: 'postgres',
        postgres: {
          connection: { host: p.host, port: p.port, user: p.user, password: p.password, database: p.database },
          heartbeatIntervalMs: 1000,
          statusIntervalMs: 500,
        },
        tables: [`${schema}.*`],
        chunkSize: 50,
        logLevel: 'info',
      }),
    );
    const log: string[] = [];
    let child = spawnSource(optionsFile, log);
    s.onCleanup(async () => {
      child.kill('SIGKILL');
      await exited(child);
    });
    const slot = `ferry_${pipeline.replace(/-/g, '_')}`;

    // Samples: the slot's confirmed_flush_lsn FIRST, then Kafka's high watermark. Kafka only
    // grows, so a transaction before the confirmed LSN that lies at or above the later watermark
    // was not in Kafka when PostgreSQL was told it may forget it. (The other order would count a
    // transaction published and confirmed between the two reads as a violation.)
    const samples: { held: number; confirmed: bigint }[] = [];
    const sampler = pgFerry();
    const sdb = await sampler;
    let sampling = true;
    const sampling$ = (async () => {
      while (sampling) {
        try {
          const confirmed = await confirmedFlush(sdb, slot);
          const held = await kafkaSide.held();
          if (confirmed !== null) samples.push({ held, confirmed });
        } catch {
          // topic or slot not there yet
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    s.onCleanup(async () => {
      sampling = false;
      await sampling$;
      await sdb.end();
    });

    await waitFor('the snapshot in Kafka', async () => kafkaSide.records.length >= 200, 90_000);
    const w = writer(db, table, 1001);
    await waitFor('streamed events', async () => kafkaSide.records.some((r) => r.value?.op === 'c'));
    await new Promise((r) => setTimeout(r, 1500));
    child.kill('SIGKILL');
    await exited(child);
    const killedAt = w.written.length;
    await new Promise((r) => setTimeout(r, 1000));
    child = spawnSource(optionsFile, log);
    await new Promise((r) => setTimeout(r, 2500));
    await w.stop();
    const written = [...w.written];
    expect(written.length).toBeGreaterThan(killedAt);

    const ids = () => new Set(kafkaSide.records.map((r) => (r.key ? (JSON.parse(r.key).id as number) : -1)));
    await waitFor('every written row in Kafka', async () => written.every((id) => ids().has(id)), 60_000);
    // Everything also stored and confirmed: the slot catches up with the last transaction.
    const last = await db.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
    await waitFor(
      'the slot confirmed to the last write',
      async () => ((await confirmedFlush(sdb, slot)) ?? 0n) >= parseLsn(last.rows[0]!.lsn),
      30_000,
    );
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
    sampling = false;
    await sampling$;

    // Nothing missing, and the last image of each key is the row in the database.
    const rows = await db.query<{ id: number; v: string }>(`SELECT id, v FROM ${table} ORDER BY id`);
    const lastImage = new Map<number, unknown>();
    for (const r of kafkaSide.records) {
      if (!r.value || !r.key) continue;
      lastImage.set(JSON.parse(r.key).id, r.value.after);
    }
    for (const row of rows.rows) expect(lastImage.get(row.id)).toEqual({ id: row.id, v: row.v });
    expect(rows.rows).toHaveLength(200 + written.length);

    // The confirmed_flush_lsn invariant, over every sample.
    const txEnd = new Map<string, number>(); // commit LSN -> offset of the first copy of its last event
    const seen = new Set<string>();
    for (const r of kafkaSide.records) {
      const src = r.value?.source;
      if (!src || r.value?.op === 'r') continue;
      const commit = String(src['commit_lsn']);
      const id = `${commit}#${r.value?.transaction?.total_order}`;
      if (seen.has(id)) continue; // a duplicate after the restart
      seen.add(id);
      txEnd.set(commit, Math.max(txEnd.get(commit) ?? 0, r.offset));
    }
    const commits = [...txEnd.entries()].map(([lsn, offset]) => ({ lsn: parseLsn(lsn), offset }));
    expect(commits.length).toBeGreaterThan(20);
    expect(samples.length).toBeGreaterThan(50);
    if (process.env['FERRY_TEST_VERBOSE']) {
      const copies = kafkaSide.records.filter((r) => r.value && r.value.op !== 'r').length;
      process.stderr.write(
        `kill test: ${written.length} transactions written (${killedAt} before the kill), ${commits.length} in Kafka, ` +
          `${copies - seen.size} duplicate events, ${samples.length} samples, ` +
          `${new Set(samples.map((x) => x.confirmed)).size} distinct confirmed_flush_lsn values\n`,
      );
    }
    const violations = samples.filter((sample) =>
      commits.some((c) => c.lsn < sample.confirmed && c.offset >= sample.held),
    );
    expect(violations).toEqual([]);
    // The slot did move during the run (the check is not vacuous).
    expect(new Set(samples.map((x) => x.confirmed)).size).toBeGreaterThan(5);
    expect(log.join('')).toContain('streaming from the replication slot');
  });

  it('PostgreSQL stopped and started while streaming: reconnects, nothing lost', async () => {
    const s = await setup('pgf_restart');
    const { schema, pipeline } = s;
    let db = s.db;
    const table = `"${schema}".t`;
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v text)`);
    const metrics = new FerryMetrics(pipeline);
    const { runtime, running } = await startRuntime(
      pipeline,
      filterFor(schema),
      { statusIntervalMs: 500 },
      { metrics },
    );
    s.onCleanup(async () => {
      await runtime.stop();
      await running.catch(() => undefined);
    });
    const connected = async () =>
      (await metrics.registry.getSingleMetric('ferry_source_connected')?.get())?.values[0]?.value;
    await waitFor('the snapshot stored', async () => runtime.storedOffset()?.phase === 'stream', 90_000);
    const write = async (from: number, to: number) => {
      for (let id = from; id <= to; id++) await db.query(`INSERT INTO ${table} VALUES ($1, $2)`, [id, `v${id}`]);
    };
    await write(1, 20);
    await waitFor('events before the stop', async () => runtime.progress().eventsPublished >= 20);
    expect(await connected()).toBe(1);

    await stopServer('postgres', { dir: sandboxDir() });
    await waitFor('the source to notice', async () => !runtime.progress().connected, 30_000);
    expect(await connected()).toBe(0);
    await startServer('postgres', { dir: sandboxDir() });
    db = await pgFerry();
    s.onCleanup(() => db.end());
    const restartLsn = parseLsn((await db.query('SELECT pg_current_wal_lsn()::text AS l')).rows[0].l);
    await write(21, 40);
    await waitFor('every event after the restart', async () => runtime.progress().eventsPublished >= 40, 60_000);
    expect(runtime.progress().connected).toBe(true);
    expect(await connected()).toBe(1);
    // The slot advances past the restart again, never beyond the stored position.
    const slot = `ferry_${pipeline.replace(/-/g, '_')}`;
    const confirmed = await waitFor('the slot confirmed after the restart', async () => {
      const c = await confirmedFlush(db, slot);
      return c !== null && c > restartLsn ? c : null;
    });
    expect(confirmed).toBeLessThanOrEqual(parseLsn(runtime.storedOffset()!.position['lsn'] as string));
    await runtime.stop();
    await running;

    const k = kafka();
    const { readTopicToEnd } = await import('../../src/kafka/read-topic.js');
    const records = await readTopicToEnd(k, dataTopic(pipeline, schema, 't'));
    const ids = new Set(records.map((r) => JSON.parse(r.key!).id as number));
    expect([...ids].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });
});
