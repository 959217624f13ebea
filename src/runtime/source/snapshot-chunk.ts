import { randomUUID } from 'node:crypto';
import type { ChangeEvent, ChunkResult, JsonObject, Row, SourceItem, TableSchema } from '../../api/index.js';
import type { Job } from './snapshot-jobs.js';

/** A chunk whose view was (or is being) read and whose watermark the stream has not passed yet. */
export interface Chunk {
  id: string;
  job: Job;
  round: number;
  table: string;
  schema: TableSchema;
  limit: number;
  /** RecentChanges sequence when the chunk was requested: changes from there on are collected. */
  requestSeq: number;
  /** Keys (JSON) the stream changed since the request: their rows come from the stream. */
  changed: Set<string>;
  /** A truncate or a schema change in the window: the chunk is read again. */
  invalid: boolean;
  result: ChunkResult | null;
  /** Resolves with the result, or null when the read failed. */
  read: Promise<ChunkResult | null>;
  settleRead(result: ChunkResult | null): void;
  /** Resolves once the stream placed (or rejected) the chunk. */
  placed: Promise<'placed' | 'retry'>;
  settlePlaced(outcome: 'placed' | 'retry'): void;
}

/** A chunk about to be read: limit `limit` rows, changes collected from change number `seq` on. */
export function newChunk(job: Job, schema: TableSchema, limit: number, seq: number): Chunk {
  let settleRead!: (r: ChunkResult | null) => void;
  let settlePlaced!: (o: 'placed' | 'retry') => void;
  const read = new Promise<ChunkResult | null>((r) => {
    settleRead = r;
  });
  const placed = new Promise<'placed' | 'retry'>((r) => {
    settlePlaced = r;
  });
  return {
    id: randomUUID(),
    job,
    round: job.round,
    table: job.table,
    schema,
    limit,
    requestSeq: seq,
    changed: new Set(),
    invalid: false,
    result: null,
    read,
    settleRead,
    placed,
    settlePlaced,
  };
}

export function keyOf(schema: TableSchema, row: Row): Row {
  const key: Row = {};
  for (const col of schema.primaryKey) key[col] = row[col] ?? null;
  return key;
}

export function snapshotEvent(schema: TableSchema, row: Row, key: Row, source: JsonObject, tsMs: number): ChangeEvent {
  return {
    op: 'r',
    db: schema.db,
    table: schema.table,
    key,
    before: null,
    after: row,
    tsMs,
    schemaVersion: schema.version,
    snapshot: true,
    source: { ...source },
  };
}

/** The rows of a chunk with their keys, minus those whose keys (JSON) are in `skip`. */
export function keptRows(schema: TableSchema, rows: Row[], skip: Set<string>): Array<{ row: Row; key: Row }> {
  const kept: Array<{ row: Row; key: Row }> = [];
  for (const row of rows) {
    const key = keyOf(schema, row);
    if (skip.size === 0 || !skip.has(JSON.stringify(key))) kept.push({ row, key });
  }
  return kept;
}

/** keptRows() without the keys: the chunk's own array when nothing is left out. */
export function keptRowsOnly(schema: TableSchema, rows: Row[], skip: Set<string>): Row[] {
  return skip.size === 0 ? rows : rows.filter((row) => !skip.has(JSON.stringify(keyOf(schema, row))));
}

/** A chunk's rows as snapshot events, in key order. */
export function snapshotItems(
  schema: TableSchema,
  kept: Array<{ row: Row; key: Row }>,
  connectorKind: string,
  tsMs: number,
): SourceItem[] {
  const source: JsonObject = { connector: connectorKind };
  return kept.map(({ row, key }) => ({ type: 'event', event: snapshotEvent(schema, row, key, source, tsMs) }));
}
