/**
 * `ferry cutover`: the guided end of a move — lag, source read-only, final position, wait for
 * the pipeline, sequences / AUTO_INCREMENT on the target, verify, outcome (docs/cutover.md).
 */
export {
  DEFAULT_TIMEOUT_MS,
  maskedTargetUrl,
  rollbackReadOnly,
  runCutover,
  STEP_TITLES,
  sharedServerReason,
  sourceAdminEndpoint,
} from './cutover.js';
export { cutoverJson, formatCutover, formatOutcome, formatRollback, formatStep } from './report.js';
export type { SequenceAction } from './sequences.js';
export type {
  CutoverOptions,
  CutoverOutcome,
  CutoverStep,
  ReadOnlyState,
  RollbackOutcome,
  StepStatus,
} from './types.js';
