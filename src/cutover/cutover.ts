/**
 * `ferry cutover`: the guided end of a move (docs/cutover.md). This module runs the steps in
 * order; each step is a module of its own:
 *
 *   1. lag             how far the source runtime and the sink are behind (read only)   step-lag.ts
 *   2. read-only       switch writes off at the source, or have the user confirm         step-read-only.ts
 *                      they stopped
 *   3. final position  the source's log position once writes stopped                     step-position.ts
 *   4. wait            until the stored source position reaches it and the sink lag is 0 step-position.ts
 *   5. sequences       move generated keys on the target past the highest id             step-sequences.ts
 *   6. verify          compare every captured table                                      step-verify.ts
 *   7. outcome         what to switch, or why not yet                                    next-steps.ts
 *
 * No state file: every step reads its state from the systems themselves, so a re-run continues
 * where a previous one stopped. Read-only already on → step 2 says so and moves on; the final
 * position is read again (writes are off, so it is the same or only later); the wait returns at
 * once when everything is applied; counters already ahead are left alone; verify runs again.
 */
import { FerryError } from '../api/errors.js';
import type { PipelineConfig } from '../config/index.js';
import { kafkaFor } from '../pipeline/pipeline.js';
import { resolveTablePairs, type TablePair } from '../verify/index.js';
import { type CutoverDb, connectCutoverDb, describeEndpoint } from './db.js';
import { maskedTargetUrl, sourceAdminEndpoint, sourceAdminFor, targetEndpoint } from './endpoints.js';
import { nextSteps } from './next-steps.js';
import { lagStep } from './step-lag.js';
import { finalPositionStep, waitStep } from './step-position.js';
import { readOnlyStep } from './step-read-only.js';
import { sequencesStep } from './step-sequences.js';
import { verifyStep } from './step-verify.js';
import { type CutoverStepRunner, STEP_TITLES, Steps, tableName } from './steps.js';
import type { CutoverOptions, CutoverOutcome } from './types.js';

export { maskedTargetUrl, sharedServerReason, sourceAdminEndpoint, targetEndpoint } from './endpoints.js';

export const DEFAULT_TIMEOUT_MS = 300_000;

/** Steps 1 to 5, in order; step 6 (verify) ends the run. */
const STEPS: readonly CutoverStepRunner[] = [lagStep, readOnlyStep, finalPositionStep, waitStep, sequencesStep];

/**
 * Runs the cutover (or, with `dryRun`, prints what it would do). Resolves with the outcome in
 * every case the user should read about (timeout, verify mismatch, "no" to a question); throws
 * for configuration and usage errors and for failures that leave nothing to report.
 */
export async function runCutover(config: PipelineConfig, opts: CutoverOptions): Promise<CutoverOutcome> {
  const started = Date.now();
  const dryRun = opts.dryRun === true;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const configArg = opts.configFile ?? '<pipeline.yaml>';
  if (!dryRun && !opts.yes && !opts.confirm) {
    throw new FerryError(
      'FERRY_USAGE',
      'cutover makes the source read-only and changes sequences on the target; there is no terminal to ask on, ' +
        'so pass --yes to go ahead (or --dry-run to see the plan first)',
    );
  }
  const adminEndpoint = sourceAdminEndpoint(config, opts.sourceAdminUrl);
  const steps = new Steps(opts.onStep);
  const outcome: CutoverOutcome = {
    pipeline: config.name,
    ok: false,
    dryRun,
    error: null,
    source: { kind: config.source.kind, server: describeEndpoint(adminEndpoint), readOnly: 'not set' },
    finalPosition: null,
    lagEvents: null,
    sequences: [],
    verify: null,
    target: { kind: config.sink.kind, url: maskedTargetUrl(config), tables: [] },
    steps: steps.list,
    next: [],
    seconds: 0,
  };
  const finish = (error: string | null): CutoverOutcome => {
    outcome.error = error;
    outcome.seconds = (Date.now() - started) / 1000;
    outcome.next = nextSteps(outcome, configArg);
    return outcome;
  };
  const skipRest = (from: number) => {
    const titles = STEP_TITLES.slice(from - 1);
    titles.forEach((title, i) => {
      const s = steps.begin(from + i, title);
      s.status = 'skipped';
      steps.end(s);
    });
  };

  const sourceDb = await connectCutoverDb(adminEndpoint);
  const targets: Array<{ name: string; db: CutoverDb }> = [];
  const admin = sourceAdminFor(config, sourceDb);
  try {
    // Sharded: one session per shard (lag and verify read every shard through the sink and verify).
    for (const shard of config.sink.shards ?? [{ name: 'target', connection: config.sink.connection }]) {
      targets.push({ name: shard.name, db: await connectCutoverDb(targetEndpoint(config, shard.connection)) });
    }
    const kafka = kafkaFor(config, opts.logger, 'cutover');
    const pairs: TablePair[] = await resolveTablePairs(config, sourceDb);
    outcome.target.tables = pairs.map((p) => tableName(p.target));
    const run = { config, opts, dryRun, timeoutMs, adminEndpoint, admin, targets, kafka, pairs, outcome, steps };
    for (const [i, step] of STEPS.entries()) {
      const stop = await step(run);
      if (stop !== null) {
        skipRest(i + 2);
        return finish(stop);
      }
    }
    return finish(await verifyStep(run));
  } finally {
    for (const t of targets) await t.db.close();
    await admin.close();
  }
}
