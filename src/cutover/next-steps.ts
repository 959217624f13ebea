/** What the user does after a cutover (the outcome's `next`): switch the application, or not yet. */
import type { CutoverOutcome } from './types.js';

export function nextSteps(o: CutoverOutcome, configArg: string): string[] {
  const undo = `ferry cutover -c ${configArg} --rollback`;
  const readOnly = o.source.readOnly === 'set' || o.source.readOnly === 'already';
  if (o.dryRun) return [`run \`ferry cutover -c ${configArg}\` (with --yes without a terminal) to do it`];
  if (o.ok) {
    return [
      `switch the application to the target: ${o.target.url}`,
      `tables: ${o.target.tables.join(', ')}`,
      'the pipeline can be stopped now (Ctrl-C or SIGTERM to `ferry run`; offsets are stored)',
      readOnly
        ? `the source stays read-only; to make it writable again: ${undo}`
        : 'the source was not switched read-only: keep its writers stopped',
    ];
  }
  const lines = ['do not switch the application yet'];
  if (readOnly)
    lines.push(`the source stays read-only; re-run cutover to continue, or make it writable again: ${undo}`);
  else lines.push('re-run cutover to continue');
  if (o.verify && !o.verify.equal) lines.push(`look at the differences with \`ferry verify -c ${configArg}\``);
  return lines;
}
