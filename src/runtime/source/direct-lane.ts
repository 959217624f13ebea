/**
 * The direct snapshot lane (`source.snapshotTransport: direct`, docs/snapshots.md#direct-lane):
 * the rows of a snapshot chunk are written straight into the target by the source process, at
 * the chunk's place in the stream, instead of being published to Kafka for the sink. The change
 * stream still flows through Kafka.
 *
 * Why the target converges as with the Kafka lane: a chunk is written (and committed) before
 * anything the stream read after its watermark is published (the engine puts a gate in the
 * stream there, which the publisher waits at; the stream reads on and the next chunk's write runs
 * beside it, on another connection), so the sink can only apply, after
 * the chunk, changes from before the watermark (each of them is then followed by the later ones
 * of its key, up to the state the chunk holds) or from after it (newer than the chunk). Rows whose
 * keys changed inside the chunk's window are left out of it, as on the Kafka lane.
 */
import {
  isFerryError,
  type KnownRenames,
  type Logger,
  type Row,
  renamesOf,
  type SinkConnector,
  type TableSchema,
  tableName,
} from '../../api/index.js';
import { isDataError } from '../sink/errors.js';
import { type SourceKind, sourceKindOf, targetSchema } from '../target-schema.js';

/** What the snapshot engine needs of a direct lane. */
export interface DirectLoader {
  /**
   * Writes the rows (full images, distinct keys) into the target and commits. false: nothing was
   * written (the target refused them or could not be reached); the chunk then goes through Kafka.
   * The engine runs up to `source.snapshotParallelism` of them at once.
   */
  load(schema: TableSchema, rows: Row[]): Promise<boolean>;
  /** A schema version the stream published (or that was published before the start). */
  noteSchema(schema: TableSchema): void;
  /** Waits for the writes under way, then closes the target connections (a later chunk opens them again). */
  close(): Promise<void>;
}

/** Attempts at a chunk before it goes through Kafka, when the target reports a transient conflict. */
const DIRECT_ATTEMPTS = 3;

export interface DirectLaneOptions {
  pipeline: string;
  /** The sink's consumer group (the connector keeps its offsets table per group; the lane writes none). */
  group: string;
  /** `source.connector` of the events: decides the type mapping, as for events from Kafka. */
  sourceConnector: string;
  /** A new connector of the pipeline's target (sink.kind, sink.url), opened on the first chunk. */
  connector(): SinkConnector;
  /** sink.schema / sink.database, when it replaces the source database. */
  targetNamespace?: string;
  logger: Logger;
  /** After a chunk could not be written, the following chunks go through Kafka for this long, ms. Default 10 000. */
  pauseAfterFailureMs?: number;
}

export class DirectLane implements DirectLoader {
  private readonly o: DirectLaneOptions;
  private readonly kind: SourceKind | undefined;
  /** Every schema version seen, in publication order (renames are derived from them). */
  private readonly versions = new Map<string, TableSchema>();
  private renames: KnownRenames | null = null;
  /** Open target connections not in use; a write takes one (or opens one) and gives it back. */
  private idle: SinkConnector[] = [];
  /** Writes under way (close() waits for them). */
  private readonly running = new Set<Promise<boolean>>();
  /** Table creation and evolution, one at a time across the connections (no racing CREATE TABLE). */
  private ddl: Promise<void> = Promise.resolve();
  /** Tables whose chunk went through Kafka since their last direct chunk (one log line each). */
  private readonly fellBack = new Set<string>();
  /** After a failure, chunks go through Kafka until then (a target that is down is not waited for per chunk). */
  private pausedUntil = 0;

  constructor(opts: DirectLaneOptions) {
    this.o = opts;
    this.kind = sourceKindOf(opts.sourceConnector);
  }

  noteSchema(schema: TableSchema): void {
    const key = `${tableName(schema)}\u0000${schema.version}`;
    if (this.versions.has(key)) return;
    this.versions.set(key, schema);
    this.renames = null;
  }

  /**
   * Writes are independent (different chunks hold different keys; the snapshot engine holds what
   * the stream read after a chunk until its write settled), so several may run at once, each on a
   * connection of its own.
   */
  load(schema: TableSchema, rows: Row[]): Promise<boolean> {
    const p = this.write(schema, rows);
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
    return p;
  }

  private async write(schema: TableSchema, rows: Row[]): Promise<boolean> {
    if (rows.length === 0) return true;
    const table = tableName(schema);
    this.noteSchema(schema);
    this.renames ??= renamesOf(this.versions.values());
    const target = targetSchema(schema, schema.sourceKind ?? this.kind, this.renames, this.o.targetNamespace);
    if (Date.now() < this.pausedUntil) return false;
    const started = performance.now();
    const batch = {
      tables: [{ schema: target, truncate: false, upserts: rows, deletes: [], load: true }],
      offsets: [],
    };
    let connector: SinkConnector | null = null;
    for (let attempt = 1; ; attempt++) {
      try {
        connector ??= await this.take();
        const c = connector;
        const ensured = this.ddl.then(() => c.ensureTable(target));
        this.ddl = ensured.catch(() => undefined);
        await ensured;
        await c.apply(batch);
        this.idle.push(c);
        this.o.logger.debug('wrote a snapshot chunk into the target', {
          table,
          rows: rows.length,
          ms: Math.round(performance.now() - started),
        });
        break;
      } catch (err) {
        // A transient conflict with the sink writing the same table (deadlock, lock wait) is
        // tried again at once; a broken connection is opened again first.
        const transient = isFerryError(err) && err.retriable;
        if (transient && err.code === 'FERRY_CONNECTION' && connector) {
          await closeQuietly(connector);
          connector = null;
        }
        if (transient && attempt < DIRECT_ATTEMPTS) continue;
        // Kafka carries the chunk instead: the sink applies it there, retries what is systemic and
        // dead-letters a row the target rejects for a data reason, as for any event.
        if (!this.fellBack.has(table)) {
          this.fellBack.add(table);
          this.o.logger.warn('a snapshot chunk could not be written into the target directly; it goes through Kafka', {
            table,
            rows: rows.length,
            error: err instanceof Error ? err.message : String(err),
          });
        }
        // A row the target rejects says nothing of the next chunk; a connection that failed does.
        if (!isDataError(err)) {
          this.pausedUntil = Date.now() + (this.o.pauseAfterFailureMs ?? 10_000);
          if (connector) await closeQuietly(connector);
          await this.closeIdle();
        } else if (connector) {
          this.idle.push(connector);
        }
        return false;
      }
    }
    if (this.fellBack.delete(table)) this.o.logger.info('snapshot chunks are written directly again', { table });
    return true;
  }

  /** Waits for the writes under way, then closes the target connections (a later chunk opens them again). */
  async close(): Promise<void> {
    await Promise.allSettled([...this.running]);
    await this.closeIdle();
  }

  /** An idle connection, or a new one. */
  private async take(): Promise<SinkConnector> {
    const ready = this.idle.pop();
    if (ready) return ready;
    const connector = this.o.connector();
    try {
      await connector.start({ pipeline: this.o.pipeline, group: this.o.group, logger: this.o.logger });
    } catch (err) {
      await closeQuietly(connector);
      throw err;
    }
    return connector;
  }

  private async closeIdle(): Promise<void> {
    const idle = this.idle;
    this.idle = [];
    await Promise.all(idle.map(closeQuietly));
  }
}

async function closeQuietly(connector: SinkConnector): Promise<void> {
  await connector.close().catch(() => undefined);
}
