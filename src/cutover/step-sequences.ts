/**
 * Cutover step 5: move sequences / AUTO_INCREMENT on the target past the highest id (sequences.ts);
 * on a sharded target, on every shard with an offset/step scheme (sequences-sharded.ts).
 */
import type { CutoverDb } from './db.js';
import { applySequenceAction, planSequences, type SequenceAction } from './sequences.js';
import { planShardedSequences } from './sequences-sharded.js';
import { type CutoverRun, STEP_TITLES, tableName } from './steps.js';
import type { CutoverOutcome } from './types.js';

function publicAction(a: SequenceAction): CutoverOutcome['sequences'][number] {
  return { ...a, statements: a.statements.map((s) => s.display) };
}

export async function sequencesStep(run: CutoverRun): Promise<string | null> {
  const { dryRun, admin, targets, pairs, outcome, steps } = run;
  const s5 = steps.begin(5, STEP_TITLES[4]!);
  const autoColumns = await admin.autoColumns(pairs.map((p) => p.source));
  const planned: Array<{ db: CutoverDb; action: SequenceAction }> = run.config.sink.shards
    ? (await planShardedSequences(targets, pairs, autoColumns)).map(({ shard, action }) => ({
        db: shard.db,
        action: { ...action, shard: shard.name },
      }))
    : (await planSequences(targets[0]!.db, pairs, autoColumns)).map((action) => ({ db: targets[0]!.db, action }));
  const actions = planned.map((p) => p.action);
  let failed = false;
  for (const { db, action: a } of planned) {
    const on = a.shard === undefined ? '' : `shard ${a.shard}: `;
    const where = `${on}${a.target}.${a.column} (${a.generator} at the source)`;
    if (a.kind === 'unsupported') {
      s5.warnings.push(`${where}: ${a.note}`);
      continue;
    }
    s5.statements.push(...a.statements.map((s) => s.display));
    if (a.alreadyDone) {
      s5.lines.push(`${where}: ${a.note}`);
    } else if (dryRun) {
      s5.lines.push(`${where}: planned — ${a.note} (values as of now)`);
    } else {
      try {
        await applySequenceAction(db, a);
        s5.lines.push(`${where}: ${a.note}`);
      } catch (err) {
        failed = true;
        s5.warnings.push(`${where}: failed: ${(err as Error).message}`);
      }
    }
  }
  for (const c of autoColumns) if (c.note) s5.warnings.push(`${tableName(c.table)}.${c.column}: ${c.note}`);
  if (actions.length === 0) s5.lines.push('no captured column generates its values at the source');
  const pending = actions.filter((a) => !a.alreadyDone && a.kind !== 'unsupported');
  s5.status = failed
    ? 'failed'
    : dryRun && pending.length > 0
      ? 'planned'
      : pending.length === 0 && actions.length > 0
        ? 'already done'
        : 'done';
  outcome.sequences = actions.map(publicAction);
  steps.end(s5);
  return failed ? 'moving sequences / AUTO_INCREMENT on the target failed (see step 5)' : null;
}
