/**
 * Cutover steps 3 and 4: the source's log position once writes stopped, and waiting until the
 * stored source position reaches it and the sink lag is 0.
 */
import { describeFinal } from './positions.js';
import { type CutoverRun, STEP_TITLES } from './steps.js';
import { waitCaughtUp } from './wait.js';

export async function finalPositionStep(run: CutoverRun): Promise<string | null> {
  const { admin, outcome, steps } = run;
  const s3 = steps.begin(3, STEP_TITLES[2]!);
  const final = await admin.currentPosition();
  run.final = final;
  if (run.dryRun) {
    s3.status = 'planned';
    s3.lines.push(`would record the source position once writes are off (now ${describeFinal(final)})`);
  } else {
    outcome.finalPosition = { ...final, describe: describeFinal(final) };
    s3.lines.push(describeFinal(final));
    try {
      const marker = await admin.nudge(final);
      if (marker) s3.lines.push(`wrote a heartbeat message at ${marker} so the source stores a position past it`);
    } catch (err) {
      s3.warnings.push(`cannot write a heartbeat message (${(err as Error).message}); waiting for the source's own`);
    }
  }
  steps.end(s3);
  return null;
}

export async function waitStep(run: CutoverRun): Promise<string | null> {
  const { config, opts, timeoutMs, admin, kafka, outcome, steps } = run;
  const s4 = steps.begin(4, STEP_TITLES[3]!);
  if (run.dryRun) {
    s4.status = 'planned';
    s4.lines.push(
      `would wait up to ${Math.round(timeoutMs / 1000)} s until the source stored a position at or past it ` +
        'and the sink applied everything in Kafka',
    );
  } else {
    const waited = await waitCaughtUp(config, admin, kafka, run.final!, Date.now() + timeoutMs, opts);
    outcome.lagEvents = waited.lagEvents;
    s4.lines.push(waited.detail);
    if (!waited.ok) {
      s4.status = 'failed';
      steps.end(s4);
      return (
        `timed out after ${Math.round(timeoutMs / 1000)} s waiting for the pipeline (${waited.detail}); ` +
        'is `ferry run` running? Re-run cutover to continue (raise --timeout)'
      );
    }
  }
  steps.end(s4);
  return null;
}
