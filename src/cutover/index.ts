/**
 * `ferry cutover`: the guided end of a move — lag, source read-only, final position, wait for
 * the pipeline, sequences / AUTO_INCREMENT on the target, verify, outcome (docs/cutover.md).
 */
export { DEFAULT_TIMEOUT_MS, runCutover } from './cutover.js';
export { maskedTargetUrl, sharedServerReason, sourceAdminEndpoint } from './endpoints.js';
export { cutoverJson, formatCutover, formatOutcome, formatRollback, formatStep } from './report.js';
export { rollbackReadOnly } from './rollback.js';
export type { SequenceAction } from './sequence-action.js';
export { STEP_TITLES } from './steps.js';
export type {
  CutoverOptions,
  CutoverOutcome,
  CutoverStep,
  ReadOnlyState,
  RollbackOutcome,
  StepStatus,
} from './types.js';
