/**
 * What cutover step 5 does to one generated column on the target (a SequenceAction), and the
 * arithmetic both target engines share: the highest value to move past, and the value after it.
 */
import type { TableId } from '../api/schema.js';
import type { SourceAutoColumn } from './source.js';

export interface SqlStatement {
  sql: string;
  params: unknown[];
  /** The statement as printed (parameters written in). */
  display: string;
}

export type SequenceActionKind =
  | 'setval'
  | 'add-identity'
  | 'create-sequence'
  | 'auto-increment'
  | 'make-auto-increment'
  | 'none'
  | 'unsupported';

export interface SequenceAction {
  /** `db.table` at the source and at the target. */
  source: string;
  target: string;
  column: string;
  /** The shard (`sink.shards[].name`) the action runs on; absent for a single target. */
  shard?: string;
  /** What generates the column at the source. */
  generator: string;
  kind: SequenceActionKind;
  /** Highest value to move past (null: the table is empty and the source counter unused). */
  highest: string | null;
  /** The first value an INSERT without the column gets after the move. */
  next: string;
  /** The target is already ahead: nothing to do. */
  alreadyDone: boolean;
  statements: SqlStatement[];
  /** Run the statements in one transaction (PostgreSQL). */
  transactional: boolean;
  note: string;
}

/** Largest of some decimal integers (null ignored); null when none. */
export function maxOf(...values: Array<string | null | undefined>): string | null {
  let best: bigint | null = null;
  for (const v of values) {
    if (v === null || v === undefined || !/^-?\d+$/.test(v)) continue;
    const n = BigInt(v);
    if (best === null || n > best) best = n;
  }
  return best === null ? null : best.toString();
}

/** The value after `highest` (at least 1). */
export function nextAfter(highest: string | null): string {
  if (highest === null) return '1';
  const n = BigInt(highest) + 1n;
  return (n < 1n ? 1n : n).toString();
}

/** A statement without parameters, printed as it runs. */
export function plainStatement(sql: string): SqlStatement {
  return { sql, params: [], display: sql };
}

/** The fields every action for `src` on `target` starts from: nothing to run yet. */
export function actionBase(src: SourceAutoColumn, target: TableId) {
  return {
    source: `${src.table.db}.${src.table.table}`,
    target: `${target.db}.${target.table}`,
    column: src.column,
    generator: src.generator,
    statements: [] as SqlStatement[],
    transactional: false,
    alreadyDone: false,
  };
}

/** The action for a column the target table does not have. */
export function missingColumnAction(src: SourceAutoColumn, target: TableId): SequenceAction {
  return {
    ...actionBase(src, target),
    kind: 'unsupported',
    highest: null,
    next: '1',
    note: 'the column is missing in the target (has the sink created the table?)',
  };
}
