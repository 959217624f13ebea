/**
 * Benchmark of the `ferry run` command as users run it (not run by CI): a child process
 * `node bin/ferry.js run -c <file>` (the built dist/), MariaDB -> Kafka -> PostgreSQL, on the
 * local sandbox. One table `items` of 11 columns (bigint, int, smallint, decimal, varchar,
 * datetime(6), json, and a `pad` text of `rowBytes - 200` characters when rowBytes > 200).
 *   1. snapshot: N seeded rows; from the spawn of `ferry run` until the target holds N rows.
 *   2. catch-up: `ferry run` stopped (SIGTERM, exit code 0), C row changes written in 100-row
 *      transactions (UPDATE of 100 consecutive ids), `ferry run` started again; from the spawn
 *      until the target's SUM(v) equals the source's.
 *   3. latency: with `ferry run` streaming, single-row INSERT transactions at a steady 1,000 rows/s
 *      for L seconds from one connection; each row's latency is from the source's commit
 *      acknowledgement to the first poll of the target (every 5 ms, `max(id)`) that sees it.
 *      p50 / p99 / max.
 *   4. stop (exit code 0), then verifyPipeline() compares source and target.
 * Memory: the RSS of the ferry process and all its descendants (/proc, summed), sampled every
 * 200 ms, max per phase; plus the kernel's high-water mark (VmHWM) of each ferry process, summed.
 *
 * Run: npm run bench:run -- [rows=200000] [rowBytes=200] [changes=100000] [latencySeconds=20]
 * FERRY_BENCH_FERRY_JS runs another build's bin/ferry.js (an A/B comparison in one sitting).
 * FERRY_BENCH_SNAPSHOT_TRANSPORT=direct takes the snapshot through the direct lane (source.snapshotTransport).
 * FERRY_BENCH_SOURCE / FERRY_BENCH_SINK / FERRY_BENCH_KAFKA: JSON merged into the config's source / sink / kafka section (e.g. '{"lingerMs":5}').
 * FERRY_BENCH_NODE_ARGS adds Node flags to the ferry process (e.g. "--cpu-prof --cpu-prof-dir=DIR").
 * Sandbox: .ferry/bench-sandbox (or FERRY_BENCH_SANDBOX_DIR), left running.
 * Prints a results table and one line `BENCH_JSON {...}`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { configFromObject } from '../src/config/index.js';
import { withAdmin } from '../src/kafka/admin.js';
import { createKafka } from '../src/kafka/client.js';
import { projectRoot, type SandboxInfo, sandboxUp } from '../src/sandbox/index.js';
import { verifyPipeline } from '../src/verify/index.js';

const ROWS = Number(process.argv[2] ?? 200_000);
const ROW_BYTES = Number(process.argv[3] ?? 200);
const CHANGES = Number(process.argv[4] ?? 100_000);
const LATENCY_SECONDS = Number(process.argv[5] ?? 20);
const PREFIX = 'bench-run-';
const SRC = 'ferry_bench_run';
const TARGET = 'ferry_bench_run_t';
const TIMEOUT_MS = 30 * 60_000;

/** A config section's extra settings from a JSON environment variable. */
function benchJson(name: string): Record<string, unknown> {
  const text = process.env[name];
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

const nf = new Intl.NumberFormat('en-US');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => process.stderr.write(`${line}\n`);
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

/** Pids of `root` and all its descendants, from /proc. */
function tree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(root);
  return out;
}

/** CPU seconds (user + system, all threads) of the tree, from /proc/<pid>/stat. */
function cpuSeconds(root: number): number {
  let ticks = 0;
  for (const p of tree(root)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // gone meanwhile
    }
  }
  return ticks / 100;
}

/** kB fields of /proc/<pid>/status summed over the tree. */
function statusKb(root: number, field: 'VmRSS' | 'VmHWM'): number {
  let kb = 0;
  for (const p of tree(root)) {
    try {
      const m = new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) kb += Number(m[1]);
    } catch {
      // gone meanwhile
    }
  }
  return kb;
}

/** One `ferry run` child: RSS sampling, exit code. */
class FerryProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  private maxRssKb = 0;
  private hwmKb = 0;
  private cpu = 0;
  private readonly timer: NodeJS.Timeout;
  private stderrTail = '';

  constructor(configFile: string) {
    const nodeArgs = (process.env['FERRY_BENCH_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
    this.child = spawn(
      process.execPath,
      [
        ...nodeArgs,
        process.env['FERRY_BENCH_FERRY_JS'] ?? join(projectRoot(), 'bin', 'ferry.js'),
        'run',
        '-c',
        configFile,
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    this.child.stderr?.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-4000);
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.timer = setInterval(() => this.sample(), 200);
  }

  sample(): void {
    const pid = this.child.pid;
    if (pid === undefined || this.child.exitCode !== null) return;
    this.maxRssKb = Math.max(this.maxRssKb, statusKb(pid, 'VmRSS'));
    this.hwmKb = Math.max(this.hwmKb, statusKb(pid, 'VmHWM'));
    this.cpu = Math.max(this.cpu, cpuSeconds(pid));
  }

  check(): void {
    if (this.child.exitCode !== null)
      throw new Error(`ferry run exited with ${this.child.exitCode}:\n${this.stderrTail}`);
  }

  /** Peak RSS so far and the CPU seconds the ferry process used so far. */
  memory(): { maxRssMb: number; hwmMb: number; cpuSeconds: number } {
    this.sample();
    return {
      maxRssMb: Math.round(this.maxRssKb / 1024),
      hwmMb: Math.round(this.hwmKb / 1024),
      cpuSeconds: round(this.cpu, 1),
    };
  }

  async stop(): Promise<number | null> {
    this.sample();
    clearInterval(this.timer);
    this.child.kill('SIGTERM');
    return this.exited;
  }
}

async function waitFor(what: string, ferry: FerryProcess, done: () => Promise<boolean>, pollMs = 100): Promise<void> {
  const t0 = performance.now();
  for (;;) {
    ferry.check();
    if (await done()) return;
    if (performance.now() - t0 > TIMEOUT_MS) throw new Error(`${what} did not finish in time`);
    await sleep(pollMs);
  }
}

async function main(): Promise<void> {
  if (!(ROWS > 0 && ROW_BYTES > 0 && CHANGES >= 0 && LATENCY_SECONDS >= 0)) throw new Error('bad arguments');
  if (!existsSync(join(projectRoot(), 'dist', 'src', 'cli', 'main.js'))) throw new Error('run `npm run build` first');
  const dir = process.env['FERRY_BENCH_SANDBOX_DIR'] ?? join(projectRoot(), '.ferry', 'bench-sandbox');
  const info: SandboxInfo = await sandboxUp({ dir, log: (l) => log(`[sandbox] ${l}`) });
  const my = await mysql.createConnection({
    host: info.mysql.host,
    port: info.mysql.port,
    user: info.mysql.rootUser,
    password: info.mysql.rootPassword,
  });
  const target = new pg.Client({
    host: info.postgres.host,
    port: info.postgres.port,
    user: info.postgres.superUser,
    password: info.postgres.superPassword,
    database: info.postgres.database,
  });
  await target.connect();
  const name = `${PREFIX}${Date.now().toString(36)}`;

  // Leftovers of earlier runs.
  const kafka = createKafka({ brokers: info.kafka.brokers, clientId: 'ferry-bench-run' });
  await withAdmin(kafka, async (admin) => {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(PREFIX));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  });
  await target.query(`DROP SCHEMA IF EXISTS ${TARGET} CASCADE`);
  if ((await target.query("SELECT to_regclass('public.ferry_offsets') AS t")).rows[0].t !== null)
    await target.query('DELETE FROM public.ferry_offsets WHERE pipeline LIKE $1', [`${PREFIX}%`]);

  log(`== pipeline ${name}: seeding ${nf.format(ROWS)} rows of ~${ROW_BYTES} B`);
  const pad = Math.max(0, ROW_BYTES - 200);
  await my.query(`DROP DATABASE IF EXISTS ${SRC}`);
  await my.query(`CREATE DATABASE ${SRC} CHARACTER SET utf8mb4`);
  await my.query(`CREATE TABLE ${SRC}.items (
      id BIGINT NOT NULL PRIMARY KEY, account INT NOT NULL, qty SMALLINT NOT NULL, v INT NOT NULL,
      price DECIMAL(12,2) NOT NULL, name VARCHAR(64) NOT NULL, note VARCHAR(255) NULL,
      created DATETIME(6) NOT NULL, updated DATETIME(6) NULL, doc JSON NULL, pad MEDIUMTEXT NULL) CHARACTER SET utf8mb4`);
  await my.query(`INSERT INTO ${SRC}.items
    SELECT seq, seq % 9973, 1 + seq % 50, 0, (seq * 1.25) % 100000, CONCAT('item-', seq, ' ✓'),
           IF(seq % 10 = 0, NULL, CONCAT('note ', seq)),
           TIMESTAMP('2024-01-01') + INTERVAL (seq * 1001) MICROSECOND, NULL,
           CONCAT('{"n": ', seq, ', "tags": ["a", "b"], "ok": ', IF(seq % 2 = 0, 'true', 'false'), '}'),
           ${pad > 0 ? `REPEAT(CHAR(97 + seq % 26), ${pad})` : 'NULL'}
      FROM ${SRC}.seq_1_to_${ROWS}`);

  const configObject = {
    name,
    kafka: { brokers: info.kafka.brokers, ...benchJson('FERRY_BENCH_KAFKA') },
    source: {
      kind: 'mysql',
      url: `${info.mysql.url}/${SRC}`,
      tables: [`${SRC}.items`],
      snapshot: 'initial',
      snapshotTransport: process.env['FERRY_BENCH_SNAPSHOT_TRANSPORT'] ?? 'kafka',
      ...benchJson('FERRY_BENCH_SOURCE'),
    },
    sink: { kind: 'postgres', url: info.postgres.url, schema: TARGET, ...benchJson('FERRY_BENCH_SINK') },
    metrics: { enabled: false },
    log: { level: 'warn', format: 'json' },
  };
  const config = configFromObject(configObject, { env: {} });
  mkdirSync(join(dir, 'bench-run'), { recursive: true });
  const configFile = join(dir, 'bench-run', `${name}.yaml`);
  writeFileSync(configFile, JSON.stringify(configObject, null, 2)); // JSON is YAML

  const totals = async (): Promise<{ rows: number; v: number }> => {
    if ((await target.query('SELECT to_regclass($1) AS t', [`${TARGET}.items`])).rows[0].t === null)
      return { rows: 0, v: 0 };
    const r = await target.query(`SELECT COUNT(*)::bigint AS n, COALESCE(SUM(v), 0)::bigint AS v FROM ${TARGET}.items`);
    return { rows: Number(r.rows[0].n), v: Number(r.rows[0].v) };
  };

  // 1. snapshot
  let t0 = performance.now();
  let ferry = new FerryProcess(configFile);
  let lastLog = t0;
  await waitFor('the snapshot', ferry, async () => {
    const n = (await totals()).rows;
    if (performance.now() - lastLog > 5000) {
      lastLog = performance.now();
      log(`  snapshot: target ${nf.format(n)} rows, rss ${ferry.memory().maxRssMb} MB max`);
    }
    return n >= ROWS;
  });
  const snapSeconds = (performance.now() - t0) / 1000;
  const snapshot = { rows: ROWS, seconds: round(snapSeconds), rowsPerSecond: Math.round(ROWS / snapSeconds) };
  const snapMem = ferry.memory();
  log(`  snapshot: ${nf.format(snapshot.rowsPerSecond)} rows/s, ${JSON.stringify(snapMem)}`);

  // 2. catch-up of changes written while stopped (skipped with changes = 0: ferry keeps running).
  let catchUp: { events: number; seconds: number; eventsPerSecond: number } | null = null;
  let catchMem: ReturnType<FerryProcess['memory']> | null = null;
  let events = 0;
  if (CHANGES > 0) {
    const code1 = await ferry.stop();
    if (code1 !== 0) throw new Error(`ferry run stopped with exit code ${code1}`);

    const txs = Math.ceil(CHANGES / 100);
    for (let i = 0; i < txs; i++) {
      const first = 1 + ((i * 100) % Math.max(100, ROWS - 99));
      await my.query(`UPDATE ${SRC}.items SET v = v + 1, updated = NOW(6) WHERE id BETWEEN ? AND ?`, [
        first,
        first + 99,
      ]);
    }
    events = txs * Math.min(100, ROWS);
    const [[srcRow]] = (await my.query(`SELECT COALESCE(SUM(v), 0) AS v FROM ${SRC}.items`)) as unknown as [
      Array<{ v: string | number }>,
    ];
    const expectedV = Number(srcRow!.v);
    t0 = performance.now();
    ferry = new FerryProcess(configFile);
    await waitFor('the catch-up', ferry, async () => (await totals()).v === expectedV);
    const catchSeconds = (performance.now() - t0) / 1000;
    catchUp = { events, seconds: round(catchSeconds), eventsPerSecond: Math.round(events / catchSeconds) };
    catchMem = ferry.memory();
    log(`  catch-up: ${nf.format(catchUp.eventsPerSecond)} events/s, ${JSON.stringify(catchMem)}`);
  }

  // 3. latency at a steady 1,000 rows/s.
  let latency: { rows: number; p50Ms: number; p99Ms: number; maxMs: number } | null = null;
  if (LATENCY_SECONDS > 0) {
    const writer = await mysql.createConnection({
      host: info.mysql.host,
      port: info.mysql.port,
      user: info.mysql.rootUser,
      password: info.mysql.rootPassword,
      database: SRC,
    });
    const acked = new Map<number, number>();
    const latencies: number[] = [];
    const total = LATENCY_SECONDS * 1000;
    let seen = ROWS;
    let writing = true;
    const poller = (async () => {
      while (writing || seen < ROWS + total) {
        ferry.check();
        const r = await target.query(`SELECT max(id)::bigint AS m FROM ${TARGET}.items`);
        const now = performance.now();
        const m = Number(r.rows[0].m);
        for (let id = seen + 1; id <= m; id++) {
          const at = acked.get(id);
          if (at !== undefined) latencies.push(now - at);
          acked.delete(id);
        }
        if (m > seen) seen = m;
        await sleep(5);
      }
    })();
    const start = performance.now();
    for (let i = 1; i <= total; i++) {
      const due = start + i; // one row per millisecond
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      const id = ROWS + i;
      await writer.query(
        'INSERT INTO items (id, account, qty, v, price, name, note, created, doc) VALUES (?, 1, 1, 0, 1.5, ?, NULL, NOW(6), NULL)',
        [id, `live-${id}`],
      );
      acked.set(id, performance.now());
    }
    writing = false;
    await poller;
    await writer.end();
    latencies.sort((a, b) => a - b);
    const q = (p: number) => round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0, 1);
    latency = { rows: latencies.length, p50Ms: q(0.5), p99Ms: q(0.99), maxMs: round(latencies.at(-1) ?? 0, 1) };
    log(`  latency: ${JSON.stringify(latency)}`);
  }
  const liveMem = ferry.memory();
  const code2 = await ferry.stop();
  if (code2 !== 0) throw new Error(`ferry run stopped with exit code ${code2}`);

  // 4. verify
  const report = await verifyPipeline(config, { recheck: { attempts: 3, delayMs: 1000 } });
  await target.end();
  await my.end();

  const result = {
    bench: 'run-process',
    node: process.version,
    rows: ROWS,
    rowBytes: ROW_BYTES,
    snapshot: { ...snapshot, ...snapMem },
    catchUp: catchUp ? { ...catchUp, ...catchMem } : null,
    latency: latency ? { ...latency, ...liveMem } : null,
    equal: report.equal,
  };
  console.log(
    `\nferry run (child process ${process.env['FERRY_BENCH_FERRY_JS'] ?? 'bin/ferry.js'}, Node ${process.version}), ` +
      `${nf.format(ROWS)} rows of ~${ROW_BYTES} B; load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
  );
  console.log(
    `snapshot  ${nf.format(snapshot.rowsPerSecond)} rows/s (${snapshot.seconds} s, ${snapMem.cpuSeconds} CPU s)   peak RSS ${snapMem.maxRssMb} MB sampled, ${snapMem.hwmMb} MB VmHWM`,
  );
  if (catchUp && catchMem)
    console.log(
      `catch-up  ${nf.format(catchUp.eventsPerSecond)} events/s (${nf.format(events)} in ${catchUp.seconds} s, start-up included, ${catchMem.cpuSeconds} CPU s)   peak RSS ${catchMem.maxRssMb} MB sampled, ${catchMem.hwmMb} MB VmHWM`,
    );
  if (latency)
    console.log(
      `latency   1,000 rows/s for ${LATENCY_SECONDS} s: p50 ${latency.p50Ms} ms, p99 ${latency.p99Ms} ms, max ${latency.maxMs} ms (${nf.format(latency.rows)} rows)`,
    );
  console.log(`verify    ${report.equal ? 'EQUAL' : 'DIFFERENT'}`);
  console.log(`BENCH_JSON ${JSON.stringify(result)}`);
  if (!report.equal) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
