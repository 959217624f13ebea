/**
 * Pure pieces of a SQL sink's apply (docs/sinks.md#reduction, #offsets): grouping partial rows
 * by the columns they carry, turning rows into statement parameters, and the optimistic fence.
 */
import type { SinkBatch } from '../api/connector.js';
import { FerryError } from '../api/errors.js';
import { type Row, UNCHANGED } from '../api/event.js';
import type { JsonValue } from '../api/json.js';
import type { ColumnSchema } from '../api/schema.js';

/** A row of ferry_offsets as a dialect reads it (partition a number, next offset a decimal string). */
export interface OffsetsTableRow extends TopicPartition {
  nextOffset: string;
  truncateBarrier: string | null;
  /** Highest source leader epoch before nextOffset (docs/failover.md#fencing); null: none. */
  leaderEpoch: number | null;
}

/** A partition of a topic. */
export interface TopicPartition {
  topic: string;
  partition: number;
}

/** A truncate barrier to set on a partition (docs/sinks.md#truncate). */
export interface BarrierRow extends TopicPartition {
  truncateBarrier: string;
}

/** A source column and the target column it is written to. */
export interface BoundColumn<Col> {
  column: ColumnSchema;
  target: Col;
}

/** Turns one canonical value into the driver's parameter for a target column. */
export type ToParam<Col, P> = (column: ColumnSchema, value: JsonValue, target: Col) => P;

/** Rows grouped by the set of columns they carry (UNCHANGED and absent columns left out), in first-seen order. */
export function groupByColumns(rows: Row[], columns: ColumnSchema[]): Array<{ columns: ColumnSchema[]; rows: Row[] }> {
  const groups = new Map<string, { columns: ColumnSchema[]; rows: Row[] }>();
  // Most rows carry every column: they are told without building their signature.
  let whole: { columns: ColumnSchema[]; rows: Row[] } | undefined;
  for (const row of rows) {
    if (carriesAll(row, columns)) {
      if (!whole) {
        const signature = columns.map((col) => col.name).join('\u0000');
        whole = groups.get(signature) ?? { columns, rows: [] };
        groups.set(signature, whole);
      }
      whole.rows.push(row);
      continue;
    }
    const present = columns.filter((col) => Object.hasOwn(row, col.name) && row[col.name] !== UNCHANGED);
    const signature = present.map((col) => col.name).join('\u0000');
    let g = groups.get(signature);
    if (!g) {
      g = { columns: present, rows: [] };
      groups.set(signature, g);
    }
    g.rows.push(row);
  }
  return [...groups.values()];
}

function carriesAll(row: Row, columns: ColumnSchema[]): boolean {
  for (const col of columns) if (!Object.hasOwn(row, col.name) || row[col.name] === UNCHANGED) return false;
  return true;
}

/** The parameters of rows, row by row, in the order of `columns` (each row carries them all). */
export function rowParams<Col, P>(rows: Row[], columns: BoundColumn<Col>[], toParam: ToParam<Col, P>): P[][] {
  return rows.map((row) => columns.map((b) => toParam(b.column, row[b.column.name]!, b.target)));
}

/** The key parameters of rows to delete; a key column without a value is a data error. */
export function keyParams<Col, P>(rows: Row[], key: BoundColumn<Col>[], toParam: ToParam<Col, P>): P[][] {
  return rows.map((row) =>
    key.map((b) => {
      const value = row[b.column.name];
      const p = value !== undefined ? toParam(b.column, value, b.target) : null;
      if (p === null) throw new FerryError('FERRY_APPLY', `key column "${b.column.name}" has no value in a delete`);
      return p;
    }),
  );
}

/**
 * The optimistic fence: throws a retriable FERRY_APPLY with `details.fenced` when the locked
 * ferry_offsets rows differ from what the batch expects (another sink process of the group
 * applied them meanwhile, or an earlier commit's outcome was unknown).
 */
export function checkFence(expected: NonNullable<SinkBatch['expected']>, stored: OffsetsTableRow[]): void {
  const byTp = new Map<string, { next: string; barrier: string | null }>();
  for (const r of stored)
    byTp.set(`${r.topic}\u0000${r.partition}`, { next: r.nextOffset, barrier: r.truncateBarrier });
  for (const e of expected) {
    const s = byTp.get(`${e.topic}\u0000${e.partition}`);
    const same = s
      ? s.next === e.nextOffset && s.barrier === e.truncateBarrier
      : e.nextOffset === null && e.truncateBarrier === null;
    if (!same) {
      throw new FerryError(
        'FERRY_APPLY',
        `the stored offset of ${e.topic}[${e.partition}] is ${s ? s.next : 'absent'}, not ${e.nextOffset ?? 'absent'} as expected: ` +
          'another sink process of the group applied it meanwhile; re-reading offsets',
        { retriable: true, details: { fenced: true, topic: e.topic, partition: e.partition } },
      );
    }
  }
}
