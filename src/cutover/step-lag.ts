/** Cutover step 1, lag: how far the source runtime and the sink are behind (read only); then "go?". */
import { readSourceOffset } from '../offsets/source-offsets.js';
import { collectStatus } from '../pipeline/status.js';
import { describeEndpoint } from './db.js';
import { describeFinal } from './positions.js';
import { type CutoverRun, nf, STEP_TITLES, tableName } from './steps.js';

export async function lagStep(run: CutoverRun): Promise<string | null> {
  const { config, opts, admin, kafka, pairs, outcome, steps } = run;
  const s1 = steps.begin(1, STEP_TITLES[0]!);
  const stored = await readSourceOffset(kafka, config.name);
  const server = await admin.currentPosition();
  const status = await collectStatus(config, opts.logger);
  const behind = admin.bytesBehind(stored, server);
  const storedText = stored
    ? `${stored.phase} at ${stored.describe ?? JSON.stringify(stored.position)}`
    : 'not started';
  s1.lines.push(
    `source: stored ${storedText}; server at ${describeFinal(server)}` +
      (behind === null ? '' : ` (${nf.format(behind)} bytes of log behind)`),
    `sink: ${nf.format(status.lagEvents)} event(s) behind Kafka${
      status.lagSeconds === null ? '' : `, ${status.lagSeconds.toFixed(1)} s`
    }`,
    `${pairs.length} captured table(s): ${pairs.map((p) => tableName(p.source)).join(', ') || '(none)'}`,
  );
  for (const t of status.tables.filter((x) => x.lagEvents > 0)) {
    s1.lines.push(`  ${t.table}: ${nf.format(t.lagEvents)} event(s) to apply`);
  }
  if (stored?.phase !== 'stream') {
    s1.warnings.push(
      stored?.phase === 'snapshot'
        ? 'the initial snapshot is still running; cutover will wait for it to finish'
        : 'the source has not started yet: is the pipeline running (ferry run)?',
    );
  }
  if (pairs.length === 0) s1.warnings.push(`source.tables (${config.source.tables.join(', ')}) matches no table`);
  outcome.lagEvents = status.lagEvents;
  steps.end(s1);

  if (!run.dryRun && !opts.yes) {
    const go = await opts.confirm!(
      opts.readOnly === false
        ? 'Wait for the sink, move sequences on the target and verify (the source writers must be stopped)? [y/N] '
        : `Make the source ${describeEndpoint(run.adminEndpoint)} read-only, wait for the sink, move sequences on ` +
            'the target and verify? [y/N] ',
    );
    if (!go) return 'stopped: you answered no; nothing was changed';
  }
  return null;
}
