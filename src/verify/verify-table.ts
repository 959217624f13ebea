/**
 * Verifying one table pair against live databases: read both catalogs, plan the comparison,
 * count rows, compare (compare-table.ts) and turn the outcome into a TableReport. Problems that
 * concern only this table (it is missing, has no key…) end up in the report's `error`; anything
 * else (connection lost) is thrown.
 */
import type { Logger } from '../api/connector.js';
import { FerryError } from '../api/errors.js';
import type { JsonObject } from '../api/json.js';
import { sqlAccess } from './access.js';
import { readTableShape } from './catalog.js';
import { compareTable } from './compare-table.js';
import type { VerifyDb } from './db.js';
import { dialectOf } from './dialect.js';
import { compareKeys } from './findings.js';
import type { Key, KeyRange } from './queries.js';
import { type BySide, buildTablePlan, SIDES, type TablePlan } from './table-plan.js';
import type { TablePair, TableReport, VerifyMethod, VerifySettings } from './types.js';

export interface TableRunOptions {
  settings: VerifySettings;
  wait: () => Promise<void>;
  logger?: Logger | undefined;
  signal?: AbortSignal | undefined;
}

const nameOf = (t: { db: string; table: string }) => `${t.db}.${t.table}`;

/** A table's report before anything was compared (`method`: how its rows will be compared). */
export function emptyReport(pair: TablePair, method: VerifyMethod = 'checksum'): TableReport {
  return {
    source: nameOf(pair.source),
    target: nameOf(pair.target),
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
    method,
    clientColumns: [],
    notes: [],
  };
}

function keyObject(names: string[], key: Key): JsonObject {
  return Object.fromEntries(names.map((n, i) => [n, key[i] ?? null]));
}

function rangeText(names: string[]): (range: KeyRange) => string {
  const bound = (k: Key) => JSON.stringify(keyObject(names, k));
  return (r) =>
    r.lo === null && r.hi === null
      ? 'all keys'
      : `${r.lo ? `${bound(r.lo)} < ` : ''}key${r.hi ? ` <= ${bound(r.hi)}` : ''}`;
}

async function countRows(db: VerifyDb, table: string): Promise<number> {
  return Number((await db.query(`SELECT COUNT(*) FROM ${table}`))[0]?.[0] ?? 0);
}

async function planFor(dbs: BySide<VerifyDb>, pair: TablePair): Promise<TablePlan> {
  const [source, target] = await Promise.all([
    readTableShape(dbs.source, pair.source),
    readTableShape(dbs.target, pair.target),
  ]);
  if (!source) throw new FerryError('FERRY_PREFLIGHT', `the source table ${nameOf(pair.source)} does not exist`);
  if (!target) {
    throw new FerryError(
      'FERRY_PREFLIGHT',
      `the target table ${nameOf(pair.target)} does not exist (has the sink created it yet?)`,
    );
  }
  const info = (side: 'source' | 'target') => ({ dialect: dialectOf(dbs[side].kind), flavor: dbs[side].flavor });
  return buildTablePlan(pair, { source, target }, { source: info('source'), target: info('target') });
}

export async function verifyTable(dbs: BySide<VerifyDb>, pair: TablePair, opts: TableRunOptions): Promise<TableReport> {
  const started = performance.now();
  const report = emptyReport(pair);
  const finish = (): TableReport => {
    report.seconds = (performance.now() - started) / 1000;
    report.rowsPerSecond = report.seconds > 0 ? Math.round(report.sourceRows / report.seconds) : 0;
    return report;
  };
  let plan: TablePlan;
  try {
    plan = await planFor(dbs, pair);
  } catch (err) {
    if (!(err instanceof FerryError) || err.code !== 'FERRY_PREFLIGHT') throw err;
    report.error = err.message;
    const [s, t] = await Promise.all(
      SIDES.map(async (side) => {
        const shape = await readTableShape(dbs[side], pair[side]);
        return shape ? countRows(dbs[side], dialectOf(dbs[side].kind).table(pair[side])) : 0;
      }),
    );
    report.sourceRows = s ?? 0;
    report.targetRows = t ?? 0;
    return finish();
  }
  report.method = plan.method;
  report.clientColumns = plan.clientIndexes.map((i) => plan.columns[i]!.name);
  report.notes.push(...plan.notes);
  [report.sourceRows, report.targetRows] = await Promise.all([
    countRows(dbs.source, plan.table.source),
    countRows(dbs.target, plan.table.target),
  ]);
  const keyNames = plan.keyIndexes.map((i) => plan.columns[i]!.name);
  const logger = opts.logger?.child({ table: report.source });
  logger?.info('verifying table', { target: report.target, rows: report.sourceRows, method: plan.method });
  let outcome: Awaited<ReturnType<typeof compareTable>>;
  try {
    outcome = await compareTable({
      access: { source: sqlAccess(dbs.source, plan, 'source'), target: sqlAccess(dbs.target, plan, 'target') },
      columnNames: plan.columns.map((c) => c.name),
      method: plan.method,
      settings: opts.settings,
      wait: opts.wait,
      describeRange: rangeText(keyNames),
      logger,
      signal: opts.signal,
      onChunk: (done) => {
        if (done % 100 === 0) logger?.debug('verify progress', { chunks: done });
      },
    });
  } catch (err) {
    // A key value one side cannot take as a parameter: this table cannot be verified.
    if (!(err instanceof FerryError) || (err.code !== 'FERRY_DECODE' && err.code !== 'FERRY_APPLY')) throw err;
    report.error = `cannot compare by key ranges: ${err.message}`;
    return finish();
  }
  const f = outcome.findings;
  report.chunks = outcome.chunks;
  report.mismatchedChunks = outcome.mismatchedChunks;
  report.missing = [...f.missing.values()].sort(compareKeys).map((k) => keyObject(keyNames, k));
  report.extra = [...f.extra.values()].sort(compareKeys).map((k) => keyObject(keyNames, k));
  report.different = [...f.different.values()]
    .sort((a, b) => compareKeys(a.key, b.key))
    .map((d) => ({ key: keyObject(keyNames, d.key), columns: d.columns }));
  report.missingCount = f.counts.missing;
  report.extraCount = f.counts.extra;
  report.differentCount = f.counts.different;
  if (f.hashOnly > 0) {
    report.notes.push(
      `${f.hashOnly} row(s) hashed differently in the two databases but have equal canonical values (shared encoders); not differences`,
    );
  }
  for (const u of f.unresolved) report.notes.push(`range not narrowed down (rows changing too fast?): ${u}`);
  if (outcome.recheckRounds > 0) {
    report.notes.push(`differences re-checked ${outcome.recheckRounds} time(s) to let rows in flight arrive`);
  }
  const listed = report.missing.length + report.extra.length + report.different.length;
  if (f.total() > listed) {
    report.notes.push(`only the first ${opts.settings.maxReportedKeys} keys of each kind are listed and re-checked`);
  }
  report.equal = f.total() === 0 && f.unresolved.length === 0;
  return finish();
}
