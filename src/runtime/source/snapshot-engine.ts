import type {
  ChangeEvent,
  ChunkReader,
  JsonValue,
  Logger,
  SnapshotProgress,
  SourceItem,
  StoredSourceOffset,
  TableSchema,
} from '../../api/index.js';
import { FerryError, tableName } from '../../api/index.js';
import { abortable, backoffDelay, sleep } from '../retry.js';
import { backfillKey, missedBackfills } from './backfill-history.js';
import type { DirectLoader } from './direct-lane.js';
import { type Chunk, keptRows, keptRowsOnly, newChunk, snapshotItems } from './snapshot-chunk.js';
import { ColumnHistory } from './snapshot-columns.js';
import { type Job, SnapshotJobs } from './snapshot-jobs.js';
import { chunkLimit, RecentChanges, rowBytes, streamedKeys } from './snapshot-window.js';

/**
 * What the engine passes on in stream order: the stream's items, and a gate where the direct lane
 * writes a chunk (items.ts: nothing after it is published before the write settled).
 */
export type StreamItem = SourceItem | { type: 'gate'; until: Promise<ChangeEvent[]> };

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
  /** The direct lane (`source.snapshotTransport: direct`): chunks are written into the target, not published. */
  direct?: DirectLoader;
  /** Rows of a chunk written by the direct lane. */
  onDirectRows?(table: string, rows: number): void;
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
  private readonly work: SnapshotJobs;
  private readonly schemas = new Map<string, TableSchema>();
  /** Direct-lane writes under way, and the placements waiting for one to end. */
  private directLoads = 0;
  private directWaiters: Array<() => void> = [];
  /** Per table: every column name a published version had (the schema history), see noteSchema. */
  private readonly history = new ColumnHistory();
  private readonly chunks = new Map<string, Chunk>();
  private readonly recent = new RecentChanges(50_000);
  private readonly startedAt = Date.now();
  private wakeReaders: Array<() => void> = [];
  private readers: Promise<void>[] = [];

  constructor(opts: SnapshotEngineOptions) {
    this.o = opts;
    this.work = new SnapshotJobs(opts.logger);
  }

  /** Tables known at the start (discover) and what the stored offset says (null: a new pipeline). */
  init(
    tables: TableSchema[],
    stored: StoredSourceOffset | null,
    initialSnapshot: boolean,
    reborn: readonly string[] = [],
  ): void {
    for (const t of tables) {
      this.schemas.set(tableName(t), t);
      this.history.remember(t);
    }
    this.work.init(tables, stored, initialSnapshot);
    // Another table under a captured name since the stop: read it as a new table.
    for (const name of reborn) {
      if (!stored || !this.work.captured.has(name)) continue;
      this.o.logger.info('a table under a captured name is another table than before the stop: snapshotting it', {
        table: name,
      });
      this.work.restart(name);
    }
  }

  /**
   * The schema versions published before (`<pipeline>.__schemas`, in topic order): the columns
   * tables ever had, and the backfills after ADD COLUMN a stop kept from being recorded, which are
   * queued now (backfill-history.ts). `resumed`: the source resumes a stored position (a new
   * pipeline reads what it needs anyway).
   */
  seedHistory(schemas: readonly TableSchema[], resumed = true): void {
    for (const s of schemas) {
      this.history.remember(s);
      this.o.direct?.noteSchema(s);
    }
    if (!resumed) return;
    const current = [...this.schemas.values()];
    for (const b of missedBackfills(schemas, current, this.work.backfilled)) {
      this.work.backfilled.add(b.key);
      if (!this.work.captured.has(b.table) || !this.schemas.has(b.table)) continue;
      this.o.logger.info('added columns whose old rows the target cannot fill, not read yet: reading the table again', {
        table: b.table,
        columns: b.columns,
      });
      this.work.restart(b.table);
    }
    this.wake();
  }

  /** Whether any table is still to read. */
  get active(): boolean {
    return this.work.jobs.length > 0;
  }

  get signals(): string | undefined {
    return this.work.signalsOffset;
  }

  /**
   * Queues a repair: the rows with these keys are read again and placed like a chunk (a sink met
   * an update with UNCHANGED columns for a row it does not hold). Returns the unknown table, if so.
   */
  requestKeys(table: string, keys: JsonValue[][], signalsOffset?: string): string[] {
    if (signalsOffset !== undefined) this.work.signalsOffset = signalsOffset;
    if (!this.schemas.has(table)) return [table];
    this.work.addKeys(table, keys);
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
      this.work.restart(t);
      this.o.logger.info('snapshot requested', { table: t });
    }
    if (signalsOffset !== undefined) this.work.signalsOffset = signalsOffset;
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
  async transform(item: SourceItem): Promise<StreamItem[]> {
    switch (item.type) {
      case 'event':
        this.noteEvent(item.event);
        return [item];
      case 'schema':
        this.noteSchema(item.schema, item.backfill);
        return [item];
      case 'watermark':
        return this.place(item.id);
      case 'checkpoint':
        return [item];
    }
  }

  /** The stored offset for a stream position, with the snapshot progress that belongs to it. */
  decorate(offset: StoredSourceOffset): StoredSourceOffset {
    return this.work.decorate(offset);
  }

  progress(): SnapshotProgress {
    return this.work.progress();
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

  private noteSchema(schema: TableSchema, added: string[] | undefined): void {
    const name = tableName(schema);
    // Another table under the name of a renamed one (docs/schema-changes.md): read it as a new table.
    const prev = this.schemas.get(name);
    const reborn =
      prev !== undefined &&
      prev.incarnation !== schema.incarnation &&
      !schema.renamedFrom &&
      this.work.captured.has(name);
    const backfill = reborn ? [] : [...new Set([...(added ?? []), ...this.history.readded(schema, prev)])];
    this.schemas.set(name, schema);
    this.history.remember(schema);
    this.o.direct?.noteSchema(schema);
    for (const chunk of this.chunks.values()) {
      if (chunk.table === name && chunk.schema.version !== schema.version) chunk.invalid = true;
    }
    if (backfill.length > 0 && this.work.captured.has(name)) {
      this.work.backfilled.add(backfillKey(schema));
      // Rows that existed before the change hold values the target cannot derive: read them again.
      this.o.logger.info('added columns whose old rows the target cannot fill: reading the table again', {
        table: name,
        columns: backfill,
      });
      this.work.restart(name);
      this.wake();
    }
    if (reborn) {
      this.o.logger.info('a new table has the name of a renamed one: snapshotting it', { table: name });
      this.work.restart(name);
      this.wake();
    }
    if (!this.work.captured.has(name)) {
      this.work.captured.add(name);
      this.o.logger.info('a new table is captured: snapshotting it', { table: name });
      this.work.addTable(name);
      this.wake();
    }
  }

  /** The chunk's rows at its watermark (minus the keys the stream changed meanwhile). */
  private async place(id: string): Promise<StreamItem[]> {
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
    const skip = streamedKeys(chunk, result, this.recent);
    if (!skip) {
      chunk.settlePlaced('retry');
      return [];
    }
    const job = this.work.jobs.includes(chunk.job) && chunk.job.round === chunk.round ? chunk.job : undefined;
    const rows = result.rows;
    const more = !chunk.job.keys && rows.length >= chunk.limit;
    let items: SourceItem[] = [];
    let gate: StreamItem | null = null;
    /** The snapshot marker of the table's last event, once known (set below). */
    let lastMark: true | 'last' | null = null;
    // The direct lane writes the chunk into the target at its watermark: a gate holds everything
    // the stream read after it until the write committed (direct-lane.ts), while the stream reads
    // on and the next chunk is written beside it. Repairs, and chunks the lane could not write, go
    // through Kafka, in the gate's place.
    const loaded = this.o.direct && !chunk.job.keys ? keptRowsOnly(chunk.schema, rows, skip) : null;
    if (this.o.direct && loaded && loaded.length > 0) {
      const direct = this.o.direct;
      await this.directSlot();
      const inChunk = () => {
        const events = snapshotItems(
          chunk.schema,
          keptRows(chunk.schema, rows, skip),
          this.o.connectorKind,
          this.startedAt,
        );
        const last = events.at(-1);
        if (last?.type === 'event' && lastMark !== null) last.event.snapshot = lastMark;
        return events.flatMap((it) => (it.type === 'event' ? [it.event] : []));
      };
      this.directLoads++;
      const until = direct
        .load(chunk.schema, loaded)
        .catch(() => false)
        .then((ok) => {
          if (!ok) return inChunk();
          this.o.onDirectRows?.(chunk.table, loaded.length);
          return [];
        })
        .finally(() => {
          this.directLoads--;
          this.wakeDirect();
        });
      gate = { type: 'gate', until };
    } else if (!loaded) {
      items = snapshotItems(chunk.schema, keptRows(chunk.schema, rows, skip), this.o.connectorKind, this.startedAt);
    }
    if (job?.keys) {
      this.work.remove(job);
    } else if (job) {
      const last = rows.at(-1);
      if (last) job.lastKey = chunk.schema.primaryKey.map((c) => last[c] ?? null);
      if (rows.length > 0) {
        const sample = rows.slice(0, 20);
        const bytes = sample.reduce((n, r) => n + rowBytes(r), 0) / sample.length;
        job.rowBytes = job.rowBytes === null ? bytes : (job.rowBytes + bytes) / 2;
      }
      if (!more) {
        const tableDone = this.work.lastRange(job);
        this.work.remove(job);
        if (tableDone) {
          this.work.done.add(job.table);
          lastMark = this.work.jobs.length === 0 ? 'last' : true;
          const lastItem = items.at(-1);
          if (lastItem?.type === 'event') lastItem.event.snapshot = lastMark;
          this.o.logger.info('snapshot of a table done', { table: job.table });
          this.o.onTableDone(job.table);
        }
      }
    }
    chunk.settlePlaced('placed');
    return gate ? [gate] : items;
  }

  /** Waits until fewer direct-lane writes than `parallelism` are under way. */
  private async directSlot(): Promise<void> {
    while (this.directLoads >= Math.max(1, this.o.parallelism)) {
      await abortable(new Promise<void>((resolve) => this.directWaiters.push(resolve)), [this.o.signal]);
    }
  }

  private wakeDirect(): void {
    const waiters = this.directWaiters;
    this.directWaiters = [];
    for (const w of waiters) w();
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
        const job = this.work.next();
        if (!job) {
          await this.waitForWork();
          continue;
        }
        job.reading = true;
        try {
          reader ??= await abortable(this.o.openReader(), [signal]);
          const outcome = await this.readOne(reader, job);
          attempt = 0;
          if (outcome === 'gone') this.work.remove(job);
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
      // A whole table (not resumed, not a range or a repair) is read up to its highest key now.
      const whole = job.lastKey === null && job.until === null && !job.keys;
      if (whole && reader.maxKey) job.until = await abortable(reader.maxKey(schema), [this.o.signal]);
      const estimated = await abortable(reader.estimateRows(schema), [this.o.signal]).catch(() => 0);
      this.o.onTableStart(job.table, estimated);
      this.o.logger.info(job.lastKey ? 'resuming the snapshot of a table' : 'snapshotting a table', {
        table: job.table,
        estimatedRows: estimated,
        ...(job.lastKey ? { afterKey: job.lastKey } : {}),
      });
      if (whole) await this.splitForReaders(reader, job, schema, estimated);
    }
    const limit = job.keys ? job.keys.length : chunkLimit(this.o.chunkSize, this.o.chunkBytes, job.rowBytes);
    const chunk = newChunk(job, schema, limit, this.recent.seq);
    this.chunks.set(chunk.id, chunk);
    try {
      const request = {
        id: chunk.id,
        table: schema,
        afterKey: job.lastKey,
        limit: chunk.limit,
        ...(job.until ? { until: job.until } : {}),
      };
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

  /**
   * A whole table large enough for several readers is cut into key ranges they read at once
   * (when the connector can tell where: a single integer key column).
   */
  private async splitForReaders(reader: ChunkReader, job: Job, schema: TableSchema, estimated: number): Promise<void> {
    const parts = Math.min(this.o.parallelism, Math.floor(estimated / Math.max(1, this.o.chunkSize)));
    if (parts < 2 || !reader.keyBounds) return;
    const end = job.until ? BigInt(String(job.until[0])) : null;
    // Rows inserted since the table's highest key was taken may widen the range: cut only below it.
    const bounds = (await abortable(reader.keyBounds(schema, parts), [this.o.signal])).filter(
      (b) => end === null || BigInt(String(b[0])) < end,
    );
    if (bounds.length === 0) return;
    this.work.split(job, bounds);
    this.o.logger.info('reading a table in key ranges at once', { table: job.table, ranges: bounds.length + 1 });
    this.wake();
  }
}
