/**
 * Snapshot benchmark (not run by CI): one MariaDB table of N rows (~200 bytes each) moved to
 * PostgreSQL by `ferry run` (a child process, as a user runs it), once per reader count
 * (source.snapshotParallelism), in one run. For each: rows/s from the start of `ferry run` until
 * the target holds N rows, and the child's peak RSS (VmHWM). Prints a table and `BENCH_JSON {...}`.
 *
 *   npm run bench:snapshot -- [rows=1000000] [parallelism=1,4]
 *
 * Uses (or starts) the sandbox in .ferry/bench-sandbox (or FERRY_BENCH_SANDBOX_DIR) and leaves it
 * running; the previous run's databases, schemas and topics are removed at the start.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { withAdmin } from '../src/kafka/admin.js';
import { createKafka } from '../src/kafka/client.js';
import { projectRoot, type SandboxInfo, sandboxUp } from '../src/sandbox/index.js';

const ROWS = Number(process.argv[2] ?? 1_000_000);
const PARALLELISM = (process.argv[3] ?? '1,4').split(',').map(Number);
const DB = 'ferry_bench_snap';
const PREFIX = 'bench-snap-';
const nf = new Intl.NumberFormat('en-US');
const log = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function seed(info: SandboxInfo): Promise<void> {
  const conn = await mysql.createConnection({
    host: info.mysql.host,
    port: info.mysql.port,
    user: info.mysql.rootUser,
    password: info.mysql.rootPassword,
    multipleStatements: true,
  });
  try {
    await conn.query(`DROP DATABASE IF EXISTS \`${DB}\`; CREATE DATABASE \`${DB}\``);
    await conn.query(
      `CREATE TABLE \`${DB}\`.items (id BIGINT PRIMARY KEY, a INT NOT NULL, b VARCHAR(120) NOT NULL,
        c DECIMAL(12,2) NOT NULL, d DATETIME(6) NOT NULL, e VARCHAR(40))`,
    );
    for (let from = 1; from <= ROWS; from += 100_000) {
      const to = Math.min(ROWS, from + 99_999);
      await conn.query(
        `INSERT INTO \`${DB}\`.items SELECT seq, seq % 1000, CONCAT('item ', seq, ' ', REPEAT('x', 90)),
          seq / 100, TIMESTAMP('2024-01-01') + INTERVAL seq SECOND, MD5(seq) FROM \`${DB}\`.seq_${from}_to_${to}`,
      );
    }
  } finally {
    await conn.end();
  }
}

async function cleanUp(info: SandboxInfo, target: pg.Client): Promise<void> {
  for (const n of PARALLELISM) await target.query(`DROP SCHEMA IF EXISTS "${DB}_p${n}" CASCADE`);
  const kafka = createKafka({ brokers: info.kafka.brokers, clientId: 'bench-snap' });
  await withAdmin(kafka, async (admin) => {
    const old = (await admin.listTopics()).filter((t) => t.startsWith(PREFIX));
    if (old.length > 0) await admin.deleteTopics({ topics: old });
  });
}

function peakRssMb(child: ChildProcess): number {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

async function runOnce(info: SandboxInfo, target: pg.Client, parallelism: number) {
  const name = `${PREFIX}${parallelism}-${Date.now().toString(36)}`;
  const schema = `${DB}_p${parallelism}`;
  const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-snap-'));
  const file = join(dir, 'pipeline.yaml');
  writeFileSync(
    file,
    [
      `name: ${name}`,
      'kafka:',
      `  brokers: ${JSON.stringify(info.kafka.brokers)}`,
      'source:',
      '  kind: mysql',
      `  url: ${info.mysql.url}/${DB}`,
      `  tables: ["${DB}.items"]`,
      `  snapshotParallelism: ${parallelism}`,
      'sink:',
      '  kind: postgres',
      `  url: ${info.postgres.url}`,
      `  schema: ${schema}`,
      'metrics:',
      '  enabled: false',
      'log:',
      '  level: warn',
      '',
    ].join('\n'),
  );
  const started = performance.now();
  const child = spawn(process.execPath, [join(projectRoot(), 'bin', 'ferry.js'), 'run', '-c', file], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  try {
    for (;;) {
      if (exited) throw new Error(`ferry run exited early (parallelism ${parallelism})`);
      const res = await target
        .query<{ n: string }>(`SELECT count(*)::text AS n FROM "${schema}".items`)
        .catch(() => ({ rows: [{ n: '0' }] }));
      if (Number(res.rows[0]?.n ?? 0) >= ROWS) break;
      await sleep(250);
    }
    const seconds = (performance.now() - started) / 1000;
    const rss = peakRssMb(child);
    return {
      parallelism,
      rows: ROWS,
      seconds: Math.round(seconds * 100) / 100,
      rowsPerSecond: Math.round(ROWS / seconds),
      peakRssMb: rss,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r)).catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const dir = process.env['FERRY_BENCH_SANDBOX_DIR'] ?? join(projectRoot(), '.ferry', 'bench-sandbox');
  const info = await sandboxUp({ dir, log: (l) => log(`[sandbox] ${l}`) });
  const target = new pg.Client({
    host: info.postgres.host,
    port: info.postgres.port,
    user: info.postgres.superUser,
    password: info.postgres.superPassword,
    database: info.postgres.database,
  });
  await target.connect();
  try {
    await cleanUp(info, target);
    log(`seeding ${nf.format(ROWS)} rows`);
    await seed(info);
    const results = [];
    for (const p of PARALLELISM) {
      log(`snapshot with ${p} reader(s)`);
      results.push(await runOnce(info, target, p));
      log(`  ${JSON.stringify(results.at(-1))}`);
    }
    console.log(
      `\nferry snapshot, MariaDB -> Kafka -> PostgreSQL, ${nf.format(ROWS)} rows (ferry run, Node ${process.version})`,
    );
    console.log('readers  seconds  rows/s     peak RSS');
    for (const r of results) {
      console.log(
        `${String(r.parallelism).padEnd(7)}  ${String(r.seconds).padEnd(7)}  ${nf.format(r.rowsPerSecond).padEnd(9)}  ${r.peakRssMb} MB`,
      );
    }
    console.log(`BENCH_JSON ${JSON.stringify({ bench: 'snapshot-parallel', rows: ROWS, results })}`);
  } finally {
    await target.end();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
