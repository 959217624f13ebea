/**
 * Side by side (not run by CI): ferry against Debezium (MariaDB source + JDBC sink on Kafka
 * Connect standalone) and against a direct `mariadb --batch | psql \copy`, on the same sandbox,
 * the same table and the same machine, the runs interleaved.
 *
 * Workload: a MariaDB table `items` of N rows of about 200 bytes (two identical source databases,
 * one per pipeline, so each reads the same data) -> Kafka -> PostgreSQL.
 *   1. snapshot: from the start of the process until the target holds all N rows;
 *   2. catch-up: with both pipelines stopped, M row changes in 100-row transactions (half UPDATEs
 *      of existing rows, half INSERTs of new ones) are written to each source; then each pipeline
 *      is started again and timed until its target caught up (row count and SUM(v) equal);
 *   3. each target is checked: ferry's with `ferry verify`, Debezium's and the direct copy's by
 *      per-column aggregates (COUNT, SUM of every numeric column, total text length).
 * For each run: rows/s or events/s, the peak RSS of the whole process tree (ferry with any
 * children; Connect's JVM) and its CPU seconds.
 *
 *   npm run bench:debezium -- [rows=1000000] [changes=200000] [rounds=1]
 *
 * ferry runs twice: with the defaults, and with `source.snapshotTransport: direct` (the direct
 * lane; FERRY_BENCH_DIRECT=0 leaves it out), each on its own copy of the source.
 * With FERRY_BENCH_BASELINE_JS=<another checkout>/bin/ferry.js (built), that build runs too, on a
 * third copy of the source, for a before/after of ferry in the same sitting.
 *
 * Kafka Connect 4.1.1 and Debezium 3.5.0.Final are fetched from Maven Central into the sandbox
 * cache on first use (bench/debezium/connect.ts). The sandbox is .ferry/bench-sandbox (or
 * FERRY_BENCH_SANDBOX_DIR) and is left running.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { stringify } from 'yaml';
import { projectRoot, type SandboxInfo, sandboxUp } from '../src/sandbox/index.js';
import { freePorts } from '../src/sandbox/ports.js';
import {
  CONNECT_VERSION,
  type ConnectHome,
  type ConnectRun,
  DEBEZIUM_VERSION,
  ensureConnect,
  startConnect,
} from './debezium/connect.js';
import { ProcessTreeSampler } from './debezium/proc.js';

const ROWS = Number(process.argv[2] ?? 1_000_000);
const CHANGES = Number(process.argv[3] ?? 200_000);
const ROUNDS = Number(process.argv[4] ?? 1);
const TX_ROWS = 100;
const TIMEOUT_MS = 60 * 60_000;

const nf = new Intl.NumberFormat('en-US');
const log = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type System = 'ferry' | 'ferryDirect' | 'baseline' | 'debezium';
const SRC: Record<System, string> = {
  ferry: 'bench_cmp_src_ferry',
  ferryDirect: 'bench_cmp_src_fdirect',
  baseline: 'bench_cmp_src_base',
  debezium: 'bench_cmp_src_dbz',
};
const TGT: Record<System | 'direct', string> = {
  ferry: 'bench_cmp_ferry',
  ferryDirect: 'bench_cmp_fdirect',
  baseline: 'bench_cmp_base',
  debezium: 'bench_cmp_dbz',
  direct: 'bench_cmp_direct',
};

/** ferry builds to run: this one, and another one (`FERRY_BENCH_BASELINE_JS`, its bin/ferry.js) for a before/after in one sitting. */
interface FerryBuild {
  system: 'ferry' | 'ferryDirect' | 'baseline';
  label: string;
  bin: string;
}
const BUILDS: FerryBuild[] = [
  { system: 'ferry', label: 'ferry', bin: join(projectRoot(), 'bin', 'ferry.js') },
  ...(process.env['FERRY_BENCH_DIRECT'] === '0'
    ? []
    : [{ system: 'ferryDirect' as const, label: 'ferry (direct lane)', bin: join(projectRoot(), 'bin', 'ferry.js') }]),
  ...(process.env['FERRY_BENCH_BASELINE_JS']
    ? [{ system: 'baseline' as const, label: 'ferry (baseline)', bin: process.env['FERRY_BENCH_BASELINE_JS'] }]
    : []),
];
const SOURCES = [...BUILDS.map((b) => SRC[b.system]), SRC.debezium];
const COLUMNS = ['id', 'account', 'qty', 'v', 'price', 'name', 'note', 'created'];

interface Measure {
  system: string;
  phase: string;
  count: number;
  seconds: number;
  rate: number;
  peakRssMb: number;
  cpuSeconds: number;
  equal: boolean | null;
}

interface Databases {
  my: mysql.Connection;
  pgc: pg.Client;
  info: SandboxInfo;
}

async function seed(db: Databases): Promise<void> {
  for (const name of SOURCES) {
    await db.my.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await db.my.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
    await db.my.query(`CREATE TABLE \`${name}\`.items (
        id BIGINT NOT NULL PRIMARY KEY, account INT NOT NULL, qty SMALLINT NOT NULL, v INT NOT NULL,
        price DECIMAL(12,2) NOT NULL, name VARCHAR(64) NOT NULL, note VARCHAR(255) NULL,
        created DATETIME(6) NOT NULL) CHARACTER SET utf8mb4`);
    await db.my.query(
      `INSERT INTO \`${name}\`.items
         SELECT seq, seq % 9973, 1 + seq % 50, 0, (seq * 1.25) % 100000, CONCAT('item-', seq),
                IF(seq % 10 = 0, NULL, CONCAT('note ', seq, ' ', REPEAT('x', 90 + seq % 40))),
                TIMESTAMP('2024-01-01') + INTERVAL (seq * 1001) MICROSECOND
           FROM \`${name}\`.seq_1_to_${ROWS}`,
    );
  }
  for (const schema of Object.values(TGT)) await db.pgc.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await db.pgc.query(`CREATE SCHEMA "${TGT.debezium}"`);
  await db.pgc.query(`CREATE SCHEMA "${TGT.direct}"`);
  await db.pgc.query(`CREATE TABLE "${TGT.direct}".items (
      id bigint PRIMARY KEY, account integer NOT NULL, qty smallint NOT NULL, v integer NOT NULL,
      price numeric(12,2) NOT NULL, name varchar(64) NOT NULL, note varchar(255), created timestamp(6) NOT NULL)`);
}

/** M changes in 100-row transactions: UPDATEs of seeded rows, then INSERTs of new ones. */
async function writeChanges(db: Databases, database: string): Promise<void> {
  const updates = Math.floor(CHANGES / 2 / TX_ROWS);
  const inserts = Math.floor(CHANGES / 2 / TX_ROWS);
  for (let t = 0; t < updates; t++) {
    const first = 1 + ((t * TX_ROWS * 7) % Math.max(1, ROWS - TX_ROWS));
    await db.my.query(`UPDATE \`${database}\`.items SET v = v + 1, qty = qty + 1 WHERE id BETWEEN ? AND ?`, [
      first,
      first + TX_ROWS - 1,
    ]);
  }
  for (let t = 0; t < inserts; t++) {
    const first = ROWS + 1 + t * TX_ROWS;
    await db.my.query(
      `INSERT INTO \`${database}\`.items
         SELECT seq, seq % 9973, 1 + seq % 50, 1, (seq * 1.25) % 100000, CONCAT('item-', seq),
                CONCAT('note ', seq, ' ', REPEAT('y', 90 + seq % 40)), NOW(6)
           FROM \`${database}\`.seq_${first}_to_${first + TX_ROWS - 1}`,
    );
  }
}

interface Aggregates {
  rows: number;
  sums: string;
}

async function sourceAggregates(db: Databases, database: string): Promise<Aggregates> {
  const [r] = await db.my.query(
    `SELECT COUNT(*) AS n, CONCAT_WS('/', SUM(id), SUM(account), SUM(qty), SUM(v), SUM(price), SUM(CHAR_LENGTH(name)),
            SUM(CHAR_LENGTH(note)), SUM(UNIX_TIMESTAMP(created) DIV 1), SUM(MICROSECOND(created))) AS sums
       FROM \`${database}\`.items`,
  );
  const row = (r as Array<{ n: number; sums: string }>)[0]!;
  return { rows: Number(row.n), sums: row.sums };
}

async function targetAggregates(db: Databases, schema: string): Promise<Aggregates> {
  const r = await db.pgc.query(
    `SELECT COUNT(*) AS n, CONCAT_WS('/', SUM(id), SUM(account), SUM(qty), SUM(v), SUM(price), SUM(CHAR_LENGTH(name)),
            SUM(CHAR_LENGTH(note)), SUM(FLOOR(EXTRACT(EPOCH FROM created::timestamp))),
            SUM((EXTRACT(MICROSECONDS FROM created::timestamp)::bigint % 1000000))) AS sums
       FROM "${schema}".items`,
  );
  return { rows: Number(r.rows[0].n), sums: String(r.rows[0].sums) };
}

/** Target row count and SUM(v), 0/0 while the table does not exist yet. */
async function progress(db: Databases, schema: string): Promise<{ rows: number; v: number }> {
  try {
    const r = await db.pgc.query(`SELECT COUNT(*) AS n, COALESCE(SUM(v), 0) AS v FROM "${schema}".items`);
    return { rows: Number(r.rows[0].n), v: Number(r.rows[0].v) };
  } catch {
    return { rows: 0, v: 0 };
  }
}

async function waitFor(db: Databases, schema: string, want: { rows: number; v: number }, child: ChildProcess) {
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const p = await progress(db, schema);
    if (p.rows === want.rows && p.v === want.v) return;
    if (child.exitCode !== null) throw new Error(`${schema}: the process exited (${child.exitCode}) at ${p.rows} rows`);
    if (Date.now() > deadline) throw new Error(`${schema}: ${p.rows}/${want.rows} rows after ${TIMEOUT_MS} ms`);
    await sleep(200);
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  await exited;
  clearTimeout(timer);
}

function ferryConfigFile(info: SandboxInfo, dir: string, name: string, system: FerryBuild['system']): string {
  const config = {
    name,
    kafka: { brokers: info.kafka.brokers },
    source: {
      kind: 'mysql',
      url: info.mysql.url,
      tables: [`${SRC[system]}.items`],
      ...(system === 'ferryDirect' ? { snapshotTransport: 'direct' } : {}),
    },
    sink: { kind: 'postgres', url: info.postgres.url, schema: TGT[system] },
    log: { level: 'warn' },
  };
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(config));
  return file;
}

function startFerry(bin: string, configFile: string, dir: string): ChildProcess {
  return spawn(process.execPath, [bin, 'run', '-c', configFile], {
    stdio: ['ignore', 'ignore', 'ignore'],
    cwd: dir,
  });
}

/** Runs `start()` until the target reaches `want`; returns the measure of the process tree. */
async function timed(
  system: string,
  phase: string,
  count: number,
  start: () => ChildProcess,
  db: Databases,
  schema: string,
  want: { rows: number; v: number },
): Promise<{ m: Measure; child: ChildProcess }> {
  const t0 = performance.now();
  const child = start();
  const sampler = new ProcessTreeSampler(child.pid!);
  let used: { peakRssMb: number; cpuSeconds: number };
  try {
    await waitFor(db, schema, want, child);
  } finally {
    used = sampler.stop();
  }
  const seconds = (performance.now() - t0) / 1000;
  log(`  ${system} ${phase}: ${nf.format(count)} in ${seconds.toFixed(1)} s`);
  return {
    child,
    m: { system, phase, count, seconds, rate: Math.round(count / seconds), ...used, equal: null },
  };
}

async function directCopy(db: Databases): Promise<Measure> {
  const { mysql: my, postgres: p } = db.info;
  await db.pgc.query(`TRUNCATE "${TGT.direct}".items`);
  const t0 = performance.now();
  const select = `SELECT ${COLUMNS.join(', ')} FROM \`${SRC.ferry}\`.items`;
  const child = spawn(
    'bash',
    [
      '-c',
      'mariadb --batch --skip-column-names -h "$MH" -P "$MP" -u "$MU" -e "$SQL" | psql -q -h "$PH" -p "$PP" -U "$PU" -d "$PD" -c "$COPY"',
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        MH: my.host,
        MP: String(my.port),
        MU: my.rootUser,
        MYSQL_PWD: my.rootPassword,
        SQL: select,
        PH: p.host,
        PP: String(p.port),
        PU: p.user,
        PGPASSWORD: p.password,
        PD: p.database,
        COPY: `\\copy "${TGT.direct}".items FROM STDIN WITH (NULL 'NULL')`,
      },
    },
  );
  const sampler = new ProcessTreeSampler(child.pid!, 100);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  const used = sampler.stop();
  if (code !== 0) throw new Error(`direct copy exited with ${code}`);
  const seconds = (performance.now() - t0) / 1000;
  const src = await sourceAggregates(db, SRC.ferry);
  const tgt = await targetAggregates(db, TGT.direct);
  log(`  direct copy: ${nf.format(src.rows)} rows in ${seconds.toFixed(1)} s`);
  return {
    system: 'direct copy',
    phase: 'snapshot',
    count: tgt.rows,
    seconds,
    rate: Math.round(tgt.rows / seconds),
    ...used,
    equal: src.rows === tgt.rows && src.sums === tgt.sums,
  };
}

async function runFerryVerify(bin: string, configFile: string): Promise<boolean> {
  const child = spawn(process.execPath, [bin, 'verify', '-c', configFile], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  return code === 0;
}

async function round(db: Databases, home: ConnectHome, n: number, dir: string): Promise<Measure[]> {
  log(`== round ${n}: seeding ${nf.format(ROWS)} rows into ${SOURCES.length} sources`);
  await seed(db);
  const stamp = Date.now().toString(36);
  const configs = BUILDS.map((b) =>
    ferryConfigFile(db.info, dir, `bench-cmp-${b.system.toLowerCase()}-${stamp}`, b.system),
  );
  const [restPort] = await freePorts(1);
  const connect: ConnectRun = {
    dir: join(dir, `connect-${stamp}`),
    brokers: db.info.kafka.brokers,
    restPort: restPort!,
    prefix: `bench-dbz-${stamp}`,
    partitions: 6, // ferry's default kafka.partitions
    source: {
      host: db.info.mysql.host,
      port: db.info.mysql.port,
      user: db.info.mysql.user,
      password: db.info.mysql.password,
      database: SRC.debezium,
      table: 'items',
      serverId: 5400 + n,
    },
    target: {
      host: db.info.postgres.host,
      port: db.info.postgres.port,
      user: db.info.postgres.user,
      password: db.info.postgres.password,
      database: db.info.postgres.database,
      schema: TGT.debezium,
    },
  };
  const out: Measure[] = [];
  const seeded = { rows: ROWS, v: 0 };
  for (const [i, b] of BUILDS.entries()) {
    const f1 = await timed(
      b.label,
      'snapshot',
      ROWS,
      () => startFerry(b.bin, configs[i]!, dir),
      db,
      TGT[b.system],
      seeded,
    );
    await stop(f1.child);
    out.push(f1.m);
  }
  const d1 = await timed('debezium', 'snapshot', ROWS, () => startConnect(home, connect), db, TGT.debezium, seeded);
  await stop(d1.child);
  out.push(d1.m);
  out.push(await directCopy(db));

  log(`  writing ${nf.format(CHANGES)} changes in ${TX_ROWS}-row transactions to both sources`);
  for (const name of SOURCES) await writeChanges(db, name);
  const [totals] = await db.my.query(`SELECT COUNT(*) AS n, SUM(v) AS v FROM \`${SRC.ferry}\`.items`);
  const t = (totals as Array<{ n: number; v: number }>)[0]!;
  const after = { rows: Number(t.n), v: Number(t.v) };

  for (const [i, b] of BUILDS.entries()) {
    const f2 = await timed(
      b.label,
      'catch-up',
      CHANGES,
      () => startFerry(b.bin, configs[i]!, dir),
      db,
      TGT[b.system],
      after,
    );
    await stop(f2.child);
    f2.m.equal = await runFerryVerify(b.bin, configs[i]!);
    out.push(f2.m);
  }
  const d2 = await timed('debezium', 'catch-up', CHANGES, () => startConnect(home, connect), db, TGT.debezium, after);
  await stop(d2.child);
  const ds = await sourceAggregates(db, SRC.debezium);
  const dt = await targetAggregates(db, TGT.debezium);
  d2.m.equal = ds.rows === dt.rows && ds.sums === dt.sums;
  if (!d2.m.equal) log(`  debezium target differs: source ${ds.rows} ${ds.sums}, target ${dt.rows} ${dt.sums}`);
  out.push(d2.m);
  return out;
}

function table(all: Measure[]): string {
  const rows = [['system', 'phase', 'count', 'seconds', 'per second', 'peak RSS MB', 'CPU s', 'target equal']];
  for (const m of all) {
    rows.push([
      m.system,
      m.phase,
      nf.format(m.count),
      m.seconds.toFixed(1),
      nf.format(m.rate),
      String(m.peakRssMb),
      String(m.cpuSeconds),
      m.equal === null ? '' : m.equal ? 'yes' : 'NO',
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n');
}

async function main(): Promise<void> {
  if (!(ROWS > TX_ROWS && CHANGES >= 2 * TX_ROWS && ROUNDS >= 1))
    throw new Error('rows > 100, changes >= 200, rounds >= 1');
  const sandboxDir = process.env['FERRY_BENCH_SANDBOX_DIR'] ?? join(projectRoot(), '.ferry', 'bench-sandbox');
  const info = await sandboxUp({ dir: sandboxDir, log: (l) => log(`[sandbox] ${l}`) });
  const home = await ensureConnect(log);
  const dir = join(projectRoot(), '.ferry', 'bench-compare');
  mkdirSync(dir, { recursive: true });
  const my = await mysql.createConnection({
    host: info.mysql.host,
    port: info.mysql.port,
    user: info.mysql.rootUser,
    password: info.mysql.rootPassword,
  });
  await my.query("SET time_zone = '+00:00'");
  const pgc = new pg.Client({
    host: info.postgres.host,
    port: info.postgres.port,
    user: info.postgres.user,
    password: info.postgres.password,
    database: info.postgres.database,
  });
  await pgc.connect();
  await pgc.query("SET TIME ZONE 'UTC'");
  const db: Databases = { my, pgc, info };
  const all: Measure[] = [];
  try {
    for (let n = 1; n <= ROUNDS; n++) all.push(...(await round(db, home, n, dir)));
  } finally {
    await my.end();
    await pgc.end();
  }
  console.log(
    `\nferry vs Debezium ${DEBEZIUM_VERSION} (Kafka Connect ${CONNECT_VERSION} standalone, -Xmx1g) vs direct copy; ` +
      `${nf.format(ROWS)} rows, ${nf.format(CHANGES)} changes; Node ${process.version}`,
  );
  console.log(table(all));
  console.log(
    `BENCH_JSON ${JSON.stringify({ bench: 'debezium-compare', rows: ROWS, changes: CHANGES, results: all })}`,
  );
  console.log(`\nsandbox left running; stop it with: node bin/ferry.js sandbox down --dir ${sandboxDir}`);
  if (all.some((m) => m.equal === false)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
