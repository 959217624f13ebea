import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { FerryError } from '../api/errors.js';
import { loadConfig } from '../config/index.js';
import { withAdmin } from '../kafka/admin.js';
import { createKafka } from '../kafka/client.js';
import { sandboxUp } from '../sandbox/index.js';
import { formatVerifyReport, verifyPipeline } from '../verify/index.js';
import { createShop, runWriter, type SeedSizes } from './shop.js';

export interface DemoOptions {
  dir: string;
  /** How long the writer keeps changing the source while the pipeline runs. */
  writeSeconds: number;
  sizes: SeedSizes;
  out: (line: string) => void;
  err: (line: string) => void;
}

const DB = 'shop';
const nf = new Intl.NumberFormat('en-US');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** The demo's pipeline config: passwords come from the environment, never from the file. */
function demoConfig(name: string, kafka: string, mysqlAddr: string, pgAddr: string, metricsPort: number): string {
  return `# Written by \`ferry demo\`: MariaDB (sandbox) -> Kafka -> PostgreSQL (sandbox).
# Run it yourself with the passwords from sandbox.json in SOURCE_PASSWORD and TARGET_PASSWORD:
#   npx ferry run -c <this file>
name: ${name}
kafka:
  brokers: ["${kafka}"]
  partitions: 3
source:
  kind: mysql
  url: mysql://ferry:\${SOURCE_PASSWORD}@${mysqlAddr}/${DB}
  tables: ["${DB}.*"]
  snapshot: initial
  snapshotChunkSize: 5000
sink:
  kind: postgres
  url: postgres://ferry:\${TARGET_PASSWORD}@${pgAddr}/ferry
  batchSize: 5000
metrics:
  listen: 127.0.0.1:${metricsPort}
log:
  level: warn
`;
}

async function scrape(port: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
    for (const line of text.split('\n')) {
      const m = /^(ferry_[a-z_]+)(?:\{[^}]*\})? ([0-9.eE+-]+)$/.exec(line);
      if (m) out.set(m[1]!, (out.get(m[1]!) ?? 0) + Number(m[2]));
    }
  } catch {
    // not up yet
  }
  return out;
}

function ferryBin(): string {
  return fileURLToPath(new URL('../../../bin/ferry.js', import.meta.url));
}

/**
 * The README's main job: a live MariaDB -> Kafka -> PostgreSQL move on the sandbox while an
 * application keeps writing, ending in a verification report. Returns true when equal.
 */
export async function runDemo(o: DemoOptions): Promise<boolean> {
  const t0 = Date.now();
  o.err('1/6 starting the sandbox: Kafka, MariaDB, PostgreSQL (the first start fetches Kafka from Maven Central)');
  const info = await sandboxUp({ dir: o.dir, log: (l) => o.err(`    ${l}`) });

  o.err(
    `2/6 creating the \`${DB}\` database in MariaDB: ${o.sizes.customers} customers, ${o.sizes.products} products, ${o.sizes.orders} orders`,
  );
  const root = await mysql.createConnection({
    host: info.mysql.host,
    port: info.mysql.port,
    user: info.mysql.rootUser,
    password: info.mysql.rootPassword,
  });
  try {
    await createShop(root, DB, o.sizes);
  } finally {
    await root.end();
  }
  const target = new pg.Client({
    host: info.postgres.host,
    port: info.postgres.port,
    user: info.postgres.superUser,
    password: info.postgres.superPassword,
    database: info.postgres.database,
  });
  await target.connect();
  try {
    await target.query(`DROP SCHEMA IF EXISTS ${target.escapeIdentifier(DB)} CASCADE`);
  } finally {
    await target.end();
  }

  // A fresh pipeline name per run: new topics and consumer group; older demo topics are removed.
  const name = `demo-${Date.now().toString(36)}`;
  const kafka = createKafka({ brokers: info.kafka.brokers, clientId: 'ferry-demo' });
  await withAdmin(kafka, async (admin) => {
    const old = (await admin.listTopics()).filter((t) => /^demo-[a-z0-9]+\./.test(t));
    if (old.length > 0) await admin.deleteTopics({ topics: old }).catch(() => undefined);
  });
  const metricsPort = await freePort();
  const demoDir = join(o.dir, 'demo');
  mkdirSync(demoDir, { recursive: true });
  const configFile = join(demoDir, 'pipeline.yaml');
  writeFileSync(
    configFile,
    demoConfig(
      name,
      info.kafka.brokers[0]!,
      `${info.mysql.host}:${info.mysql.port}`,
      `${info.postgres.host}:${info.postgres.port}`,
      metricsPort,
    ),
  );
  const env = { ...process.env, SOURCE_PASSWORD: info.mysql.password, TARGET_PASSWORD: info.postgres.password };

  o.err(`3/6 running \`ferry run -c ${configFile}\` (metrics on http://127.0.0.1:${metricsPort}/metrics)`);
  // --no-progress: the demo prints its own progress lines; a live view drawn by the child on the
  // same terminal would be torn by them (and its final clear would erase the demo's last lines).
  const child: ChildProcess = spawn(process.execPath, [ferryBin(), 'run', '-c', configFile, '--no-progress'], {
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  // Never leave the pipeline behind, whatever ends this process.
  const killChild = () => child.kill('SIGTERM');
  process.once('exit', killChild);
  let childExit: number | null = null;
  const exited = new Promise<number>((resolve) =>
    child.once('exit', (code) => {
      childExit = code ?? 1;
      resolve(childExit);
    }),
  );
  const stopChild = async () => {
    if (childExit === null) {
      child.kill('SIGTERM');
      await exited;
    }
  };
  let ticker: NodeJS.Timeout | undefined;
  try {
    o.err(
      `4/6 an application writes to MariaDB for ${o.writeSeconds}s (inserts, updates, deletes, key changes) while ferry copies and streams`,
    );
    const conn = await mysql.createConnection({
      host: info.mysql.host,
      port: info.mysql.port,
      user: info.mysql.rootUser,
      password: info.mysql.rootPassword,
      database: DB,
    });
    const writing = new AbortController();
    let writerError: unknown = null;
    const writer = runWriter(conn, o.sizes, writing.signal).catch((err: unknown) => {
      writerError = err;
      return null;
    });
    ticker = setInterval(() => {
      void scrape(metricsPort).then((m) => {
        if (childExit !== null || ticker === undefined) return;
        const n = (name: string) => {
          const v = m.get(name);
          return v === undefined ? '?' : nf.format(v);
        };
        o.err(
          `    published ${n('ferry_source_events_total')}, applied ${n('ferry_sink_applied_events_total')}, ` +
            `snapshot rows ${n('ferry_snapshot_rows_total')}, lag ${n('ferry_sink_lag_events')} events`,
        );
      });
    }, 2000);
    await Promise.race([new Promise((r) => setTimeout(r, o.writeSeconds * 1000)), exited]);
    writing.abort();
    const stats = await writer;
    await conn.end();
    if (stats === null) {
      throw new FerryError(
        'FERRY_INTERNAL',
        `the demo's application failed: ${(writerError as Error)?.message ?? writerError}`,
        {
          cause: writerError,
        },
      );
    }
    if (childExit !== null) throw new FerryError('FERRY_INTERNAL', `ferry run exited early with code ${childExit}`);
    o.err(
      `5/6 the application stopped after ${stats.transactions} transactions (${stats.inserts} inserts, ${stats.updates} updates, ${stats.deletes} deletes); waiting for lag 0`,
    );
    let stable = 0;
    let lastApplied = -1;
    const deadline = Date.now() + 120_000;
    while (stable < 3) {
      if (childExit !== null) throw new FerryError('FERRY_INTERNAL', `ferry run exited early with code ${childExit}`);
      if (Date.now() > deadline)
        throw new FerryError('FERRY_INTERNAL', 'the pipeline did not catch up within 2 minutes');
      await new Promise((r) => setTimeout(r, 1000));
      const m = await scrape(metricsPort);
      const applied = m.get('ferry_sink_applied_events_total') ?? 0;
      const caughtUp = m.get('ferry_sink_lag_events') === 0 && applied === lastApplied && applied > 0;
      stable = caughtUp ? stable + 1 : 0;
      lastApplied = applied;
    }
    clearInterval(ticker);
    ticker = undefined;
    o.err('6/6 verifying: row counts and checksums of key ranges in MariaDB and PostgreSQL');
    const config = loadConfig(configFile, env);
    const report = await verifyPipeline(config, { recheck: { attempts: 5, delayMs: 2000 } });
    o.out('');
    o.out(formatVerifyReport(report));
    o.out('');
    o.out(
      report.equal
        ? `✓ the target equals the source: ${nf.format(report.tables.reduce((n, t) => n + t.sourceRows, 0))} rows in ${report.tables.length} tables, moved live in ${Math.round((Date.now() - t0) / 1000)}s`
        : '✗ the target differs from the source (see above)',
    );
    return report.equal;
  } finally {
    // Also on a failure: a running interval would keep the process from exiting.
    if (ticker) clearInterval(ticker);
    ticker = undefined;
    await stopChild();
    process.off('exit', killChild);
    o.out('');
    o.out(`The sandbox keeps running (connection details in ${join(o.dir, 'sandbox.json')}).`);
    o.out(`Run the pipeline again: SOURCE_PASSWORD=… TARGET_PASSWORD=… npx ferry run -c ${configFile}`);
    o.out('Stop the sandbox: npx ferry sandbox down');
  }
}
