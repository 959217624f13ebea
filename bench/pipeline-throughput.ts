/**
 * Throughput and memory benchmark of ferry itself (not run by CI): baseline figures for a whole
 * pipeline, source and sink in this process as `ferry run` runs them, on the local sandbox.
 * Routes: MariaDB -> PostgreSQL (`mariadb-pg`, default) and PostgreSQL -> PostgreSQL (`pg-pg`).
 * For each route, one table `items` of 10 mixed columns (bigint, int, smallint, decimal,
 * varchar, datetime(6), json):
 *   1. snapshot: N seeded rows; from Pipeline.run() until the target holds all N rows (rows/s,
 *      end to end: start-up, snapshot read, Kafka, apply);
 *   2. streaming: with the pipeline running, M single-row autocommit transactions (half INSERT of
 *      a new row, half UPDATE of a random seeded row) from W parallel writer connections, as fast
 *      as they go; events/s from the first write until the target has caught up (row count and
 *      SUM(v) equal the source's), and the lag: last write acknowledged -> caught up;
 *   3. the pipeline is stopped and verifyPipeline() compares source and target.
 * Memory: RSS sampled every 500 ms per phase (max, median) and the process's peak RSS
 * (resourceUsage().maxRSS, a high-water mark) after each phase. The writers and the polling run
 * in this process too (a few connections; the seeding is done inside the databases).
 * Prints a results table and one line `BENCH_JSON {...}`.
 *
 * Run (Node 20 has no TypeScript loader, so compile first; `npm run bench:pipeline -- ...` does both):
 *   npx tsc -p tsconfig.json --noEmit false --outDir .ferry/bench-build
 *   node .ferry/bench-build/bench/pipeline-throughput.js [rows=500000] [transactions=200000] [route=mariadb-pg|pg-pg|all] [writers=4]
 * It starts (or reuses) the sandbox in .ferry/bench-sandbox, or FERRY_BENCH_SANDBOX_DIR, and
 * leaves it running. Every run uses a new pipeline name (topics, consumer group, slot); the
 * previous runs' databases, schemas, topics, slots and publications are removed at the start.
 * The run's replication slot is dropped at the end (a slot left behind keeps WAL on the server).
 */
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { configFromObject, type PipelineConfig } from '../src/config/index.js';
import { withAdmin } from '../src/kafka/admin.js';
import { createKafka } from '../src/kafka/client.js';
import { createLogger } from '../src/log/index.js';
import { FerryMetrics } from '../src/metrics/metrics.js';
import { Pipeline } from '../src/pipeline/pipeline.js';
import { projectRoot, type SandboxInfo, sandboxUp } from '../src/sandbox/index.js';
import { formatVerifyReport, verifyPipeline } from '../src/verify/index.js';

type Route = 'mariadb-pg' | 'pg-pg';

const ROWS = Number(process.argv[2] ?? 500_000);
const TRANSACTIONS = Number(process.argv[3] ?? 200_000);
const ROUTE_ARG = process.argv[4] ?? 'mariadb-pg';
const WRITERS = Number(process.argv[5] ?? 4);
/** FERRY_BENCH_SOURCE_TRANSACTIONS=false: without transaction metadata (source.transactions), to measure its cost. */
const transactions = process.env['FERRY_BENCH_SOURCE_TRANSACTIONS'] !== 'false';
const ROUTES: Route[] = ROUTE_ARG === 'all' ? ['mariadb-pg', 'pg-pg'] : [ROUTE_ARG as Route];
const PREFIX = 'bench-pl-';
const SLOT_PREFIX = 'ferry_bench_pl_';
/** Source database (MariaDB) or schema (PostgreSQL), and the target schemas per route. */
const SRC = 'ferry_bench_pipeline';
const TARGET: Record<Route, string> = { 'mariadb-pg': 'ferry_bench_pipeline_mp', 'pg-pg': 'ferry_bench_pipeline_pp' };
const CATCH_UP_TIMEOUT_MS = 30 * 60_000;

const nf = new Intl.NumberFormat('en-US');
const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
const peakRss = () => process.resourceUsage().maxRSS * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => process.stderr.write(`${line}\n`);

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** RSS every 500 ms into the current phase's list. */
class RssSampler {
  private readonly samples = new Map<string, number[]>();
  private phase = 'idle';
  private readonly timer = setInterval(() => this.sample(), 500);
  phaseStart(phase: string): void {
    this.phase = phase;
    this.samples.set(phase, []);
    this.sample();
  }
  private sample(): void {
    this.samples.get(this.phase)?.push(process.memoryUsage.rss());
  }
  stats(phase: string): { maxMb: number; medianMb: number; samples: number } {
    const s = this.samples.get(phase) ?? [];
    return { maxMb: mb(Math.max(0, ...s)), medianMb: mb(median(s)), samples: s.length };
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

/** The writes of the streaming phase and the queries of the benchmark, per source engine. */
interface SourceDb {
  seed(rows: number): Promise<void>;
  /** A writer connection: `insert(id)` / `update(id)` each one autocommit transaction. */
  writer(): Promise<{ insert(id: number): Promise<void>; update(id: number): Promise<void>; close(): Promise<void> }>;
  totals(): Promise<{ rows: number; v: number }>;
  close(): Promise<void>;
}

/** Column values of row `i` (deterministic), in table order without `v` and `updated`. */
function rowValues(i: number): [number, number, number, string, string, string | null, string, string] {
  const sec = i % 86_400;
  const hh = String(Math.floor(sec / 3600)).padStart(2, '0');
  const mi = String(Math.floor((sec % 3600) / 60)).padStart(2, '0');
  const ss = String(sec % 60).padStart(2, '0');
  const created = `2024-0${1 + (i % 9)}-${String(1 + (i % 28)).padStart(2, '0')} ${hh}:${mi}:${ss}.${String((i * 7919) % 1_000_000).padStart(6, '0')}`;
  return [
    i,
    i % 9973,
    1 + (i % 50),
    ((i * 1.25) % 100_000).toFixed(2),
    `item-${i} ✓`,
    i % 10 === 0 ? null : `note ${i}`,
    created,
    JSON.stringify({ n: i, tags: ['a', 'b'], ok: i % 2 === 0 }),
  ];
}

async function mariadbSource(info: SandboxInfo): Promise<SourceDb> {
  const opts = {
    host: info.mysql.host,
    port: info.mysql.port,
    user: info.mysql.rootUser,
    password: info.mysql.rootPassword,
  };
  const root = await mysql.createConnection(opts);
  await root.query("SET time_zone = '+00:00'");
  return {
    async seed(rows) {
      await root.query(`DROP DATABASE IF EXISTS ${SRC}`);
      await root.query(`CREATE DATABASE ${SRC} CHARACTER SET utf8mb4`);
      await root.query(`CREATE TABLE ${SRC}.items (
          id BIGINT NOT NULL PRIMARY KEY, account INT NOT NULL, qty SMALLINT NOT NULL, v INT NOT NULL,
          price DECIMAL(12,2) NOT NULL, name VARCHAR(64) NOT NULL, note VARCHAR(255) NULL,
          created DATETIME(6) NOT NULL, updated DATETIME(6) NULL, doc JSON NULL) CHARACTER SET utf8mb4`);
      await root.query(`INSERT INTO ${SRC}.items
        SELECT seq, seq % 9973, 1 + seq % 50, 0, (seq * 1.25) % 100000, CONCAT('item-', seq, ' ✓'),
               IF(seq % 10 = 0, NULL, CONCAT('note ', seq)),
               TIMESTAMP('2024-01-01') + INTERVAL (seq * 1001) MICROSECOND, NULL,
               CONCAT('{"n": ', seq, ', "tags": ["a", "b"], "ok": ', IF(seq % 2 = 0, 'true', 'false'), '}')
          FROM ${SRC}.seq_1_to_${rows}`);
    },
    async writer() {
      const c = await mysql.createConnection({ ...opts, database: SRC });
      await c.query("SET time_zone = '+00:00'");
      return {
        async insert(id) {
          const [, account, qty, price, name, note, created, doc] = rowValues(id);
          await c.query(
            'INSERT INTO items (id, account, qty, v, price, name, note, created, updated, doc) VALUES (?, ?, ?, 0, ?, ?, ?, ?, NULL, ?)',
            [id, account, qty, price, name, note, created, doc],
          );
        },
        async update(id) {
          await c.query('UPDATE items SET v = v + 1, updated = NOW(6) WHERE id = ?', [id]);
        },
        close: () => c.end(),
      };
    },
    async totals() {
      const [rows] = await root.query(`SELECT COUNT(*) AS n, COALESCE(SUM(v), 0) AS v FROM ${SRC}.items`);
      const r = (rows as Array<{ n: number | string; v: number | string }>)[0]!;
      return { rows: Number(r.n), v: Number(r.v) };
    },
    close: () => root.end(),
  };
}

async function postgresSource(info: SandboxInfo): Promise<SourceDb> {
  const opts = {
    host: info.postgres.host,
    port: info.postgres.port,
    user: info.postgres.user,
    password: info.postgres.password,
    database: info.postgres.database,
  };
  // Created by the CDC role, so it owns the table (creating the publication needs that).
  const admin = new pg.Client(opts);
  await admin.connect();
  return {
    async seed(rows) {
      await admin.query(`DROP SCHEMA IF EXISTS ${SRC} CASCADE`);
      await admin.query(`CREATE SCHEMA ${SRC}`);
      await admin.query(`CREATE TABLE ${SRC}.items (
          id bigint NOT NULL PRIMARY KEY, account integer NOT NULL, qty smallint NOT NULL, v integer NOT NULL,
          price numeric(12,2) NOT NULL, name varchar(64) NOT NULL, note varchar(255),
          created timestamp(6) NOT NULL, updated timestamp(6), doc jsonb)`);
      await admin.query(`INSERT INTO ${SRC}.items
        SELECT g, g % 9973, 1 + g % 50, 0, (g * 1.25) % 100000, 'item-' || g || ' ✓',
               CASE WHEN g % 10 = 0 THEN NULL ELSE 'note ' || g END,
               timestamp '2024-01-01' + g * 1001 * interval '1 microsecond', NULL,
               jsonb_build_object('n', g, 'tags', jsonb_build_array('a', 'b'), 'ok', g % 2 = 0)
          FROM generate_series(1, ${rows}) g`);
      await admin.query(`VACUUM ANALYZE ${SRC}.items`);
    },
    async writer() {
      const c = new pg.Client(opts);
      await c.connect();
      return {
        async insert(id) {
          const [, account, qty, price, name, note, created, doc] = rowValues(id);
          await c.query(
            `INSERT INTO ${SRC}.items (id, account, qty, v, price, name, note, created, updated, doc) VALUES ($1, $2, $3, 0, $4, $5, $6, $7, NULL, $8)`,
            [id, account, qty, price, name, note, created, doc],
          );
        },
        async update(id) {
          await c.query(`UPDATE ${SRC}.items SET v = v + 1, updated = localtimestamp WHERE id = $1`, [id]);
        },
        close: () => c.end(),
      };
    },
    async totals() {
      const r = await admin.query(`SELECT COUNT(*)::bigint AS n, COALESCE(SUM(v), 0)::bigint AS v FROM ${SRC}.items`);
      return { rows: Number(r.rows[0].n), v: Number(r.rows[0].v) };
    },
    close: () => admin.end(),
  };
}

/** Rows and SUM(v) of the target table; null while it does not exist yet. */
async function targetTotals(target: pg.Client, schema: string): Promise<{ rows: number; v: number } | null> {
  const exists = await target.query('SELECT to_regclass($1) AS t', [`${schema}.items`]);
  if (exists.rows[0].t === null) return null;
  const r = await target.query(`SELECT COUNT(*)::bigint AS n, COALESCE(SUM(v), 0)::bigint AS v FROM ${schema}.items`);
  return { rows: Number(r.rows[0].n), v: Number(r.rows[0].v) };
}

async function counterSum(c: { get(): Promise<{ values: Array<{ value: number }> }> }): Promise<number> {
  return (await c.get()).values.reduce((n, v) => n + v.value, 0);
}

/** Removes what earlier runs of this benchmark left: topics, groups, slots, publications, target schemas, offsets. */
async function cleanUp(info: SandboxInfo, superPg: pg.Client): Promise<void> {
  const kafka = createKafka({ brokers: info.kafka.brokers, clientId: 'ferry-bench-pipeline' });
  await withAdmin(kafka, async (admin) => {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(PREFIX));
    if (topics.length > 0) await admin.deleteTopics({ topics });
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.includes(PREFIX));
    if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
    if (topics.length > 0 || groups.length > 0)
      log(`removed ${topics.length} topics and ${groups.length} consumer groups of earlier runs`);
  });
  const slots = await superPg.query('SELECT slot_name, active_pid FROM pg_replication_slots WHERE slot_name LIKE $1', [
    `${SLOT_PREFIX}%`,
  ]);
  for (const s of slots.rows) {
    if (s.active_pid !== null) await superPg.query('SELECT pg_terminate_backend($1)', [s.active_pid]);
    await superPg.query('SELECT pg_drop_replication_slot($1)', [s.slot_name]).catch(() => undefined);
  }
  const pubs = await superPg.query('SELECT pubname FROM pg_publication WHERE pubname LIKE $1', [`${SLOT_PREFIX}%`]);
  for (const p of pubs.rows) await superPg.query(`DROP PUBLICATION IF EXISTS ${superPg.escapeIdentifier(p.pubname)}`);
  for (const schema of Object.values(TARGET)) await superPg.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  if ((await superPg.query("SELECT to_regclass('public.ferry_offsets') AS t")).rows[0].t !== null)
    await superPg.query('DELETE FROM public.ferry_offsets WHERE pipeline LIKE $1', [`${PREFIX}%`]);
}

interface RouteResult {
  route: Route;
  pipeline: string;
  snapshot: {
    rows: number;
    seconds: number;
    rowsPerSecond: number;
    sourceReadSeconds: number | null;
    rssMaxMb: number;
    rssMedianMb: number;
    peakRssMb: number;
  };
  stream: {
    transactions: number;
    events: number;
    writers: number;
    transactionShape: string;
    writeSeconds: number;
    writesPerSecond: number;
    seconds: number;
    eventsPerSecond: number;
    lagAfterWritesSeconds: number;
    rssMaxMb: number;
    rssMedianMb: number;
    peakRssMb: number;
  };
  verify: { equal: boolean; seconds: number };
}

async function runRoute(route: Route, info: SandboxInfo, superPg: pg.Client, rss: RssSampler): Promise<RouteResult> {
  const name = `${PREFIX}${route === 'mariadb-pg' ? 'mp' : 'pp'}-${Date.now().toString(36)}`;
  const schema = TARGET[route];
  log(`\n== ${route}: pipeline ${name}; seeding ${nf.format(ROWS)} rows`);
  const source = route === 'mariadb-pg' ? await mariadbSource(info) : await postgresSource(info);
  let t = performance.now();
  await source.seed(ROWS);
  log(`seeded in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  const config: PipelineConfig = configFromObject(
    {
      name,
      kafka: { brokers: info.kafka.brokers },
      source:
        route === 'mariadb-pg'
          ? {
              kind: 'mysql',
              url: `${info.mysql.url}/${SRC}`,
              tables: [`${SRC}.items`],
              snapshot: 'initial',
              transactions,
            }
          : { kind: 'postgres', url: info.postgres.url, tables: [`${SRC}.items`], snapshot: 'initial', transactions },
      sink: { kind: 'postgres', url: info.postgres.url, schema },
      metrics: { enabled: false },
      log: { level: 'warn' },
    },
    { env: {} },
  );
  log(
    `settings (defaults): partitions ${config.kafka.partitions}, snapshotChunkSize ${config.source.snapshotChunkSize}, ` +
      `queueSize ${config.source.queueSize}, transactions ${config.source.transactions}, sink batchSize ${config.sink.batchSize}, lingerMs ${config.sink.lingerMs}`,
  );
  const metrics = new FerryMetrics(name);
  const logger = createLogger({ level: 'warn', format: 'json', fields: { pipeline: name } });
  // As `ferry run` builds it (same topic refresh for source+sink in one process).
  const pipeline = new Pipeline(config, { source: true, sink: true }, { logger, metrics, topicRefreshMs: 2000 });
  const target = new pg.Client({
    host: info.postgres.host,
    port: info.postgres.port,
    user: info.postgres.superUser,
    password: info.postgres.superPassword,
    database: info.postgres.database,
  });
  await target.connect();

  let failure: unknown = null;
  let running = true;
  const runDone = pipeline.run().then(
    () => {
      running = false;
    },
    (err: unknown) => {
      running = false;
      failure = err;
    },
  );
  const check = () => {
    if (failure !== null) throw failure;
    if (!running) throw new Error('the pipeline stopped early');
  };

  try {
    // 1. snapshot
    rss.phaseStart(`${route}:snapshot`);
    const t0 = performance.now();
    let sourceRead: number | null = null;
    let lastReport = t0;
    for (;;) {
      check();
      if (sourceRead === null && (await counterSum(metrics.snapshotRows)) >= ROWS) sourceRead = performance.now();
      const applied = await counterSum(metrics.sinkAppliedEvents);
      if (applied >= ROWS || performance.now() - lastReport > 5000) {
        const totals = await targetTotals(target, schema);
        if (totals && totals.rows >= ROWS) break;
        if (performance.now() - lastReport > 5000) {
          lastReport = performance.now();
          log(
            `  snapshot: read ${nf.format(await counterSum(metrics.snapshotRows))}, applied ${nf.format(applied)}, ` +
              `rss ${mb(process.memoryUsage.rss())} MB`,
          );
        }
      }
      if (performance.now() - t0 > CATCH_UP_TIMEOUT_MS) throw new Error('snapshot did not finish in time');
      await sleep(100);
    }
    const snapSeconds = (performance.now() - t0) / 1000;
    const snapRss = rss.stats(`${route}:snapshot`);
    const snapshot = {
      rows: ROWS,
      seconds: round(snapSeconds, 2),
      rowsPerSecond: Math.round(ROWS / snapSeconds),
      sourceReadSeconds: sourceRead === null ? null : round((sourceRead - t0) / 1000, 2),
      rssMaxMb: snapRss.maxMb,
      rssMedianMb: snapRss.medianMb,
      peakRssMb: mb(peakRss()),
    };
    log(
      `  snapshot done: ${nf.format(ROWS)} rows in ${snapshot.seconds} s = ${nf.format(snapshot.rowsPerSecond)} rows/s`,
    );

    // The source reads its log from the snapshot's position anyway; wait for it to stream so the
    // stream phase measures streaming, not the switch.
    while (pipeline.sourceProgress()?.phase !== 'stream') {
      check();
      await sleep(50);
    }

    // 2. streaming: half inserts of new ids, half updates of random seeded rows.
    rss.phaseStart(`${route}:stream`);
    const writers = await Promise.all(Array.from({ length: WRITERS }, () => source.writer()));
    let next = 0;
    let nextInsert = ROWS;
    let rnd = 12345;
    const random = () => {
      rnd = (Math.imul(rnd, 1103515245) + 12345) >>> 0;
      return rnd / 4294967296;
    };
    log(`  streaming: ${nf.format(TRANSACTIONS)} single-row transactions from ${WRITERS} writers`);
    const s0 = performance.now();
    const progress = setInterval(() => {
      void counterSum(metrics.sinkAppliedEvents).then((applied) =>
        log(
          `  stream: written ${nf.format(next)}, applied ${nf.format(applied - ROWS)}, rss ${mb(process.memoryUsage.rss())} MB`,
        ),
      );
    }, 5000);
    try {
      await Promise.all(
        writers.map(async (w) => {
          while (next < TRANSACTIONS) {
            const k = next++;
            if (k % 2 === 0) await w.insert(++nextInsert);
            else await w.update(1 + Math.floor(random() * ROWS));
          }
        }),
      );
    } finally {
      clearInterval(progress);
      await Promise.all(writers.map((w) => w.close()));
    }
    const s1 = performance.now();
    const expected = await source.totals();
    let s2 = 0;
    for (;;) {
      check();
      const totals = await targetTotals(target, schema);
      if (totals && totals.rows === expected.rows && totals.v === expected.v) {
        s2 = performance.now();
        break;
      }
      if (performance.now() - s1 > CATCH_UP_TIMEOUT_MS) throw new Error('the target did not catch up in time');
      await sleep(100);
    }
    const streamRss = rss.stats(`${route}:stream`);
    const streamSeconds = (s2 - s0) / 1000;
    const stream = {
      transactions: TRANSACTIONS,
      events: TRANSACTIONS,
      writers: WRITERS,
      transactionShape: 'single-row autocommit (50% INSERT, 50% UPDATE)',
      writeSeconds: round((s1 - s0) / 1000, 2),
      writesPerSecond: Math.round(TRANSACTIONS / ((s1 - s0) / 1000)),
      seconds: round(streamSeconds, 2),
      eventsPerSecond: Math.round(TRANSACTIONS / streamSeconds),
      lagAfterWritesSeconds: round((s2 - s1) / 1000, 2),
      rssMaxMb: streamRss.maxMb,
      rssMedianMb: streamRss.medianMb,
      peakRssMb: mb(peakRss()),
    };
    log(
      `  stream done: ${nf.format(TRANSACTIONS)} events in ${stream.seconds} s = ${nf.format(stream.eventsPerSecond)} events/s ` +
        `(writes ${nf.format(stream.writesPerSecond)}/s, lag after writes ${stream.lagAfterWritesSeconds} s)`,
    );

    // 3. stop, then verify (nothing moves any more).
    await pipeline.stop();
    await runDone;
    if (failure !== null) throw failure;
    rss.phaseStart(`${route}:verify`);
    t = performance.now();
    const report = await verifyPipeline(config, { recheck: { attempts: 3, delayMs: 1000 } });
    console.log(`\n== ${route}: verify`);
    console.log(formatVerifyReport(report));
    return {
      route,
      pipeline: name,
      snapshot,
      stream,
      verify: { equal: report.equal, seconds: round((performance.now() - t) / 1000, 2) },
    };
  } finally {
    if (running) {
      await pipeline.stop();
      await runDone;
    }
    await target.end();
    await source.close();
    // A replication slot left behind keeps WAL on the server for good.
    if (route === 'pg-pg') {
      await superPg
        .query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [
          config.source.kind === 'postgres' ? config.source.slot : '',
        ])
        .catch((err: unknown) => log(`could not drop the slot: ${(err as Error).message}`));
    }
  }
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function table(results: RouteResult[]): string {
  const rows: string[][] = [
    ['route', 'phase', 'count', 'seconds', 'rate/s', 'RSS max MB', 'RSS median MB', 'peak RSS MB', 'notes'],
  ];
  for (const r of results) {
    rows.push([
      r.route,
      'snapshot',
      nf.format(r.snapshot.rows),
      String(r.snapshot.seconds),
      nf.format(r.snapshot.rowsPerSecond),
      String(r.snapshot.rssMaxMb),
      String(r.snapshot.rssMedianMb),
      String(r.snapshot.peakRssMb),
      `rows; source read done at ${r.snapshot.sourceReadSeconds ?? '?'} s`,
    ]);
    rows.push([
      r.route,
      'stream',
      nf.format(r.stream.events),
      String(r.stream.seconds),
      nf.format(r.stream.eventsPerSecond),
      String(r.stream.rssMaxMb),
      String(r.stream.rssMedianMb),
      String(r.stream.peakRssMb),
      `events; ${r.stream.writers} writers ${nf.format(r.stream.writesPerSecond)} tx/s; lag after writes ${r.stream.lagAfterWritesSeconds} s`,
    ]);
    rows.push([
      r.route,
      'verify',
      '',
      String(r.verify.seconds),
      '',
      '',
      '',
      '',
      r.verify.equal ? 'EQUAL' : 'DIFFERENT',
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')).join('\n');
}

async function main(): Promise<void> {
  for (const route of ROUTES) {
    if (route !== 'mariadb-pg' && route !== 'pg-pg')
      throw new Error(`unknown route ${route}: mariadb-pg, pg-pg or all`);
  }
  if (!(ROWS > 0 && TRANSACTIONS > 0 && WRITERS > 0)) throw new Error('rows, transactions and writers must be > 0');
  const dir = process.env['FERRY_BENCH_SANDBOX_DIR'] ?? join(projectRoot(), '.ferry', 'bench-sandbox');
  const info = await sandboxUp({ dir, log: (l) => log(`[sandbox] ${l}`) });
  const superPg = new pg.Client({
    host: info.postgres.host,
    port: info.postgres.port,
    user: info.postgres.superUser,
    password: info.postgres.superPassword,
    database: info.postgres.database,
  });
  await superPg.connect();
  const rss = new RssSampler();
  const results: RouteResult[] = [];
  const baselineRssMb = mb(process.memoryUsage.rss());
  try {
    await cleanUp(info, superPg);
    for (const route of ROUTES) results.push(await runRoute(route, info, superPg, rss));
  } finally {
    rss.stop();
    await superPg.end();
  }
  console.log(
    `\nferry pipeline throughput (source+sink in one process, Node ${process.version}; baseline RSS ${baselineRssMb} MB)`,
  );
  console.log(table(results));
  console.log(
    `BENCH_JSON ${JSON.stringify({ bench: 'pipeline-throughput', node: process.version, rows: ROWS, transactions: TRANSACTIONS, writers: WRITERS, baselineRssMb, results })}`,
  );
  console.log(`\nsandbox left running; stop it with: node bin/ferry.js sandbox down --dir ${dir}`);
  if (results.some((r) => !r.verify.equal)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
