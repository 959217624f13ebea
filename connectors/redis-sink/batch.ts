/**
 * Turns a SinkBatch into the argument list of the apply script (script.ts). Pure: the stored JSON
 * rows that partial updates merge into are read beforehand and passed in.
 */
import { FerryError, type Row, type SinkBatch, type TableChanges, tableName } from '../../src/api/index.js';
import { hashFields, isPartial, jsonValue, mergeJson, partialHash, rowKey, streamFields } from './encode.js';
import type { TablePlan } from './options.js';
import { partitionField } from './script.js';

export interface MetaKeys {
  /** Hash: partition field → next offset. */
  offsets: string;
  /** Hash: partition field → truncate barrier. */
  barriers: string;
  /** Hash: partition field → highest source leader epoch before the next offset (docs/failover.md#fencing). */
  epochs: string;
}

export interface BuildInput {
  batch: SinkBatch;
  meta: MetaKeys;
  planOf: (t: TableChanges) => TablePlan;
  /** Stored JSON rows of the json-format keys that partial rows update (null: no such key). */
  stored: Map<string, string | null>;
  streamMaxLen: number;
}

/** A row that cannot be applied without inventing values: a data error, dead-lettered by the runtime. */
export function missingRowError(table: string, key: string, why: string): FerryError {
  return new FerryError(
    'FERRY_APPLY',
    `${table}: an UPDATE with unchanged (TOASTed) columns for ${JSON.stringify(key)} cannot be applied: ${why}. ` +
      'ferry never writes invented values; the event goes to the dead-letter topic. Re-snapshot the row ' +
      '(or set REPLICA IDENTITY FULL on the source table so updates carry every column).',
    { details: { table, key } },
  );
}

function keyOf(plan: TablePlan, t: TableChanges, row: Row): string {
  const key = rowKey(plan, row);
  if (key === null) {
    throw new FerryError('FERRY_APPLY', `${tableName(t.schema)}: a row without a value for its key columns`, {
      details: { table: tableName(t.schema) },
    });
  }
  return key;
}

/** The partial json-format rows of a batch whose stored value must be read first: their keys. */
export function jsonKeysToRead(batch: SinkBatch, planOf: (t: TableChanges) => TablePlan): string[] {
  const keys: string[] = [];
  for (const t of batch.tables) {
    const plan = planOf(t);
    if (plan.format !== 'json') continue;
    for (const row of t.upserts) if (isPartial(t.schema, row)) keys.push(keyOf(plan, t, row));
  }
  return keys;
}

/** The script's ARGV for a batch. Throws a data error for a partial row the target cannot complete. */
export function buildArgs(input: BuildInput): string[] {
  const { batch, meta } = input;
  const checks: string[] = [];
  const writes: string[] = [];
  const typed = new Map<string, string>();
  const expectType = (key: string, type: string) => {
    if (!typed.has(key)) typed.set(key, type);
  };
  expectType(meta.offsets, 'hash');
  expectType(meta.barriers, 'hash');
  for (const e of batch.expected ?? []) {
    const field = partitionField(e.topic, e.partition);
    checks.push('F', meta.offsets, meta.barriers, field, e.nextOffset ?? '', e.truncateBarrier ?? '');
  }
  for (const t of batch.tables) {
    const plan = input.planOf(t);
    const name = tableName(t.schema);
    expectType(plan.index, 'set');
    if (t.truncate) writes.push('T', plan.index);
    for (const row of t.deletes) writes.push('D', keyOf(plan, t, row), plan.index);
    for (const row of t.upserts) {
      const key = keyOf(plan, t, row);
      const partial = isPartial(t.schema, row);
      if (partial && t.truncate) throw missingRowError(name, key, 'the table was truncated earlier in the batch');
      if (plan.format === 'hash') {
        if (partial) {
          const { set, del } = partialHash(t.schema, row);
          checks.push('X', key);
          writes.push('P', key, plan.index, String(set.length / 2), ...set, String(del.length), ...del);
        } else {
          const fields = hashFields(t.schema, row);
          writes.push('H', key, plan.index, String(fields.length / 2), ...fields);
        }
      } else if (partial) {
        const stored = input.stored.get(key) ?? null;
        if (stored === null) throw missingRowError(name, key, 'the stored row is missing');
        const merged = mergeJson(t.schema, stored, row);
        if (merged === null)
          throw missingRowError(name, key, 'the stored value is not a JSON row holding those columns');
        checks.push('J', key, stored);
        writes.push('S', key, plan.index, merged);
      } else {
        writes.push('S', key, plan.index, jsonValue(t.schema, row));
      }
      if (plan.ttlSeconds !== null) writes.push('E', key, String(plan.ttlSeconds));
    }
    if (plan.stream !== null && t.changes) {
      expectType(plan.stream, 'stream');
      for (const change of t.changes) {
        const fields = streamFields(t.schema, change);
        writes.push('A', plan.stream, String(input.streamMaxLen), String(fields.length / 2), ...fields);
      }
    }
  }
  for (const b of batch.barriers ?? []) {
    writes.push('B', meta.offsets, meta.barriers, partitionField(b.topic, b.partition), b.truncateBarrier);
  }
  for (const o of batch.offsets) {
    writes.push(
      'O',
      meta.offsets,
      meta.barriers,
      partitionField(o.topic, o.partition),
      o.nextOffset,
      o.truncateBarrier ?? '',
    );
    if (o.leaderEpoch !== null && o.leaderEpoch !== undefined) {
      expectType(meta.epochs, 'hash');
      writes.push('L', meta.epochs, partitionField(o.topic, o.partition), String(o.leaderEpoch));
    }
  }
  const types: string[] = [];
  for (const [key, type] of typed) types.push('Y', key, type);
  return [...checks, ...types, 'W', ...writes];
}
