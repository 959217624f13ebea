/**
 * The comparison of one table, given both sides' access: chunks planned from the source keys,
 * each chunk checksummed on both sides at once (or, for the client method, compared row by
 * row), mismatched chunks drilled into, and finally the differences re-checked. Engine-free:
 * it sees only SideAccess, so it is unit-tested with in-memory tables.
 */
import type { Logger } from '../api/connector.js';
import type { SideAccess } from './access.js';
import { planChunks } from './chunks.js';
import { compareRange, type DrillContext } from './drill.js';
import { Findings } from './findings.js';
import type { KeyRange } from './queries.js';
import { recheck } from './rows.js';
import type { BySide } from './table-plan.js';
import type { VerifyMethod, VerifySettings } from './types.js';

export interface CompareInput {
  access: BySide<SideAccess>;
  columnNames: string[];
  method: VerifyMethod;
  settings: VerifySettings;
  /** Called before each re-check round. */
  wait: () => Promise<void>;
  describeRange?: (range: KeyRange) => string;
  logger?: Logger | undefined;
  signal?: AbortSignal | undefined;
  /** Called after each chunk (progress). */
  onChunk?: (done: number) => void;
}

export interface CompareOutcome {
  chunks: number;
  mismatchedChunks: number;
  findings: Findings;
  recheckRounds: number;
}

export async function compareTable(input: CompareInput): Promise<CompareOutcome> {
  const { settings } = input;
  const findings = new Findings(settings.maxReportedKeys);
  const ctx: DrillContext = {
    access: input.access,
    columnNames: input.columnNames,
    findings,
    settings,
    method: input.method,
    describeRange: input.describeRange ?? ((r) => JSON.stringify(r)),
    logger: input.logger,
    signal: input.signal,
  };
  const chunks = planChunks(input.access.source, settings.chunkSize);
  let done = 0;
  let mismatched = 0;
  let failed = false;
  const work = async (): Promise<void> => {
    while (!failed) {
      input.signal?.throwIfAborted();
      const next = await chunks.next();
      if (next.done) return;
      const range = next.value;
      if (input.method === 'checksum') {
        const [a, b] = await Promise.all([input.access.source.checksum(range), input.access.target.checksum(range)]);
        if (a.count !== b.count || a.sums !== b.sums) {
          mismatched++;
          await compareRange(ctx, range, a.count, b.count);
        }
      } else {
        const [a, b] = await Promise.all([input.access.source.count(range), input.access.target.count(range)]);
        if ((await compareRange(ctx, range, a, b)) > 0) mismatched++;
      }
      done++;
      input.onChunk?.(done);
    }
  };
  const worker = async (): Promise<void> => {
    try {
      await work();
    } catch (err) {
      failed = true;
      throw err;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, settings.concurrency) }, worker));
  const recheckRounds = await recheck(ctx, settings.recheck, input.wait);
  return { chunks: done, mismatchedChunks: mismatched, findings, recheckRounds };
}
