/** Cutover step 6: compare every captured table (ferry verify), waiting for the pipeline on re-checks. */
import { verifyPipeline } from '../verify/index.js';
import { type CutoverRun, STEP_TITLES } from './steps.js';
import { waitCaughtUp } from './wait.js';

/** Runs verify; resolves with the outcome's error (null: the target equals the source, or a dry run). */
export async function verifyStep(run: CutoverRun): Promise<string | null> {
  const { config, opts, timeoutMs, admin, kafka, pairs, outcome, steps } = run;
  const s6 = steps.begin(6, STEP_TITLES[5]!);
  if (run.dryRun) {
    s6.status = 'planned';
    s6.lines.push(`would run ferry verify on ${pairs.length} table(s)`);
    steps.end(s6);
    return null;
  }
  const recheckDeadline = () => Date.now() + Math.max(30_000, timeoutMs / 4);
  const report = await verifyPipeline(config, {
    ...opts.verify,
    logger: opts.logger,
    waitFor: async () => {
      await waitCaughtUp(config, admin, kafka, run.final!, recheckDeadline(), opts);
    },
  });
  outcome.verify = report;
  const differ = report.tables.filter((t) => !t.equal);
  s6.status = report.equal ? 'done' : 'failed';
  s6.lines.push(
    report.equal
      ? `${report.tables.length} table(s) equal`
      : `${differ.length} of ${report.tables.length} table(s) differ: ${differ.map((t) => t.source).join(', ')}`,
  );
  steps.end(s6);
  outcome.ok = report.equal;
  return report.equal ? null : 'the target differs from the source (see the verify report)';
}
