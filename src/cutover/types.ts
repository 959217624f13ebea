/**
 * Shapes of `ferry cutover`: its options and the outcome it reports. Plain data; `--json` prints
 * the outcome object as is.
 */
import type { Logger } from '../api/connector.js';
import type { PipelineVerifyOptions, VerifyReport } from '../verify/index.js';
import type { FinalPosition } from './positions.js';
import type { SequenceAction } from './sequences.js';

export interface CutoverOptions {
  logger: Logger;
  /** Print the plan, change nothing. */
  dryRun?: boolean;
  /** Assume "yes" for every question (needed without a terminal). */
  yes?: boolean;
  /** false (`--no-read-only`): do not switch the source to read-only; ask that writes stopped. */
  readOnly?: boolean;
  /** How long to wait for the source and the sink to catch up, ms [300 000]. */
  timeoutMs?: number;
  /** `--source-admin-url`: a source user allowed to switch read-only (secret, never printed). */
  sourceAdminUrl?: string;
  /** PostgreSQL: end the other sessions of the source database after switching it read-only. */
  terminateSessions?: boolean;
  /** Asks a yes/no question; undefined when there is no terminal to ask on. */
  confirm?: (question: string) => Promise<boolean>;
  /** Progress lines while waiting (stderr). */
  progress?: (line: string) => void;
  /** Called as each step ends (the CLI prints it at once). */
  onStep?: (step: CutoverStep) => void;
  /** Pause between checks while waiting, ms [500]. */
  pollMs?: number;
  /** Options passed on to verify. */
  verify?: Omit<PipelineVerifyOptions, 'logger' | 'waitFor'>;
  /** The config file as given on the command line, for the commands printed in the outcome. */
  configFile?: string;
}

export type StepStatus = 'done' | 'already done' | 'planned' | 'confirmed' | 'skipped' | 'failed';

export interface CutoverStep {
  n: number;
  title: string;
  status: StepStatus;
  /** What was found or done, one line each. */
  lines: string[];
  /** Statements run (or, with --dry-run, that would run), identifiers quoted. */
  statements: string[];
  /** Things the user should look at. */
  warnings: string[];
  seconds: number;
}

export type ReadOnlyState = 'set' | 'already' | 'confirmed' | 'planned' | 'not set';

export interface CutoverOutcome {
  pipeline: string;
  /** True when the target is ready to take over: caught up, keys moved, verify equal. */
  ok: boolean;
  dryRun: boolean;
  /** The user answered "no", or the wait timed out, or a step failed: why. */
  error: string | null;
  source: { kind: string; server: string; readOnly: ReadOnlyState };
  finalPosition: (FinalPosition & { describe: string }) | null;
  /** Sink lag (events) at the end of the wait, or at the start for --dry-run. */
  lagEvents: number | null;
  sequences: Array<Omit<SequenceAction, 'statements'> & { statements: string[] }>;
  verify: VerifyReport | null;
  target: { kind: string; url: string; tables: string[] };
  steps: CutoverStep[];
  /** What to do now, one line each. */
  next: string[];
  seconds: number;
}

export interface RollbackOutcome {
  pipeline: string;
  ok: boolean;
  dryRun: boolean;
  source: { kind: string; server: string };
  /** `writable`: switched back; `already writable`; `planned` (--dry-run). */
  result: 'writable' | 'already writable' | 'planned';
  statement: string;
  lines: string[];
}
