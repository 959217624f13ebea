/**
 * Drill-down: a range whose checksums differ is split into `splitFactor` parts by the keys of
 * its larger side, each part is checksummed again on both sides, and only mismatched parts are
 * followed, level by level, until a part is small (`leafRows`) or `maxDrillDepth` is reached;
 * then its rows are compared one by one (rows.ts). A range empty on one side needs no drilling:
 * every key of the other side is missing (or extra).
 *
 * Memory stays bounded by the largest range whose rows are fetched: a range larger than the
 * chunk size is always split first (by counts alone once checksum drilling stops).
 */
import type { Logger } from '../api/connector.js';
import { splitRange } from './chunks.js';
import type { Findings } from './findings.js';
import type { KeyRange } from './queries.js';
import { compareRows, type RowContext } from './rows.js';
import type { Side } from './table-plan.js';
import type { VerifySettings } from './types.js';

export interface DrillContext extends RowContext {
  settings: VerifySettings;
  /** `checksum`: parts are checksummed; `client`: parts are counted and compared row by row. */
  method: 'checksum' | 'client';
  describeRange(range: KeyRange): string;
  logger?: Logger | undefined;
  signal?: AbortSignal | undefined;
}

/** Beyond this many levels a range is given up on (only reachable while rows move very fast). */
const HARD_DEPTH = 40;

async function listOneSided(ctx: DrillContext, side: Side, range: KeyRange, rows: number): Promise<number> {
  const findings: Findings = ctx.findings;
  const category = side === 'source' ? 'missing' : 'extra';
  const room = Math.min(rows, findings.room(category));
  const keys = room > 0 ? await ctx.access[side].keys(range, room) : [];
  for (const key of keys) {
    if (side === 'source') findings.addMissing(key);
    else findings.addExtra(key);
  }
  findings.addUnlisted(category, Math.max(0, rows - keys.length));
  return rows;
}

async function sidesOf(ctx: DrillContext, range: KeyRange, checksum: boolean) {
  if (checksum) {
    const [a, b] = await Promise.all([ctx.access.source.checksum(range), ctx.access.target.checksum(range)]);
    return { equal: a.count === b.count && a.sums === b.sums, source: a.count, target: b.count };
  }
  const [a, b] = await Promise.all([ctx.access.source.count(range), ctx.access.target.count(range)]);
  return { equal: false, source: a, target: b };
}

/**
 * Finds the differences inside a range holding `sourceRows` / `targetRows` rows whose
 * checksums differ (or, for the client method, that has not been compared yet). Returns the
 * differences recorded.
 */
export async function compareRange(
  ctx: DrillContext,
  range: KeyRange,
  sourceRows: number,
  targetRows: number,
  depth = 0,
  checksum = ctx.method === 'checksum',
): Promise<number> {
  ctx.signal?.throwIfAborted();
  if (sourceRows === 0 && targetRows === 0) return 0;
  if (sourceRows === 0) return listOneSided(ctx, 'target', range, targetRows);
  if (targetRows === 0) return listOneSided(ctx, 'source', range, sourceRows);
  const { settings } = ctx;
  const larger = Math.max(sourceRows, targetRows);
  const drillOn = checksum && depth < settings.maxDrillDepth && larger > settings.leafRows;
  const tooLarge = larger > Math.max(settings.chunkSize, settings.leafRows);
  if (!drillOn && !tooLarge) return compareRows(ctx, range);
  if (depth >= HARD_DEPTH) {
    ctx.findings.unresolved.push(`${ctx.describeRange(range)}: ${sourceRows} source rows, ${targetRows} target rows`);
    return 1;
  }
  const by: Side = sourceRows >= targetRows ? 'source' : 'target';
  const parts = await splitRange(ctx.access[by], range, larger, settings.splitFactor);
  if (parts.length === 1) return compareRows(ctx, range);
  ctx.logger?.debug('verify: splitting a mismatched range', {
    range: ctx.describeRange(range),
    depth,
    parts: parts.length,
  });
  let found = 0;
  for (const part of parts) {
    const sides = await sidesOf(ctx, part, drillOn);
    if (sides.equal) continue;
    found += await compareRange(ctx, part, sides.source, sides.target, depth + 1, drillOn);
  }
  return found;
}
