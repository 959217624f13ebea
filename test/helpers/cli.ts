/**
 * Running the real `ferry` command (bin/ferry.js → dist/) as a child process in integration
 * tests: building dist/ when it is stale, pipeline configs made from the example configs,
 * scraping /metrics, and a small MariaDB `shop` with a writer that keeps changing it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type mysql from 'mysql2/promise';
import { loadConfig, type PipelineConfig } from '../../src/config/index.js';
import { projectRoot } from '../../src/sandbox/index.js';
import { buildDistWhenStale } from './build.js';
import { pollUntil } from './poll.js';
import { getSandbox, mysqlRoot } from './sandbox.js';

const ROOT = projectRoot();
export const FERRY_BIN = join(ROOT, 'bin', 'ferry.js');
const CLI_MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');

/** Builds dist/ when the CLI entry is missing or older than any source (`npm test` built it already). */
export function ensureCliBuilt(): void {
  buildDistWhenStale(CLI_MAIN, ['src', 'connectors'], 'npm run build failed; `ferry` cannot run');
}

export interface FerryResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface FerryProcess {
  child: ChildProcess;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  exited: Promise<FerryResult>;
  /** Sends a signal (when still running) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<FerryResult>;
  /** Waits until stdout + stderr match, failing early if the process exits. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

/** Environment additions for ferry; `undefined` removes a variable. */
export type FerryEnv = Record<string, string | undefined>;

function childEnv(env: FerryEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** Starts `node bin/ferry.js …args` with the given environment additions. */
export function startFerry(args: string[], env: FerryEnv = {}): FerryProcess {
  const child = spawn(process.execPath, [FERRY_BIN, ...args], {
    cwd: ROOT,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  let done = false;
  const exited = new Promise<FerryResult>((resolve) => {
    child.once('close', (code, signal) => {
      done = true;
      resolve({ code, signal, stdout: out, stderr: err });
    });
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async stop(signal = 'SIGTERM') {
      if (!done && child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    async waitForOutput(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(out + err)) {
        if (done) throw new Error(`ferry ${args[0]} exited before printing ${pattern}:\n${out}\n${err}`);
        if (Date.now() > deadline) throw new Error(`ferry ${args[0]} did not print ${pattern}:\n${out}\n${err}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

/** Runs `ferry …args` to its end (killed after `timeoutMs`). */
export async function runFerry(args: string[], env: FerryEnv = {}, timeoutMs = 60_000): Promise<FerryResult> {
  const p = startFerry(args, env);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
  try {
    return await p.exited;
  } finally {
    clearTimeout(timer);
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

// ---- configs from the examples ----

export interface ExampleConfigOptions {
  /** Pipeline name (unique per test). */
  name: string;
  /** MariaDB database replacing `shop` (captured tables, excludes, excluded columns). */
  sourceDatabase: string;
  /** Metrics port on 127.0.0.1. */
  metricsPort: number;
  /** PostgreSQL database of the target [the sandbox's `ferry`]. */
  targetDatabase?: string;
  /** Users in the URLs [the sandbox's CDC users]. */
  sourceUser?: string;
  targetUser?: string;
  /** Further text edits, applied last (e.g. the log level). */
  edit?: (text: string) => string;
}

function replaceOnce(text: string, from: string | RegExp, to: string, what: string): string {
  const found = typeof from === 'string' ? text.includes(from) : from.test(text);
  if (!found) throw new Error(`config/examples/mariadb-to-postgres.yaml changed: ${what} (${String(from)}) not found`);
  return typeof from === 'string' ? text.split(from).join(to) : text.replace(from, to);
}

/**
 * config/examples/mariadb-to-postgres.yaml for the sandbox: only addresses, names and users are
 * replaced, everything else stays as the example has it. Passwords stay `${SOURCE_PASSWORD}` and
 * `${TARGET_PASSWORD}` (pass them in the environment: `pipelineEnv()`).
 */
export function mariadbToPostgresConfig(o: ExampleConfigOptions): string {
  const s = getSandbox();
  let text = readFileSync(join(ROOT, 'config', 'examples', 'mariadb-to-postgres.yaml'), 'utf8');
  text = replaceOnce(text, /^name: shop-move$/m, `name: ${o.name}`, 'the pipeline name');
  text = replaceOnce(
    text,
    /^ {2}brokers: .*$/m,
    // A killed sink's partitions are handed over after 10 s instead of 30 s.
    `  brokers: ${JSON.stringify(s.kafka.brokers)}\n  sessionTimeoutMs: 10000`,
    'kafka.brokers',
  );
  text = replaceOnce(
    text,
    `mysql://ferry:\${SOURCE_PASSWORD}@127.0.0.1:3306/shop`,
    `mysql://${o.sourceUser ?? s.mysql.user}:\${SOURCE_PASSWORD}@${s.mysql.host}:${s.mysql.port}/${o.sourceDatabase}`,
    'source.url',
  );
  text = replaceOnce(
    text,
    `postgres://ferry:\${TARGET_PASSWORD}@127.0.0.1:5432/shop`,
    `postgres://${o.targetUser ?? s.postgres.user}:\${TARGET_PASSWORD}@${s.postgres.host}:${s.postgres.port}/${o.targetDatabase ?? s.postgres.database}`,
    'sink.url',
  );
  text = replaceOnce(text, '["shop.', `["${o.sourceDatabase}.`, 'the table patterns');
  text = replaceOnce(text, 'listen: 127.0.0.1:9464', `listen: 127.0.0.1:${o.metricsPort}`, 'metrics.listen');
  return o.edit ? o.edit(text) : text;
}

/** Writes a config into the test's directory and returns its path. */
export function writeConfig(dir: string, name: string, text: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, text);
  return file;
}

/** SOURCE_PASSWORD and TARGET_PASSWORD of the sandbox's CDC users. */
export function pipelineEnv(): Record<string, string> {
  const s = getSandbox();
  return { SOURCE_PASSWORD: s.mysql.password, TARGET_PASSWORD: s.postgres.password };
}

/** The config as ferry reads it (for verifyPipeline in the test process). */
export function parsedConfig(file: string, env: Record<string, string>): PipelineConfig {
  return loadConfig(file, { ...process.env, ...env });
}

/** A directory for a test's configs and logs, under .ferry/test-logs. */
export function testDir(name: string): string {
  const dir = join(ROOT, '.ferry', 'test-logs', name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

// ---- /metrics ----

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

export async function fetchText(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, text: await res.text() };
}

/** Sum of a metric's samples, optionally only those with the given labels. */
export function sum(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
}

// ---- a small shop in MariaDB and an application writing to it ----

/**
 * A MariaDB database like the example expects: `customers` (with a `password_hash` column the
 * example excludes), `orders`, and `tmp_scratch` (excluded by `shop.tmp_*`).
 */
export async function createSourceShop(db: string, customers = 50, orders = 200): Promise<void> {
  const conn = await mysqlRoot();
  try {
    await conn.query('DROP DATABASE IF EXISTS ??', [db]);
    await conn.query('CREATE DATABASE ?? CHARACTER SET utf8mb4', [db]);
    await conn.query('USE ??', [db]);
    await conn.query(`CREATE TABLE customers (
      id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      name VARCHAR(100) NOT NULL,
      password_hash CHAR(64) NOT NULL,
      balance DECIMAL(12,2) NOT NULL DEFAULT 0,
      updated_at DATETIME(6) NOT NULL
    ) CHARACTER SET utf8mb4`);
    await conn.query(`CREATE TABLE orders (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      customer_id INT UNSIGNED NOT NULL,
      total DECIMAL(14,2) NOT NULL,
      status ENUM('new','paid','shipped') NOT NULL DEFAULT 'new',
      note TEXT NULL,
      attributes JSON NULL
    ) CHARACTER SET utf8mb4`);
    await conn.query('CREATE TABLE tmp_scratch (x INT)');
    await conn.query('INSERT INTO tmp_scratch VALUES (1), (2)');
    await conn.query('INSERT INTO customers (name, password_hash, balance, updated_at) VALUES ?', [
      Array.from({ length: customers }, (_, i) => [
        `Cüstomer ${i} 🚢`,
        'x'.repeat(64),
        (i * 3.25).toFixed(2),
        '2025-03-04 05:06:07.123456',
      ]),
    ]);
    await conn.query('INSERT INTO orders (customer_id, total, status, note, attributes) VALUES ?', [
      Array.from({ length: orders }, (_, i) => [
        1 + (i % customers),
        (i * 1.5).toFixed(2),
        ['new', 'paid', 'shipped'][i % 3],
        i % 4 === 0 ? null : `note ${i}`,
        JSON.stringify({ n: i, tags: ['a', 'b'] }),
      ]),
    ]);
  } finally {
    await conn.end();
  }
}

export interface Writer {
  /** Stops writing and resolves with the number of transactions written. */
  stop(): Promise<number>;
}

/**
 * An application writing small transactions to the shop until stopped: inserts, updates, deletes
 * and a primary-key change now and then. `pauseMs` between transactions keeps the load modest.
 * Updates, deletes and key changes pick rows that exist (the newest or the oldest), so however
 * many transactions ran before, each one changes a row.
 */
export async function startWriter(db: string, pauseMs = 10): Promise<Writer> {
  const conn: mysql.Connection = await mysqlRoot(db);
  let stopped = false;
  let n = 0;
  const loop = (async () => {
    while (!stopped) {
      await conn.beginTransaction();
      const k = n % 5;
      if (k === 0 || k === 3) {
        await conn.query('INSERT INTO orders (customer_id, total, status, note) VALUES (?, ?, ?, ?)', [
          1 + (n % 10),
          (n * 0.75).toFixed(2),
          'new',
          `live ${n}`,
        ]);
      } else if (k === 1) {
        await conn.query('UPDATE customers SET balance = balance + 1.25, updated_at = NOW(6) WHERE id = ?', [
          1 + (n % 10),
        ]);
        await conn.query(
          "UPDATE orders SET status = 'paid', total = total + 1 WHERE id < 1000000 ORDER BY id DESC LIMIT 1",
        );
      } else if (k === 2) {
        await conn.query('DELETE FROM orders WHERE id < 1000000 ORDER BY id LIMIT 1');
      } else {
        await conn.query('UPDATE orders SET id = id + 1000000 WHERE id < 1000000 ORDER BY id DESC LIMIT 1');
      }
      await conn.commit();
      n++;
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      try {
        await loop;
      } finally {
        await conn.end();
      }
      return n;
    },
  };
}

export async function dropSourceDatabase(db: string): Promise<void> {
  const conn = await mysqlRoot();
  try {
    await conn.query('DROP DATABASE IF EXISTS ??', [db]);
  } finally {
    await conn.end();
  }
}

/** Waits until `fn` returns a truthy value (errors count as "not yet"). */
export async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs = 60_000,
  intervalMs = 500,
): Promise<T> {
  return pollUntil(what, fn, timeoutMs, intervalMs);
}
