/**
 * The cutover outcome for humans (one block per step, then the verify report and what to
 * switch) and for machines (`--json`: the outcome object as is). Pure.
 */
import { formatVerifyReport } from '../verify/index.js';
import type { CutoverOutcome, CutoverStep, RollbackOutcome } from './types.js';

const STATUS: Record<CutoverStep['status'], string> = {
  done: 'done',
  'already done': 'already done',
  planned: 'plan',
  confirmed: 'confirmed',
  skipped: 'skipped',
  failed: 'FAILED',
};

/** One step: `2. source read-only — done`, its lines, statements and warnings. */
export function formatStep(step: CutoverStep): string[] {
  const time = step.seconds >= 1 ? ` (${step.seconds.toFixed(1)} s)` : '';
  const lines = [`${step.n}. ${step.title} — ${STATUS[step.status]}${time}`];
  for (const s of step.statements) lines.push(`   ${step.status === 'planned' ? 'would run' : 'ran'}: ${s}`);
  for (const l of step.lines) lines.push(`   ${l}`);
  for (const w of step.warnings) lines.push(`   ! ${w}`);
  return lines;
}

/** The closing block: verify report, verdict, what to do now. */
export function formatOutcome(o: CutoverOutcome): string[] {
  const lines: string[] = [];
  if (o.verify) lines.push('', ...formatVerifyReport(o.verify).split('\n'));
  lines.push('');
  const verdict = o.dryRun
    ? 'DRY RUN: nothing was changed'
    : o.ok
      ? `READY: the target has everything; switch over (${o.seconds.toFixed(1)} s)`
      : `NOT READY: ${o.error ?? 'see above'}`;
  lines.push(`7. outcome — ${verdict}`);
  if (o.finalPosition) lines.push(`   final source position: ${o.finalPosition.describe}`);
  if (o.lagEvents !== null) lines.push(`   sink lag: ${o.lagEvents} event(s)`);
  for (const n of o.next) lines.push(`   → ${n}`);
  return lines;
}

/** The whole report (when steps were not printed one by one). */
export function formatCutover(o: CutoverOutcome): string {
  const head = `ferry cutover ${o.pipeline}: ${o.source.server} → ${o.target.kind} ${o.target.url}${o.dryRun ? ' (dry run)' : ''}`;
  return [head, ...o.steps.flatMap(formatStep), ...formatOutcome(o)].join('\n');
}

export function cutoverJson(o: CutoverOutcome): string {
  return JSON.stringify(o, null, 2);
}

export function formatRollback(r: RollbackOutcome): string {
  const head = `ferry cutover --rollback ${r.pipeline}: ${r.source.server}${r.dryRun ? ' (dry run)' : ''} — ${r.result}`;
  return [head, ...r.lines.map((l) => `   ${l}`)].join('\n');
}
