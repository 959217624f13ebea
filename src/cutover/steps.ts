/**
 * What the steps of a cutover share: their titles, the record of finished steps, and the state
 * of one run that every step reads (and a few write: the final position, the outcome).
 */
import type { Kafka } from 'kafkajs';
import type { TableId } from '../api/schema.js';
import type { PipelineConfig } from '../config/index.js';
import type { TablePair } from '../verify/index.js';
import type { CutoverDb, CutoverEndpoint } from './db.js';
import type { FinalPosition } from './positions.js';
import type { SourceAdmin } from './source.js';
import type { CutoverOptions, CutoverOutcome, CutoverStep } from './types.js';

export const STEP_TITLES = [
  'lag',
  'source read-only',
  'final source position',
  'wait for the pipeline',
  'sequences / AUTO_INCREMENT on the target',
  'verify',
] as const;

/** A step being worked on: a CutoverStep and when it started. */
export type OpenStep = CutoverStep & { started: number };

/** The finished steps of a run, in order; each one is also handed to `onStep` as it ends. */
export class Steps {
  readonly list: CutoverStep[] = [];
  constructor(private readonly onStep?: (s: CutoverStep) => void) {}

  begin(n: number, title: string): OpenStep {
    return { n, title, status: 'done', lines: [], statements: [], warnings: [], seconds: 0, started: Date.now() };
  }

  end(step: OpenStep): CutoverStep {
    const { started, ...rest } = step;
    const done: CutoverStep = { ...rest, seconds: (Date.now() - started) / 1000 };
    this.list.push(done);
    this.onStep?.(done);
    return done;
  }
}

/** One cutover run: its settings, open sessions and the outcome being filled in. */
export interface CutoverRun {
  readonly config: PipelineConfig;
  readonly opts: CutoverOptions;
  readonly dryRun: boolean;
  readonly timeoutMs: number;
  readonly adminEndpoint: CutoverEndpoint;
  readonly admin: SourceAdmin;
  /** The target's sessions: one, or one per shard in `sink.shards` order. */
  readonly targets: Array<{ name: string; db: CutoverDb }>;
  readonly kafka: Kafka;
  readonly pairs: TablePair[];
  readonly outcome: CutoverOutcome;
  readonly steps: Steps;
  /** The source position once writes stopped (read in step 3). */
  final?: FinalPosition;
}

/**
 * One step of a run. Resolves with why the cutover stops after it (the outcome's error; the later
 * steps are skipped), or null to go on.
 */
export type CutoverStepRunner = (run: CutoverRun) => Promise<string | null>;

export const nf = new Intl.NumberFormat('en-US');

export function tableName(t: TableId): string {
  return `${t.db}.${t.table}`;
}
