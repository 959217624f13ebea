/**
 * `ferry verify` for a Redis target (docs/redis-sink.md#verify): every source row, read in key
 * order in chunks with its canonical values (the same source side as the SQL verify), is looked
 * up under the key the Redis sink gives it and compared column by column with the stored hash
 * or JSON row. Keys in the table's key index that no source row produced are extra. Rows found
 * missing or different are re-checked after a pause (rows in flight). Reports name the keys.
 */
import type { RedisSinkOptions } from '../../connectors/redis-sink/index.js';
import { planTable, type RedisClient, redisClient, rowKey, type TablePlan } from '../../connectors/redis-sink/index.js';
import type { Logger } from '../api/connector.js';
import { FerryError } from '../api/errors.js';
import type { JsonObject, JsonValue } from '../api/json.js';
import type { TableId, TableSchema } from '../api/schema.js';
import { sqlAccess } from './access.js';
import { clientCanonicaliser } from './canonical-client.js';
import { readTableShape } from './catalog.js';
import { connectVerifyDb, type VerifyDb } from './db.js';
import { dialectOf } from './dialect.js';
import type { Key } from './queries.js';
import { hashDifferences, jsonDifferences } from './redis-compare.js';
import { buildTablePlan } from './table-plan.js';
import type { TablePair, TableReport, VerifyEndpoint, VerifyReport, VerifySettings } from './types.js';
import { filterPairs, peakRssBytes, resolveSettings } from './verify.js';

export interface RedisVerifyOptions {
  source: VerifyEndpoint;
  redis: RedisSinkOptions;
  pipeline: string;
  tables: TablePair[];
  tableFilter?: string[];
  chunkSize?: number;
  maxReportedKeys?: number;
  recheck?: { attempts?: number; delayMs?: number };
  waitFor?: () => Promise<void>;
  logger?: Logger;
  /**
   * The schema the source published for a table (its column kinds are what the sink encoded
   * with); without one, kinds come from the source catalog and a note says so.
   */
  publishedSchema?: (table: TableId) => Promise<TableSchema | undefined>;
}

/**
 * Source values canonical under the published kinds: the sink stored the encoding of those
 * (a MariaDB TINYINT(1) published as boolean is `true`, not `1`), JSON as its text, arrays as
 * arrays.
 */
function usePublishedKinds(sqlPlan: ReturnType<typeof buildTablePlan>, schema: TableSchema): void {
  for (const c of sqlPlan.columns) {
    const published = schema.columns.find((p) => p.name === c.name);
    if (!published) continue;
    const native = c.native.source;
    const canon = clientCanonicaliser(
      published.kind,
      { ...native, ...(published.elementKind ? { elementKind: published.elementKind } : {}) },
      { trimDecimal: false, jsonSemantic: published.kind === 'json' },
    );
    c.canon.source =
      published.kind === 'array'
        ? (raw) => {
            const v = canon(raw);
            return typeof v === 'string' ? (JSON.parse(v) as JsonValue) : v;
          }
        : canon;
  }
}

type Verdict = { kind: 'missing' } | { kind: 'different'; columns: string[] } | { kind: 'equal' };

interface TableRun {
  names: string[];
  /** Columns of kind json: compared by meaning. */
  json: Set<string>;
  keyNames: string[];
  plan: TablePlan;
  client: RedisClient;
}

function keyRow(run: TableRun, key: Key): JsonObject {
  return Object.fromEntries(run.keyNames.map((n, i) => [n, key[i] ?? null]));
}

/** Compares rows (canonical values in `names` order) with Redis; one pipelined round trip. */
async function compareRows(run: TableRun, rows: Array<{ key: Key; values: JsonValue[] }>): Promise<Verdict[]> {
  const keys = rows.map((r) => rowKey(run.plan, keyRow(run, r.key)) ?? '');
  if (run.plan.format === 'hash') {
    const stored = await Promise.all(keys.map((k) => run.client.hGetAll(k)));
    return rows.map((r, i) => {
      const s = stored[i] as Record<string, string>;
      if (Object.keys(s).length === 0) return { kind: 'missing' };
      const columns = hashDifferences(run.names, r.values, s, run.json);
      return columns.length === 0 ? { kind: 'equal' } : { kind: 'different', columns };
    });
  }
  const stored = keys.length > 0 ? ((await run.client.sendCommand(['MGET', ...keys])) as Array<string | null>) : [];
  return rows.map((r, i) => {
    const s = stored[i];
    if (s === null || s === undefined) return { kind: 'missing' };
    const columns = jsonDifferences(run.names, r.values, s, run.json);
    return columns.length === 0 ? { kind: 'equal' } : { kind: 'different', columns };
  });
}

function emptyReport(pair: TablePair, index: string): TableReport {
  return {
    source: `${pair.source.db}.${pair.source.table}`,
    target: `redis ${index}`,
    equal: false,
    sourceRows: 0,
    targetRows: 0,
    chunks: 0,
    mismatchedChunks: 0,
    missing: [],
    extra: [],
    different: [],
    missingCount: 0,
    extraCount: 0,
    differentCount: 0,
    rowsPerSecond: 0,
    seconds: 0,
    method: 'client',
    clientColumns: [],
    notes: [],
  };
}

async function verifyRedisTable(
  db: VerifyDb,
  client: RedisClient,
  pair: TablePair,
  o: RedisVerifyOptions,
  settings: VerifySettings,
): Promise<TableReport> {
  const started = performance.now();
  const shape = await readTableShape(db, pair.source);
  const keyNames = pair.keyColumns && pair.keyColumns.length > 0 ? pair.keyColumns : (shape?.primaryKey ?? []);
  let plan: TablePlan;
  try {
    plan = planTable(o.redis, o.pipeline, pair.source, keyNames.length > 0 ? keyNames : ['?']);
  } catch (err) {
    const report = emptyReport(pair, '?');
    report.error = (err as Error).message;
    return report;
  }
  const report = emptyReport(pair, plan.index);
  if (!shape) {
    report.error = `the source table ${report.source} does not exist`;
    return report;
  }
  const info = { dialect: dialectOf(db.kind), flavor: db.flavor };
  let sqlPlan: ReturnType<typeof buildTablePlan>;
  try {
    sqlPlan = buildTablePlan(pair, { source: shape, target: shape }, { source: info, target: info });
  } catch (err) {
    if (!(err instanceof FerryError)) throw err;
    report.error = err.message;
    return report;
  }
  const published = await o.publishedSchema?.(pair.source);
  if (published) usePublishedKinds(sqlPlan, published);
  else report.notes.push('no published schema found: values canonical by the source catalog types');
  const access = sqlAccess(db, sqlPlan, 'source');
  const json = new Set(
    sqlPlan.columns
      .filter((c) => (published?.columns.find((p) => p.name === c.name)?.kind ?? c.pair.kind) === 'json')
      .map((c) => c.name),
  );
  if (json.size > 0)
    report.notes.push(`JSON column(s) ${[...json].join(', ')} compared by meaning (parsed, keys sorted)`);
  const run: TableRun = { names: sqlPlan.columns.map((c) => c.name), json, keyNames, plan, client };
  report.clientColumns = [...run.names];
  if (plan.ttlSeconds !== null)
    report.notes.push(`rows expire after ${plan.ttlSeconds} s (TTL): expired rows show as missing`);
  const suspects = new Map<string, { key: Key; verdict: Verdict }>();
  const seen = new Set<string>();
  let last: Key | null = null;
  for (;;) {
    const keys = await access.keys({ lo: last, hi: null }, settings.chunkSize);
    if (keys.length === 0) break;
    last = keys[keys.length - 1]!;
    const rows = await access.rowsByKeys(keys);
    const verdicts = await compareRows(run, rows);
    report.chunks += 1;
    report.sourceRows += rows.length;
    let mismatched = false;
    rows.forEach((r, i) => {
      seen.add(rowKey(plan, keyRow(run, r.key)) ?? '');
      const v = verdicts[i]!;
      if (v.kind !== 'equal') {
        mismatched = true;
        suspects.set(JSON.stringify(r.key), { key: r.key, verdict: v });
      }
    });
    if (mismatched) report.mismatchedChunks += 1;
  }
  // Re-check suspects: rows still in flight arrive meanwhile.
  const attempts = settings.recheck.attempts;
  for (let round = 0; round < attempts && suspects.size > 0; round++) {
    await (o.waitFor ?? (() => new Promise((r) => setTimeout(r, settings.recheck.delayMs))))();
    const keys = [...suspects.values()].map((s) => s.key);
    const rows = await access.rowsByKeys(keys);
    const present = new Set(rows.map((r) => JSON.stringify(r.key)));
    for (const k of keys) if (!present.has(JSON.stringify(k))) suspects.delete(JSON.stringify(k));
    const verdicts = await compareRows(run, rows);
    rows.forEach((r, i) => {
      const v = verdicts[i]!;
      if (v.kind === 'equal') suspects.delete(JSON.stringify(r.key));
      else suspects.set(JSON.stringify(r.key), { key: r.key, verdict: v });
    });
    report.notes.push(`differences re-checked ${round + 1} time(s) to let rows in flight arrive`);
  }
  for (const { key, verdict } of suspects.values()) {
    const k = keyRow(run, key);
    if (verdict.kind === 'missing') {
      report.missingCount += 1;
      if (report.missing.length < settings.maxReportedKeys) report.missing.push(k);
    } else if (verdict.kind === 'different') {
      report.differentCount += 1;
      if (report.different.length < settings.maxReportedKeys)
        report.different.push({ key: k, columns: verdict.columns });
    }
  }
  // Extra: keys of the table's index that no source row maps to (and that still exist).
  report.targetRows = await client.sCard(plan.index);
  for await (const members of client.sScanIterator(plan.index, { COUNT: 1000 })) {
    const unknown = (members as string[]).filter((m) => !seen.has(m));
    if (unknown.length === 0) continue;
    const exists = await Promise.all(unknown.map((m) => client.exists(m)));
    unknown.forEach((m, i) => {
      if (exists[i] === 0) return;
      report.extraCount += 1;
      if (report.extra.length < settings.maxReportedKeys) report.extra.push({ redisKey: m });
    });
  }
  report.extra.sort((a, b) => String(a['redisKey']).localeCompare(String(b['redisKey'])));
  report.equal = report.missingCount + report.extraCount + report.differentCount === 0;
  report.seconds = (performance.now() - started) / 1000;
  report.rowsPerSecond = report.seconds > 0 ? Math.round(report.sourceRows / report.seconds) : 0;
  return report;
}

/** Verifies the captured tables of a pipeline against the rows its Redis sink stored. */
export async function verifyRedis(o: RedisVerifyOptions): Promise<VerifyReport> {
  const started = performance.now();
  const settings = resolveSettings({
    ...(o.chunkSize === undefined ? {} : { chunkSize: o.chunkSize }),
    ...(o.maxReportedKeys === undefined ? {} : { maxReportedKeys: o.maxReportedKeys }),
    ...(o.recheck ? { recheck: o.recheck } : {}),
  });
  const pairs = filterPairs(o.tables, o.tableFilter);
  const db = await connectVerifyDb(o.source, 1);
  let connected = false;
  const client = await redisClient(o.redis, () => connected);
  client.on('error', () => undefined);
  const tables: TableReport[] = [];
  try {
    try {
      await client.connect();
      connected = true;
    } catch (err) {
      throw new FerryError('FERRY_CONNECTION', `cannot connect to the target Redis: ${(err as Error).message}`, {
        cause: err,
      });
    }
    for (const pair of pairs) {
      o.logger?.info('verifying table', { table: `${pair.source.db}.${pair.source.table}`, target: 'redis' });
      tables.push(await verifyRedisTable(db, client, pair, o, settings));
    }
  } finally {
    await db.close().catch(() => undefined);
    client.destroy();
  }
  return {
    equal: tables.every((t) => t.equal),
    tables,
    peakRssBytes: peakRssBytes(),
    seconds: (performance.now() - started) / 1000,
  };
}
