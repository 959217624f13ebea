import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import type { Kafka } from 'kafkajs';
import type mysql from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/sandbox/index.js';
import { type ConsumedRecord, events, readEnvelopes, sandboxKafka, storedOffset } from '../helpers/kafka.js';
import { getSandbox, mysqlRoot, uniqueName } from '../helpers/sandbox.js';
import { freshDatabase, mysqlConfig, until } from '../integration/mysql-source.helpers.js';

const MAIN = join(projectRoot(), 'dist', 'src', 'runtime', 'source', 'main.js');
const INITIAL_ROWS = 6000;

/** Sources (relative imports, transitively) of `entry` whose compiled .js in dist/ is older. */
function staleSources(entry: string): string[] {
  const root = projectRoot();
  const seen = new Set<string>();
  const stale: string[] = [];
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const js = join(root, 'dist', relative(root, file)).replace(/\.ts$/, '.js');
    if (!existsSync(js) || statSync(js).mtimeMs < statSync(file).mtimeMs) stale.push(relative(root, file));
    for (const m of readFileSync(file, 'utf8').matchAll(/from '(\.{1,2}\/[^']+)\.js'/g)) {
      const ts = resolve(dirname(file), `${m[1]}.ts`);
      if (existsSync(ts)) visit(ts);
    }
  };
  visit(join(root, entry));
  return stale;
}

/** The source as a real child process (node dist/src/runtime/source/main.js opts.json). */
class SourceProcess {
  readonly stored: Array<Record<string, unknown>> = [];
  stderr = '';
  /** Checked on every stored position the child reports: true kills it on the spot. */
  killWhen: ((stored: Record<string, unknown>) => boolean) | null = null;
  private child: ChildProcess | null = null;
  private exited: Promise<number | null> = Promise.resolve(null);

  constructor(private readonly optsFile: string) {}

  start(): void {
    const child = spawn(process.execPath, [MAIN, this.optsFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('{"stored"')) {
          const stored = (JSON.parse(line) as { stored: Record<string, unknown> }).stored;
          this.stored.push(stored);
          if (this.killWhen?.(stored)) {
            this.killWhen = null;
            child.kill('SIGKILL');
          }
        }
        nl = buf.indexOf('\n');
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    this.child?.kill(signal);
    return this.exited;
  }

  exit(): Promise<number | null> {
    return this.exited;
  }
}

/** Every committed transaction: its MariaDB GTID sequence number and the rows it left. */
interface Txn {
  seq: number;
  rows: Array<{ id: number; v: number }>;
}

/** Writes continuously: inserts of new keys and increments of existing ones (v grows by 1 per change). */
class Writer {
  readonly txns: Txn[] = [];
  readonly value = new Map<number, number>();
  private running = true;
  private loop: Promise<void> = Promise.resolve();
  private nextId = INITIAL_ROWS + 1;

  constructor(readonly conn: mysql.Connection) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const rows: Array<{ id: number; v: number }> = [];
      await this.conn.query('BEGIN');
      const n = 1 + Math.floor(Math.random() * 3);
      for (let i = 0; i < n; i++) {
        if (Math.random() < 0.3 || this.value.size < 20) {
          const id = this.nextId++;
          await this.conn.query('INSERT INTO t VALUES (?, 0)', [id]);
          rows.push({ id, v: 0 });
        } else {
          const keys = [...this.value.keys()];
          const id = keys[Math.floor(Math.random() * keys.length)]!;
          const v = this.value.get(id)! + 1;
          await this.conn.query('UPDATE t SET v = ? WHERE id = ?', [v, id]);
          rows.push({ id, v });
        }
        this.value.set(rows.at(-1)!.id, rows.at(-1)!.v);
      }
      await this.conn.query('COMMIT');
      const [g] = (await this.conn.query('SELECT @@last_gtid AS g')) as unknown as [Array<{ g: string }>];
      this.txns.push({ seq: Number(g[0]!.g.split('-')[2]), rows });
      await new Promise((r) => setTimeout(r, 3));
    }
  }
}

type Progress = { pending?: Array<{ table: string; lastKey: unknown[] | null; until?: unknown[]; keys?: unknown }> };
interface Range {
  /** The last key read, or where the range starts (a range split off starts at the key before it). */
  lastKey: number | null;
  until: number;
}

/** The pending key ranges of a table in a stored snapshot progress, in key order. */
function rangesOf(progress: Progress | undefined, table: string): Range[] {
  return (progress?.pending ?? [])
    .filter((p) => p.table === table && !p.keys)
    .map((p) => ({
      lastKey: p.lastKey ? (p.lastKey[0] as number) : null,
      until: p.until ? (p.until[0] as number) : Number.POSITIVE_INFINITY,
    }))
    .sort((x, y) => x.until - y.until);
}

/** Whether `id` may still be unread: in a pending range, after its last key read. */
function unread(ranges: Range[], id: number): boolean {
  let start = Number.NEGATIVE_INFINITY; // a range starts at or after the end of the one before
  for (const r of ranges) {
    if (id > (r.lastKey ?? start) && id <= r.until) return true;
    start = r.until;
  }
  return false;
}

/** Keys the pending ranges read past their starts (0 while none placed a chunk). */
function readRows(ranges: Range[]): number {
  let start = 0;
  let n = 0;
  for (const r of ranges) {
    if (r.lastKey !== null) n += Math.max(0, r.lastKey - start);
    start = r.until;
  }
  return n;
}

function image(r: ConsumedRecord): { id: number; v: number } {
  return (r.value!.after ?? r.value!.before) as { id: number; v: number };
}

describe('MySQL source killed with SIGKILL while writes continue', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  it('restarts from the stored position: every change in Kafka, in order per key, offsets never ahead', async () => {
    expect(existsSync(MAIN), `${MAIN} is missing: run \`npm run build\` first (npm test does)`).toBe(true);
    const stale = staleSources('src/runtime/source/main.ts');
    expect(stale, `dist/ is older than ${stale.join(', ')}: run \`npm run build\``).toEqual([]);
    const kafka: Kafka = sandboxKafka();
    const db = uniqueName('ferry_kill');
    const pipeline = uniqueName('p');
    const topic = `${pipeline}.${db}.t`;
    const { conn, sql } = await freshDatabase(db);
    cleanups.push(() => conn.end());
    await sql('CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL)');
    for (let i = 0; i < INITIAL_ROWS; i += 1000) {
      const values = Array.from({ length: 1000 }, (_, k) => `(${i + k + 1}, 0)`).join(',');
      await sql(`INSERT INTO t VALUES ${values}`);
    }
    const dir = mkdtempSync(join(tmpdir(), 'ferry-kill-'));
    const optsFile = join(dir, 'opts.json');
    writeFileSync(
      optsFile,
      JSON.stringify({
        pipeline,
        brokers: getSandbox().kafka.brokers,
        mysql: mysqlConfig(),
        tables: [`${db}.*`],
        partitions: 3,
        chunkSize: 200,
        queueSize: 500,
        logLevel: 'warn',
        printStored: true,
      }),
    );
    const source = new SourceProcess(optsFile);
    cleanups.push(async () => void (await source.kill()));

    // Kill 1: in the middle of the initial snapshot, right after a chunk's progress was stored
    // (a key range that read past its start).
    source.killWhen = (stored) =>
      stored['phase'] === 'snapshot' && readRows(rangesOf(stored['snapshot'] as Progress, `${db}.t`)) > 0;
    source.start();
    await source.exit();
    const midSnapshot = await storedOffset(kafka, pipeline);
    expect(midSnapshot?.phase).toBe('snapshot');
    // The table is read in key ranges at once (snapshotParallelism 2): every key outside the
    // unread part of a pending range is acknowledged before the offset.
    const ranges = rangesOf(midSnapshot!.snapshot as Progress, `${db}.t`);
    const snapshotKeys = new Set(events(await readEnvelopes(kafka, topic)).map((r) => image(r).id));
    let covered = 0;
    for (let id = 1; id <= INITIAL_ROWS; id++) {
      if (unread(ranges, id)) continue;
      covered++;
      expect(snapshotKeys.has(id), `row ${id} acknowledged before the offset ${JSON.stringify(ranges)}`).toBe(true);
    }
    expect(covered, `the stored progress covers some rows: ${JSON.stringify(ranges)}`).toBeGreaterThan(0);

    // The snapshot resumes; then writes run while the source is killed twice more.
    source.start();
    await until(() => source.stored.some((s) => s['phase'] === 'stream'), 60_000, 'the snapshot to finish');
    const writer = new Writer(await mysqlRoot(db));
    for (let id = 1; id <= INITIAL_ROWS; id++) writer.value.set(id, 0);
    writer.start();
    // Each kill comes after the writer has committed at least 40 more transactions since the
    // source (re)started, so every kill lands with writes before and during it, however slow the
    // machine; after the last restart the writer goes on until it has made more than 100 in all and
    // 20 since that restart.
    const txnsSince = async (from: number, count: number, what: string): Promise<void> =>
      until(() => writer.txns.length >= from + count, 120_000, what);
    for (let kill = 2; kill <= 3; kill++) {
      await txnsSince(writer.txns.length, 40, `40 transactions before kill ${kill}`);
      await source.kill();
      const stored = await storedOffset(kafka, pipeline);
      const seq = Number(String(stored!.position['gtid']).split('-')[2]);
      const inKafka = new Set(events(await readEnvelopes(kafka, topic)).map((r) => `${image(r).id}:${image(r).v}`));
      const covered = writer.txns.filter((t) => t.seq <= seq);
      expect(covered.length).toBeGreaterThan(0);
      for (const t of covered) {
        for (const r of t.rows) expect(inKafka.has(`${r.id}:${r.v}`), `txn ${t.seq} row ${r.id}:${r.v}`).toBe(true);
      }
      source.start();
    }
    await txnsSince(writer.txns.length, 20, '20 transactions after the last restart');
    await until(() => writer.txns.length > 100, 120_000, 'more than 100 transactions in all');
    await writer.stop();
    await writer.conn.end();

    // Everything arrives; per key, new values appear in source order; the last image is the final row.
    let recs: ConsumedRecord[] = [];
    await until(
      async () => {
        recs = await readEnvelopes(kafka, topic);
        const last = new Map(events(recs).map((r) => [image(r).id, image(r).v]));
        return [...writer.value].every(([id, v]) => last.get(id) === v);
      },
      60_000,
      'every change to reach Kafka',
    );
    expect(await source.kill('SIGTERM')).toBe(0);
    const perKey = new Map<number, number[]>();
    for (const r of events(recs)) {
      if (r.value.op === 'r') continue;
      const { id, v } = image(r);
      perKey.set(id, [...(perKey.get(id) ?? []), v]);
    }
    const changed = new Map<number, Set<number>>();
    for (const t of writer.txns) for (const r of t.rows) changed.set(r.id, (changed.get(r.id) ?? new Set()).add(r.v));
    for (const [id, values] of changed) {
      const seen = perKey.get(id) ?? [];
      const firsts = seen.filter((v, i) => seen.indexOf(v) === i);
      expect(firsts, `key ${id}: first occurrences in source order`).toEqual([...firsts].sort((a, b) => a - b));
      for (const v of values) expect(seen.includes(v), `key ${id} value ${v} in Kafka`).toBe(true);
      expect(seen.at(-1), `key ${id} ends with its final value`).toBe(writer.value.get(id));
    }
    const snapshotted = new Set(
      events(recs)
        .filter((r) => r.value.op === 'r')
        .map((r) => image(r).id),
    );
    expect(snapshotted.size).toBe(INITIAL_ROWS);
    expect(writer.txns.length).toBeGreaterThan(100);
  });
});
