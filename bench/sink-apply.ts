/**
 * Sink apply benchmark (not run by CI): the SQL sinks' apply paths side by side, in one run, on
 * the local sandbox, without Kafka or a source (docs/performance.md#sink-apply):
 *   - PostgreSQL: multi-row unnest statements (`copyThreshold: 0`) against COPY into a staging
 *     table and one upsert from it (the default threshold);
 *   - MariaDB: every statement with its exact row count (`statementBuckets: false`) against row
 *     counts rounded to a few bucket sizes (the default).
 * Each variant applies the same batches to its own table: a load of N new rows in batches of
 * random sizes between B/2 and B, then an update of every row in batches of random sizes
 * between 1 and B, then small batches of 1 to 200 rows over the first 20,000 rows (the sizes a
 * sink sees when its batches close on the linger time while streaming). Variants alternate, R
 * rounds each; the tables of one engine are compared at the end (they must be equal). Prints
 * per variant and phase the rows/s and this process's CPU microseconds per row (median over the
 * rounds; the CPU figure is the steadier one on a loaded machine) and one line `BENCH_JSON {...}`.
 *
 * Run: npm run bench:sink -- [rows=200000] [batch=5000] [rounds=2] [pg|mysql|all]
 * It starts (or reuses) the sandbox in .ferry/bench-sandbox, or FERRY_BENCH_SANDBOX_DIR.
 */
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { MySqlSink } from '../connectors/mysql-sink/index.js';
import { PostgresSink } from '../connectors/postgres-sink/index.js';
import type { Row, SinkConnector, TableSchema } from '../src/api/index.js';
import { createLogger } from '../src/log/index.js';
import { projectRoot, type SandboxInfo, sandboxUp } from '../src/sandbox/index.js';

const ROWS = Number(process.argv[2] ?? 200_000);
const BATCH = Number(process.argv[3] ?? 5000);
const ROUNDS = Number(process.argv[4] ?? 2);
const ENGINES = (process.argv[5] ?? 'all') === 'all' ? ['pg', 'mysql'] : [process.argv[5]!];
const DB = 'ferry_bench_sink';

const log = (line: string) => process.stderr.write(`${line}\n`);
const nf = new Intl.NumberFormat('en-US');

/** A small deterministic generator, so that every variant gets the same batch sizes. */
function sizes(seed: number, total: number, min: number, max: number): number[] {
  let s = seed;
  const out: number[] = [];
  let left = total;
  while (left > 0) {
    s = (s * 1_103_515_245 + 12_345) % 2_147_483_648;
    const n = Math.min(left, min + (s % (max - min + 1)));
    out.push(n);
    left -= n;
  }
  return out;
}

function schemaOf(table: string): TableSchema {
  const c = (name: string, sourceType: string, kind: TableSchema['columns'][number]['kind'], extra = {}) => ({
    name,
    sourceType,
    kind,
    nullable: name !== 'id',
    ...extra,
  });
  return {
    db: DB,
    table,
    version: `v-${table}`,
    sourceKind: 'mysql',
    primaryKey: ['id'],
    columns: [
      c('id', 'bigint', 'int64'),
      c('account', 'int', 'int32'),
      c('qty', 'smallint', 'int16'),
      c('v', 'int', 'int32'),
      c('price', 'decimal(12,2)', 'decimal', { precision: 12, scale: 2 }),
      c('name', 'varchar(64)', 'string', { length: 64 }),
      c('note', 'varchar(255)', 'string', { length: 255 }),
      c('created', 'datetime(6)', 'timestamp', { fsp: 6 }),
      c('updated', 'datetime(6)', 'timestamp', { fsp: 6 }),
      c('doc', 'json', 'json'),
    ],
  } as TableSchema;
}

function row(id: number, v: number): Row {
  const us = String((id * 1001) % 1_000_000).padStart(6, '0');
  return {
    id,
    account: id % 9973,
    qty: 1 + (id % 50),
    v,
    price: ((id * 1.25) % 100_000).toFixed(2),
    name: `item-${id} ✓`,
    note: id % 10 === 0 ? null : `note ${id}\twith\\escapes`,
    created: `2024-01-01T00:00:00.${us}`,
    updated: v === 0 ? null : `2024-06-01T12:00:00.${us}`,
    doc: `{"n": ${id}, "tags": ["a", "b"], "ok": ${id % 2 === 0}}`,
  };
}

interface Variant {
  engine: 'pg' | 'mysql';
  name: string;
  make(): SinkConnector;
}

async function phase(
  sink: SinkConnector,
  schema: TableSchema,
  batchSizes: number[],
  v: number,
  offset: { n: number },
): Promise<{ rate: number; cpuUsPerRow: number }> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  let id = 1;
  for (const n of batchSizes) {
    const upserts: Row[] = [];
    for (let i = 0; i < n; i++) upserts.push(row(id++, v));
    offset.n += n;
    await sink.apply({
      tables: [{ schema, truncate: false, upserts, deletes: [] }],
      offsets: [{ topic: `bench.${schema.table}`, partition: 0, nextOffset: String(offset.n), truncateBarrier: null }],
    });
  }
  const used = process.cpuUsage(cpu);
  return {
    rate: (id - 1) / ((performance.now() - started) / 1000),
    cpuUsPerRow: (used.user + used.system) / (id - 1),
  };
}

type Phase = 'load' | 'update' | 'small';
const PHASES: Phase[] = ['load', 'update', 'small'];

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function main(): Promise<void> {
  const dir = process.env['FERRY_BENCH_SANDBOX_DIR'] ?? join(projectRoot(), '.ferry', 'bench-sandbox');
  const info: SandboxInfo = await sandboxUp({ dir, only: ['postgres', 'mysql'], log: (l) => log(`[sandbox] ${l}`) });
  const p = info.postgres;
  const m = info.mysql;
  const pgc = new pg.Client({
    host: p.host,
    port: p.port,
    user: p.superUser,
    password: p.superPassword,
    database: p.database,
  });
  await pgc.connect();
  const my = await mysql.createConnection({ host: m.host, port: m.port, user: m.rootUser, password: m.rootPassword });
  await pgc.query(`DROP SCHEMA IF EXISTS ${DB} CASCADE`);
  await pgc.query(`DELETE FROM public.ferry_offsets WHERE pipeline = 'bench-sink'`).catch(() => undefined);
  await my.query(`DROP DATABASE IF EXISTS ${DB}`);
  await my.query(`CREATE DATABASE ${DB} CHARACTER SET utf8mb4`);
  await my.query(`GRANT ALL ON ${DB}.* TO '${m.user}'@'%'`).catch(() => undefined);
  const pgTarget = { host: p.host, port: p.port, user: p.user, password: p.password, database: p.database };
  const myTarget = { host: m.host, port: m.port, user: m.user, password: m.password, database: DB };
  const variants: Variant[] = [
    {
      engine: 'pg',
      name: 'pg unnest (copyThreshold 0)',
      make: () => new PostgresSink({ ...pgTarget, copyThreshold: 0 }),
    },
    { engine: 'pg', name: 'pg COPY (default threshold)', make: () => new PostgresSink(pgTarget) },
    {
      engine: 'mysql',
      name: 'mysql exact row counts',
      make: () => new MySqlSink({ ...myTarget, statementBuckets: false }),
    },
    { engine: 'mysql', name: 'mysql bucketed row counts', make: () => new MySqlSink(myTarget) },
  ].filter((v) => ENGINES.includes(v.engine)) as Variant[];
  const loadSizes = sizes(7, ROWS, Math.ceil(BATCH / 2), BATCH);
  const updateSizes = sizes(11, ROWS, 1, BATCH);
  const smallSizes = sizes(13, Math.min(ROWS, 20_000), 1, 200);
  log(
    `${nf.format(ROWS)} rows; load: ${loadSizes.length} batches; update: ${updateSizes.length} batches; ` +
      `small: ${smallSizes.length} batches`,
  );
  const results = new Map<string, Record<Phase, Array<{ rate: number; cpuUsPerRow: number }>>>();
  const tables = new Map<string, string[]>();
  const logger = createLogger({ level: 'error', format: 'json' });
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [i, variant] of variants.entries()) {
      const table = `items_${i}_${round}`;
      const schema = schemaOf(table);
      const sink = variant.make();
      await sink.start({ pipeline: 'bench-sink', group: `g-${table}`, logger });
      await sink.ensureTable(schema);
      const offset = { n: 0 };
      const got = {
        load: await phase(sink, schema, loadSizes, 0, offset),
        update: await phase(sink, schema, updateSizes, 1, offset),
        small: await phase(sink, schema, smallSizes, 2, offset),
      };
      await sink.close();
      const r = results.get(variant.name) ?? { load: [], update: [], small: [] };
      for (const ph of PHASES) r[ph].push(got[ph]);
      results.set(variant.name, r);
      tables.set(variant.engine, [...(tables.get(variant.engine) ?? []), table]);
      log(
        `round ${round} ${variant.name}: ` +
          PHASES.map(
            (ph) => `${ph} ${nf.format(Math.round(got[ph].rate))} rows/s ${got[ph].cpuUsPerRow.toFixed(1)} us/row`,
          ).join(', '),
      );
    }
  }
  // Every table of an engine holds the same rows.
  let equal = true;
  for (const [engine, names] of tables) {
    const sums = new Set<string>();
    for (const t of names) {
      if (engine === 'pg') {
        const r = await pgc.query(
          `SELECT count(*)::text || ':' || md5(string_agg(x::text, '|' ORDER BY x.id)) AS s FROM ${DB}.${t} AS x`,
        );
        sums.add(r.rows[0].s);
      } else {
        const [r] = await my.query(
          `SELECT CONCAT(COUNT(*), ':', SUM(CRC32(CONCAT_WS('|', id, account, qty, v, price, CAST(name AS BINARY), CAST(IFNULL(note, '~') AS BINARY), created, IFNULL(updated, '~'), CAST(doc AS BINARY))))) AS s FROM ${DB}.${t}`,
        );
        sums.add(String((r as Array<{ s: string }>)[0]!.s));
      }
    }
    if (sums.size !== 1) equal = false;
    log(`${engine}: ${names.length} tables ${sums.size === 1 ? 'equal' : `DIFFER ${[...sums].join(' ')}`}`);
  }
  await pgc.end();
  await my.end();
  const out = [...results].map(([name, r]) => ({
    variant: name,
    ...Object.fromEntries(
      PHASES.map((ph) => [
        ph,
        {
          rowsPerSecond: Math.round(median(r[ph].map((x) => x.rate))),
          cpuUsPerRow: Number(median(r[ph].map((x) => x.cpuUsPerRow)).toFixed(1)),
        },
      ]),
    ),
  })) as Array<{ variant: string } & Record<Phase, { rowsPerSecond: number; cpuUsPerRow: number }>>;
  process.stdout.write(
    `\nsink apply (${nf.format(ROWS)} rows, batches up to ${nf.format(BATCH)}, ${ROUNDS} rounds, median; ` +
      'rows/s and CPU us per row of this process)\n',
  );
  const head = PHASES.map((ph) => `${ph} rows/s`.padStart(16) + 'us/row'.padStart(8)).join('');
  process.stdout.write(`${'variant'.padEnd(30)}${head}\n`);
  for (const o of out) {
    const cells = PHASES.map(
      (ph) => nf.format(o[ph].rowsPerSecond).padStart(16) + o[ph].cpuUsPerRow.toFixed(1).padStart(8),
    ).join('');
    process.stdout.write(`${o.variant.padEnd(30)}${cells}\n`);
  }
  process.stdout.write(`tables equal: ${equal}\n`);
  process.stdout.write(
    `BENCH_JSON ${JSON.stringify({ bench: 'sink-apply', rows: ROWS, batch: BATCH, rounds: ROUNDS, equal, results: out })}\n`,
  );
  if (!equal) process.exitCode = 1;
}

main().catch((err) => {
  log(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
