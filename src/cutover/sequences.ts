/**
 * Moving generated keys past the highest id on the target (cutover step 5), so that the
 * application's first INSERT without an explicit id succeeds there.
 *
 * The sinks create plain integer columns: neither AUTO_INCREMENT nor identity/serial travels
 * through Kafka. For every column that generates its values at the SOURCE (MySQL
 * `auto_increment`, PostgreSQL identity or a `nextval()` default), the target column gets a
 * sequence / identity (sequences-postgres.ts) or AUTO_INCREMENT (sequences-mysql.ts).
 *
 * "Highest" is the largest of: the target's MAX(column), the value the source's counter handed
 * out last, and the target counter's own position — never moved backwards. Every step is
 * idempotent: a counter already ahead is left alone. Identifiers are quoted by the sink
 * dialects; the only literal in DDL is the computed integer `next`.
 *
 * This module reads the target and plans (planSequences), and runs one plan (applySequenceAction).
 */
import type { TableId } from '../api/schema.js';
import { type CutoverDb, inTransaction } from './db.js';
import type { SequenceAction } from './sequence-action.js';
import { planMysqlColumn } from './sequences-mysql.js';
import { readMysqlTargetColumn } from './sequences-mysql-catalog.js';
import { planPostgresColumn } from './sequences-postgres.js';
import { readPgTargetColumn } from './sequences-postgres-catalog.js';
import type { SourceAutoColumn } from './source.js';

export type { SequenceAction, SequenceActionKind, SqlStatement } from './sequence-action.js';
export { maxOf, nextAfter } from './sequence-action.js';
export { type MysqlTargetColumn, NO_AUTO_VALUE_ON_ZERO, planMysqlColumn } from './sequences-mysql.js';
export { type PgSequence, type PgTargetColumn, planPostgresColumn, sequenceNameFor } from './sequences-postgres.js';
export { readPgSequence } from './sequences-postgres-catalog.js';

export interface SequencePairInput {
  source: TableId;
  target: TableId;
  excludeColumns?: string[];
}

/** Reads the target's state and plans every generated column of the source. */
export async function planSequences(
  target: CutoverDb,
  pairs: SequencePairInput[],
  sourceColumns: SourceAutoColumn[],
): Promise<SequenceAction[]> {
  const actions: SequenceAction[] = [];
  for (const src of sourceColumns) {
    const pair = pairs.find((p) => p.source.db === src.table.db && p.source.table === src.table.table);
    if (!pair || pair.excludeColumns?.includes(src.column)) continue;
    if (target.kind === 'postgres') {
      actions.push(planPostgresColumn(src, pair.target, await readPgTargetColumn(target, pair.target, src.column)));
    } else {
      actions.push(planMysqlColumn(src, pair.target, await readMysqlTargetColumn(target, pair.target, src.column)));
    }
  }
  return actions;
}

/** Runs the statements of one action on the target. */
export async function applySequenceAction(target: CutoverDb, action: SequenceAction): Promise<void> {
  if (action.alreadyDone || action.statements.length === 0) return;
  const run = async () => {
    for (const s of action.statements) await target.query(s.sql, s.params);
  };
  if (action.transactional) await inTransaction(target, run);
  else await run();
}
