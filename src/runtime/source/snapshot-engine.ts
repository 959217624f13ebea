import { randomUUID } from 'node:crypto';
import type {
  ChangeEvent,
  ChunkReader,
  ChunkResult,
  JsonObject,
  JsonValue,
  Logger,
  Row,
  SnapshotProgress,
  SourceItem,
  StoredSourceOffset,
  TableSchema,
} from '../../api/index.js';
import { FerryError, tableName } from '../../api/index.js';
import { abortable, backoffDelay, sleep } from '../retry.js';
import { chunkLimit, RecentChanges, rowBytes } from './snapshot-window.js';

export interface SnapshotEngineOptions {
  connectorKind: string;
  openReader(): Promise<ChunkReader>;
  /** Most rows per chunk. */
  chunkSize: number;
  /** Approximate most bytes of one chunk's rows (the row count adapts to the row size). */
  chunkBytes: number;
  /** Chunk readers running at once (across tables). */
  parallelism: number;
  logger: Logger;
  /** The stop: readers end, waits end. */
  signal: AbortSignal;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  isRetriable(err: unknown): boolean;
  onTableStart(table: string, estimatedRows: number): void;
  onTableDone(table: string): void;
  /** A reader failed with an error that is not retriable: the source stops. */
  onFatal(err: unknown): void;
}

/** A table to read, with the last key whose chunk is placed in the stream. */
interface Job {
  table: string;
  lastKey: JsonValue[] | null;
  /** A repair: exactly these rows (key values in key order), not the whole table. */
  keys?: JsonValue[][];
  reading: boolean;
  /** Average canonical bytes per row seen so far (sizes the next chunk). */
  rowBytes: number | null;
  started: boolean;
  /** Bumped when the table is requested again while read: a chunk of an older round moves nothing. */
  round?: number;
}

/** A chunk whose view was (or is being) read and whose watermark the stream has not passed yet. */
interface Chunk {
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

/**
 * The watermarked snapshot engine (docs/snapshots.md). The stream runs from a fixed position
 * from the start; snapshot chunks are read beside it in short views of their own, and each
 * chunk is placed in the stream where the stream passed its view (the connector's watermark):
 * rows whose keys the stream changed since the chunk was requested are dropped (the stream
 * carries a state at least as new), the rest are emitted right there. Per key, what Kafka holds
 * never goes back in time, a delete is never undone, and no lock outlives one chunk query.
 *
 * Progress (the tables still to read and the last key placed of each) rides on every
 * checkpoint of the stream, so it is stored with the stream position it belongs to; a restart
 * resumes both together, chunk by chunk.
 */
export class SnapshotEngine {
  private readonly o: SnapshotEngineOptions;
  private readonly jobs: Job[] = [];
  private readonly done = new Set<string>();
  private readonly captured = new Set<string>();
  private readonly schemas = new Map<string, TableSchema>();
  private readonly chunks = new Map<string, Chunk>();
  private readonly recent = new RecentChanges(50_000);
  private readonly startedAt = Date.now();
  private wakeReaders: Array<() => void> = [];
  private readers: Promise<void>[] = [];
  private signalsOffset: string | undefined;

  constructor(opts: SnapshotEngineOptions) {
    this.o = opts;
  }

  /** Tables known at the start (discover) and what the stored offset says (null: a new pipeline). */
  init(tables: TableSchema[], stored: StoredSourceOffset | null, initialSnapshot: boolean): void {
    for (const t of tables) this.schemas.set(tableName(t), t);
    const names = tables.map(tableName);
    this.signalsOffset = stored?.signals;
    if (!stored) {
      for (const n of names) this.captured.add(n);
      if (initialSnapshot) for (const n of names) this.addJob(n, null);
      return;
    }
    for (const n of stored.tables ?? names) this.captured.add(n);
    for (const n of stored.snapshot?.done ?? []) this.done.add(n);
    const progress = stored.snapshot;
    if (progress?.pending) {
      for (const p of progress.pending) {
        if (p.keys)
          this.jobs.push({
            table: p.table,
            lastKey: null,
            keys: p.keys,
            reading: false,
            rowBytes: null,
            started: true,
          });
        else this.addJob(p.table, p.lastKey);
      }
    } else if (stored.phase === 'snapshot') {
      // Written before chunked snapshots: every table not done is pending.
      for (const n of names) {
        if (this.done.has(n)) continue;
        this.addJob(n, progress?.current?.table === n ? progress.current.lastKey : null);
      }
    }
    // Tables that started to match the filter while the pipeline was stopped.
    for (const n of names) {
      if (this.captured.has(n)) continue;
      this.captured.add(n);
      this.o.logger.info('a table is captured for the first time: snapshotting it', { table: n });
      this.addJob(n, null);
    }
  }

  /** Whether any table is still to read. */
  get active(): boolean {
    return this.jobs.length > 0;
  }

  get signals(): string | undefined {
    return this.signalsOffset;
  }

  /** Tables still to read, in order, with their progress. */
  pending(): Array<{ table: string; lastKey: JsonValue[] | null; reading: boolean }> {
    return this.jobs.filter((j) => !j.keys).map((j) => ({ table: j.table, lastKey: j.lastKey, reading: j.reading }));
  }

  /**
   * Queues a repair: the rows with these keys are read again and placed like a chunk (a sink met
   * an update with UNCHANGED columns for a row it does not hold). Returns the unknown table, if so.
   */
  requestKeys(table: string, keys: JsonValue[][], signalsOffset?: string): string[] {
    if (signalsOffset !== undefined) this.signalsOffset = signalsOffset;
    if (!this.schemas.has(table)) return [table];
    const waiting = this.jobs.find((j) => j.table === table && j.keys && !j.reading);
    const known = new Set((waiting?.keys ?? []).map((k) => JSON.stringify(k)));
    const fresh = keys.filter((k) => !known.has(JSON.stringify(k)));
    if (waiting) waiting.keys!.push(...fresh);
    else this.jobs.push({ table, lastKey: null, keys: fresh, reading: false, rowBytes: null, started: true });
    this.o.logger.info('rows to read again (repair)', { table, rows: keys.length });
    this.wake();
    return [];
  }

  /**
   * Queues tables for a (new) snapshot, from their first key: a table already queued starts over.
   * Unknown names are returned (not captured by the pipeline's filter).
   */
  request(tables: string[], signalsOffset?: string): string[] {
    const unknown: string[] = [];
    for (const t of tables) {
      if (!this.schemas.has(t)) {
        unknown.push(t);
        continue;
      }
      const existing = this.jobs.find((j) => j.table === t && !j.keys);
      if (existing) {
        existing.lastKey = null;
        existing.started = false;
        existing.round = (existing.round ?? 0) + 1;
      } else this.addJob(t, null);
      this.done.delete(t);
      this.o.logger.info('snapshot requested', { table: t });
    }
    if (signalsOffset !== undefined) this.signalsOffset = signalsOffset;
    this.wake();
    return unknown;
  }

  /** Starts the chunk readers (once the stream runs). */
  start(): void {
    if (this.readers.length > 0) return;
    for (let i = 0; i < Math.max(1, this.o.parallelism); i++) this.readers.push(this.runReader());
  }

  /** Waits until the readers ended (after the stop). */
  async stopped(): Promise<void> {
    this.wake();
    await Promise.all(this.readers);
  }

  /**
   * Passes one stream item through, in stream order: notes the keys that changed (for the chunks
   * in flight) and turns a chunk's watermark into its rows.
   */
  async transform(item: SourceItem): Promise<SourceItem[]> {
    switch (item.type) {
      case 'event':
        this.noteEvent(item.event);
        return [item];
      case 'schema':
        this.noteSchema(item.schema);
        return [item];
      case 'watermark':
        return this.place(item.id);
      case 'checkpoint':
        return [item];
    }
  }

  /** The stored offset for a stream position, with the snapshot progress that belongs to it. */
  decorate(offset: StoredSourceOffset): StoredSourceOffset {
    const out: StoredSourceOffset = {
      ...offset,
      phase: this.jobs.length > 0 ? 'snapshot' : 'stream',
      tables: [...this.captured],
    };
    if (this.signalsOffset !== undefined) out.signals = this.signalsOffset;
    if (this.jobs.length > 0 || this.done.size > 0) out.snapshot = this.progress();
    else delete out.snapshot;
    return out;
  }

  progress(): SnapshotProgress {
    const pending = this.jobs.map((j) =>
      j.keys ? { table: j.table, lastKey: null, keys: j.keys } : { table: j.table, lastKey: j.lastKey },
    );
    const progress: SnapshotProgress = { done: [...this.done], pending };
    const current = pending.find((p) => p.lastKey !== null);
    if (current?.lastKey) progress.current = { table: current.table, lastKey: current.lastKey };
    return progress;
  }

  private addJob(table: string, lastKey: JsonValue[] | null): void {
    if (this.jobs.some((j) => j.table === table && !j.keys)) return;
    this.jobs.push({ table, lastKey, reading: false, rowBytes: null, started: false });
  }

  private noteEvent(event: ChangeEvent): void {
    const name = `${event.db}.${event.table}`;
    const key = event.key === null ? null : JSON.stringify(event.key);
    const txId = event.source['txId'];
    this.recent.add(name, key, txId === undefined || txId === null ? null : String(txId));
    for (const chunk of this.chunks.values()) {
      if (chunk.table !== name) continue;
      if (key === null)
        chunk.invalid = true; // a truncate in the window
      else chunk.changed.add(key);
    }
  }

  private noteSchema(schema: TableSchema): void {
    const name = tableName(schema);
    this.schemas.set(name, schema);
    for (const chunk of this.chunks.values()) {
      if (chunk.table === name && chunk.schema.version !== schema.version) chunk.invalid = true;
    }
    if (!this.captured.has(name)) {
      this.captured.add(name);
      this.o.logger.info('a new table is captured: snapshotting it', { table: name });
      this.addJob(name, null);
      this.wake();
    }
  }

  /** The chunk's rows at its watermark (minus the keys the stream changed meanwhile). */
  private async place(id: string): Promise<SourceItem[]> {
    const chunk = this.chunks.get(id);
    if (!chunk) return []; // a watermark seen again after a reconnect, or of a failed read
    const result = chunk.result ?? (await abortable(chunk.read, [this.o.signal]));
    this.chunks.delete(id);
    if (!result) return [];
    const current = this.schemas.get(chunk.table);
    if (chunk.invalid || !current || current.version !== chunk.schema.version) {
      chunk.settlePlaced('retry');
      return [];
    }
    const skip = new Set(chunk.changed);
    if (result.runningTx && result.runningTx.length > 0) {
      // Transactions running when the view was taken may have been streamed before the chunk was
      // requested: their rows come from the stream too. If the record of what was streamed then
      // is gone, the chunk cannot be checked and is read again.
      const from = this.recent.lookBackFrom(chunk.requestSeq);
      if (!this.recent.covers(from)) {
        chunk.settlePlaced('retry');
        return [];
      }
      for (const key of this.recent.keysOf(chunk.table, new Set(result.runningTx), from)) skip.add(key);
    }
    const job = this.jobs.includes(chunk.job) && (chunk.job.round ?? 0) === chunk.round ? chunk.job : undefined;
    const rows = result.rows;
    const more = !chunk.job.keys && rows.length >= chunk.limit;
    const items: SourceItem[] = [];
    const source: JsonObject = { connector: this.o.connectorKind };
    for (const row of rows) {
      const key = keyOf(chunk.schema, row);
      if (skip.has(JSON.stringify(key))) continue;
      items.push({ type: 'event', event: snapshotEvent(chunk.schema, row, key, source, this.startedAt) });
    }
    if (job?.keys) {
      this.jobs.splice(this.jobs.indexOf(job), 1);
    } else if (job) {
      const last = rows.at(-1);
      if (last) job.lastKey = chunk.schema.primaryKey.map((c) => last[c] ?? null);
      if (rows.length > 0) {
        const sample = rows.slice(0, 20);
        const bytes = sample.reduce((n, r) => n + rowBytes(r), 0) / sample.length;
        job.rowBytes = job.rowBytes === null ? bytes : (job.rowBytes + bytes) / 2;
      }
      if (!more) {
        this.jobs.splice(this.jobs.indexOf(job), 1);
        this.done.add(job.table);
        const lastItem = items.at(-1);
        if (lastItem?.type === 'event') lastItem.event.snapshot = this.jobs.length === 0 ? 'last' : true;
        this.o.logger.info('snapshot of a table done', { table: job.table });
        this.o.onTableDone(job.table);
      }
    }
    chunk.settlePlaced('placed');
    return items;
  }

  private nextJob(): Job | null {
    return this.jobs.find((j) => !j.reading) ?? null;
  }

  private wake(): void {
    const waiters = this.wakeReaders;
    this.wakeReaders = [];
    for (const w of waiters) w();
  }

  private waitForWork(): Promise<void> {
    return new Promise((resolve) => {
      const onAbort = () => resolve();
      this.o.signal.addEventListener('abort', onAbort, { once: true });
      this.wakeReaders.push(() => {
        this.o.signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  private async runReader(): Promise<void> {
    const { signal, logger } = this.o;
    let reader: ChunkReader | null = null;
    let attempt = 0;
    try {
      while (!signal.aborted) {
        const job = this.nextJob();
        if (!job) {
          await this.waitForWork();
          continue;
        }
        job.reading = true;
        try {
          reader ??= await abortable(this.o.openReader(), [signal]);
          const outcome = await this.readOne(reader, job);
          attempt = 0;
          if (outcome === 'gone') this.jobs.splice(this.jobs.indexOf(job), 1);
        } catch (err) {
          if (signal.aborted) break;
          if (!this.o.isRetriable(err)) {
            this.o.onFatal(err);
            break;
          }
          attempt++;
          const delayMs = backoffDelay(attempt, { minMs: this.o.reconnectMinMs, maxMs: this.o.reconnectMaxMs });
          logger.warn('a snapshot chunk read failed; reading it again', {
            table: job.table,
            error: err instanceof Error ? err.message : String(err),
            attempt,
            delayMs,
          });
          const broken = reader;
          reader = null;
          await broken?.close().catch(() => undefined);
          await sleep(delayMs, signal).catch(() => undefined);
        } finally {
          job.reading = false;
          this.wake();
        }
      }
    } finally {
      await reader?.close().catch(() => undefined);
    }
  }

  /** Reads one chunk of a job and waits until the stream placed it. */
  private async readOne(reader: ChunkReader, job: Job): Promise<'placed' | 'retry' | 'gone'> {
    const schema = this.schemas.get(job.table);
    if (!schema) {
      this.o.logger.warn('a table to snapshot is no longer captured; skipping it', { table: job.table });
      return 'gone';
    }
    if (schema.primaryKey.length === 0) {
      throw new FerryError(
        'FERRY_PREFLIGHT',
        `cannot snapshot ${job.table}: it has no primary key, no NOT NULL unique index and no source.keyColumns; ` +
          'add a primary key, or name NOT NULL unique columns in source.keyColumns',
      );
    }
    if (!job.started) {
      job.started = true;
      const estimated = await abortable(reader.estimateRows(schema), [this.o.signal]).catch(() => 0);
      this.o.onTableStart(job.table, estimated);
      this.o.logger.info(job.lastKey ? 'resuming the snapshot of a table' : 'snapshotting a table', {
        table: job.table,
        estimatedRows: estimated,
        ...(job.lastKey ? { afterKey: job.lastKey } : {}),
      });
    }
    const chunk = this.newChunk(job, schema);
    this.chunks.set(chunk.id, chunk);
    try {
      const request = { id: chunk.id, table: schema, afterKey: job.lastKey, limit: chunk.limit };
      const result = await abortable(reader.readChunk(job.keys ? { ...request, keys: job.keys } : request), [
        this.o.signal,
      ]);
      chunk.result = result;
      chunk.settleRead(result);
    } catch (err) {
      this.chunks.delete(chunk.id);
      chunk.settleRead(null);
      reader.forget?.(chunk.id);
      throw err;
    }
    return abortable(chunk.placed, [this.o.signal]);
  }

  private newChunk(job: Job, schema: TableSchema): Chunk {
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
      round: job.round ?? 0,
      table: job.table,
      schema,
      limit: job.keys ? job.keys.length : chunkLimit(this.o.chunkSize, this.o.chunkBytes, job.rowBytes),
      requestSeq: this.recent.seq,
      changed: new Set(),
      invalid: false,
      result: null,
      read,
      settleRead,
      placed,
      settlePlaced,
    };
  }
}

function keyOf(schema: TableSchema, row: Row): Row {
  const key: Row = {};
  for (const col of schema.primaryKey) key[col] = row[col] ?? null;
  return key;
}

function snapshotEvent(schema: TableSchema, row: Row, key: Row, source: JsonObject, tsMs: number): ChangeEvent {
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
