/**
 * `ferry verify` on a sharded pipeline (docs/sharding.md#verify): for every captured table, each
 * row on exactly the shards its rule names (no strays, no duplicates across shards) and the union
 * of the shards equal to the source. The report is the usual one; each table also lists its rows
 * per shard and the differences with the shard they concern.
 */
import { FerryError } from '../api/errors.js';
import type { PipelineConfig } from '../config/index.js';
import { ShardRouting } from '../sharding/index.js';
import { sqlAccess } from './access.js';
import { readTableShape } from './catalog.js';
import { connectVerifyDb, type VerifyDb } from './db.js';
import { dialectOf } from './dialect.js';
import { compareShardedTable } from './sharded-table.js';
import { buildTablePlan, type TablePlan } from './table-plan.js';
import { endpointOf, type PipelineVerifyOptions, resolveTablePairs } from './tables.js';
import type { TablePair, TableReport, VerifyReport } from './types.js';
import { filterPairs, peakRssBytes, resolveSettings } from './verify.js';
import { emptyReport } from './verify-table.js';

const nameOf = (t: { db: string; table: string }) => `${t.db}.${t.table}`;

function routingOf(config: PipelineConfig): ShardRouting {
  const { shards, routing } = config.sink;
  if (!shards || !routing) throw new FerryError('FERRY_INTERNAL', 'not a sharded pipeline');
  return new ShardRouting({
    shards: shards.map((s) => s.name),
    rule: routing.rule,
    vnodes: routing.vnodes,
    tables: routing.tables,
  });
}

async function count(db: VerifyDb, table: string): Promise<number> {
  return Number((await db.query(`SELECT COUNT(*) FROM ${table}`))[0]?.[0] ?? 0);
}

async function verifyShardedTable(
  source: VerifyDb,
  shards: VerifyDb[],
  names: readonly string[],
  routing: ShardRouting,
  pair: TablePair,
  run: {
    chunkSize: number;
    maxReported: number;
    recheckAttempts: number;
    wait: () => Promise<void>;
    signal?: AbortSignal | undefined;
  },
): Promise<TableReport> {
  const started = performance.now();
  const report = emptyReport(pair, 'client');
  const sourceShape = await readTableShape(source, pair.source);
  if (!sourceShape) {
    report.error = `the source table ${nameOf(pair.source)} does not exist`;
    return report;
  }
  const plans: TablePlan[] = [];
  for (const [i, db] of shards.entries()) {
    const shape = await readTableShape(db, pair.target);
    if (!shape) {
      report.error = `the table ${nameOf(pair.target)} does not exist on shard ${names[i]} (has the sink created it yet?)`;
      return report;
    }
    const info = (d: VerifyDb) => ({ dialect: dialectOf(d.kind), flavor: d.flavor });
    try {
      plans.push(
        buildTablePlan(pair, { source: sourceShape, target: shape }, { source: info(source), target: info(db) }),
      );
    } catch (err) {
      if (!(err instanceof FerryError) || err.code !== 'FERRY_PREFLIGHT') throw err;
      report.error = `shard ${names[i]}: ${err.message}`;
      return report;
    }
  }
  const plan = plans[0]!;
  report.notes.push(...plan.notes);
  report.sourceRows = await count(source, plan.table.source);
  const perShard = await Promise.all(shards.map((db, i) => count(db, plans[i]!.table.target)));
  report.targetRows = perShard.reduce((a, b) => a + b, 0);
  const router = routing.routerFor(pair.source);
  report.shards = { rule: router.rule, rows: Object.fromEntries(names.map((n, i) => [n, perShard[i]!])), findings: [] };
  const outcome = await compareShardedTable({
    source: sqlAccess(source, plan, 'source'),
    shards: shards.map((db, i) => sqlAccess(db, plans[i]!, 'target')),
    shardNames: names,
    router,
    keyNames: plan.keyIndexes.map((i) => plan.columns[i]!.name),
    columnNames: plan.columns.map((c) => c.name),
    ...run,
  });
  report.chunks = outcome.chunks;
  report.shards.findings = outcome.findings;
  report.shards.strayCount = outcome.counts.stray;
  report.missingCount = outcome.counts.missing;
  report.extraCount = outcome.counts.extra + outcome.counts.stray;
  report.differentCount = outcome.counts.different;
  for (const f of outcome.findings) {
    if (f.kind === 'missing') report.missing.push(f.key);
    else if (f.kind === 'different') report.different.push({ key: f.key, columns: f.columns ?? [] });
    else report.extra.push(f.key);
  }
  if (outcome.recheckRounds > 0) {
    report.notes.push(`differences re-checked ${outcome.recheckRounds} time(s) to let rows in flight arrive`);
  }
  report.equal = report.missingCount + report.extraCount + report.differentCount === 0;
  report.seconds = (performance.now() - started) / 1000;
  report.rowsPerSecond = report.seconds > 0 ? Math.round(report.sourceRows / report.seconds) : 0;
  return report;
}

/** Verifies every captured table of a sharded pipeline (or those matching `tables`). */
export async function verifyShardedPipeline(
  config: PipelineConfig,
  options: PipelineVerifyOptions = {},
): Promise<VerifyReport> {
  const started = performance.now();
  const sink = config.sink;
  if (sink.kind === 'redis' || !sink.shards) throw new FerryError('FERRY_INTERNAL', 'not a sharded SQL pipeline');
  const routing = routingOf(config);
  const { tables: patterns, ...rest } = options;
  const settings = resolveSettings(rest);
  const wait = options.waitFor ?? (() => new Promise<void>((resolve) => setTimeout(resolve, settings.recheck.delayMs)));
  const opened: VerifyDb[] = [];
  const tables: TableReport[] = [];
  try {
    const source = await connectVerifyDb(endpointOf(config.source.kind, config.source.connection), 2);
    opened.push(source);
    const kind = sink.kind;
    for (const s of sink.shards) opened.push(await connectVerifyDb(endpointOf(kind, s.connection), 2));
    const pairs = filterPairs(await resolveTablePairs(config, source), patterns);
    if (pairs.length === 0) {
      throw new FerryError('FERRY_PREFLIGHT', `source.tables (${config.source.tables.join(', ')}) matches no table`);
    }
    for (const pair of pairs) {
      tables.push(
        await verifyShardedTable(source, opened.slice(1), routing.shards, routing, pair, {
          chunkSize: settings.chunkSize,
          maxReported: settings.maxReportedKeys,
          recheckAttempts: settings.recheck.attempts,
          wait,
          signal: options.signal,
        }),
      );
    }
  } finally {
    await Promise.all(opened.map((db) => db.close().catch(() => undefined)));
  }
  return {
    equal: tables.every((t) => t.equal && !t.error),
    tables,
    peakRssBytes: peakRssBytes(),
    seconds: (performance.now() - started) / 1000,
  };
}
