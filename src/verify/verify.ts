/**
 * `verify(options)`: proves (or disproves) that the target tables equal the source tables.
 * For each table pair: row counts, then checksums of primary-key ranges computed inside each
 * database over canonicalised row text (docs/values.md), drill-down into mismatched ranges
 * down to the keys that are missing, extra or different, and re-checks of those keys so rows
 * still in flight are not reported. Memory stays bounded by the chunk size, whatever the table
 * size. See docs/verify.md.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { FerryError } from '../api/errors.js';
import { matchesAny } from '../api/filter.js';
import { connectVerifyDb, type VerifyDb } from './db.js';
import type { BySide } from './table-plan.js';
import {
  DEFAULT_SETTINGS,
  type TablePair,
  type TableReport,
  type VerifyOptions,
  type VerifyReport,
  type VerifySettings,
} from './types.js';
import { verifyTable } from './verify-table.js';

function positive(name: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) {
    throw new FerryError('FERRY_USAGE', `verify: ${name} must be an integer of at least ${min}, got ${value}`);
  }
  return value;
}

/** The options' settings with defaults filled in; invalid values throw FERRY_USAGE. */
export function resolveSettings(options: Partial<VerifyOptions>): VerifySettings {
  const d = DEFAULT_SETTINGS;
  return {
    chunkSize: positive('chunkSize', options.chunkSize, d.chunkSize),
    maxDrillDepth: positive('maxDrillDepth', options.maxDrillDepth, d.maxDrillDepth, 0),
    leafRows: positive('leafRows', options.leafRows, d.leafRows),
    splitFactor: positive('splitFactor', options.splitFactor, d.splitFactor, 2),
    maxReportedKeys: positive('maxReportedKeys', options.maxReportedKeys, d.maxReportedKeys, 0),
    concurrency: positive('concurrency', options.concurrency, d.concurrency),
    recheck: {
      attempts: positive('recheck.attempts', options.recheck?.attempts, d.recheck.attempts, 0),
      delayMs: positive('recheck.delayMs', options.recheck?.delayMs, d.recheck.delayMs, 0),
    },
  };
}

/** The pairs whose source or target `db.table` matches one of the patterns (all pairs without). */
export function filterPairs(pairs: TablePair[], patterns: string[] | undefined): TablePair[] {
  if (!patterns || patterns.length === 0) return pairs;
  const chosen = pairs.filter(
    (p) => matchesAny(patterns, [p.source.db, p.source.table]) || matchesAny(patterns, [p.target.db, p.target.table]),
  );
  if (chosen.length === 0) {
    throw new FerryError(
      'FERRY_USAGE',
      `--tables ${patterns.join(',')} matches none of the ${pairs.length} captured table(s)` +
        (pairs.length > 0 ? ` (e.g. ${pairs[0]!.source.db}.${pairs[0]!.source.table})` : ''),
    );
  }
  return chosen;
}

/** Peak resident set size of this process so far, in bytes. */
export function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

export async function verify(options: VerifyOptions): Promise<VerifyReport> {
  const started = performance.now();
  const settings = resolveSettings(options);
  const pairs = filterPairs(options.tables, options.tableFilter);
  const poolSize = settings.concurrency + 1;
  const wait =
    options.waitFor ??
    (() => sleep(settings.recheck.delayMs, undefined, options.signal ? { signal: options.signal } : undefined));
  const opened: VerifyDb[] = [];
  const tables: TableReport[] = [];
  try {
    const connected = await Promise.allSettled([
      connectVerifyDb(options.source, poolSize),
      connectVerifyDb(options.target, poolSize),
    ]);
    for (const c of connected) if (c.status === 'fulfilled') opened.push(c.value);
    const [source, target] = connected.map((c) => {
      if (c.status === 'rejected') throw c.reason;
      return c.value;
    });
    const dbs: BySide<VerifyDb> = { source: source!, target: target! };
    for (const pair of pairs) {
      options.signal?.throwIfAborted();
      tables.push(await verifyTable(dbs, pair, { settings, wait, logger: options.logger, signal: options.signal }));
    }
  } finally {
    await Promise.all(opened.map((db) => db.close().catch(() => undefined)));
  }
  return {
    equal: tables.every((t) => t.equal),
    tables,
    peakRssBytes: peakRssBytes(),
    seconds: (performance.now() - started) / 1000,
  };
}
