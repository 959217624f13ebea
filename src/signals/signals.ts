import { FerryError } from '../api/errors.js';
import type { JsonValue } from '../api/json.js';

/**
 * Requests to a running source, through `<pipeline>.__signals` (one partition, in order). Today
 * one kind: re-read tables (`ferry snapshot --table`). The record key is the request id.
 *
 *   {"type":"snapshot","tables":["shop.orders"],"requestedAt":1700000000000}
 *
 * With `keys` (one table), only those rows are read again (a sink's repair request): each key is
 * the values of the table's key columns, in key order.
 */
export interface SnapshotSignal {
  type: 'snapshot';
  tables: string[];
  keys?: JsonValue[][];
  requestedAt: number;
}

export function encodeSignal(signal: SnapshotSignal): string {
  return JSON.stringify(signal);
}

/** Parses a signal record; FERRY_DECODE (with the offset) when it is not one ferry understands. */
export function decodeSignal(value: string, offset: string): SnapshotSignal {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    throw new FerryError('FERRY_DECODE', `signal at offset ${offset} is not JSON: ${(err as Error).message}`);
  }
  const s = parsed as Partial<SnapshotSignal> | null;
  if (s?.type !== 'snapshot' || !Array.isArray(s.tables) || !s.tables.every((t) => typeof t === 'string')) {
    throw new FerryError(
      'FERRY_DECODE',
      `signal at offset ${offset} is not a snapshot request ({"type":"snapshot","tables":["db.table"]}): ${value.slice(0, 200)}`,
    );
  }
  const out: SnapshotSignal = {
    type: 'snapshot',
    tables: s.tables,
    requestedAt: typeof s.requestedAt === 'number' ? s.requestedAt : 0,
  };
  if (Array.isArray(s.keys) && s.keys.every((k) => Array.isArray(k)) && s.tables.length === 1) out.keys = s.keys;
  return out;
}
