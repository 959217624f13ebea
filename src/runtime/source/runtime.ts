import { EventEmitter } from 'node:events';
import type {
  Logger,
  SnapshotSession,
  SourceContext,
  SourcePosition,
  StoredSourceOffset,
  TableSchema,
} from '../../api/index.js';
import { FerryError } from '../../api/index.js';
import { BoundedQueue } from '../../api/queue.js';
import { abortable, backoffDelay, sleep } from '../retry.js';
import { type QueueItem, queueItemBytes, type SourceProgress } from './items.js';
import { type ResolvedSourceOptions, resolveSourceOptions, type SourceRuntimeOptions } from './options.js';
import { SourcePublisher } from './publisher.js';
import { readSchemaHistory, reincarnatedTables } from './schema-history.js';
import { readSnapshot } from './snapshot.js';
import type { SnapshotEngine } from './snapshot-engine.js';
import { streamWithSnapshots } from './snapshot-run.js';
import { SourceStartup } from './startup.js';
import { SourceStatus } from './status.js';
import { isReconnectable, streamWithReconnect } from './stream.js';
import { TransactionMarks } from './transactions.js';
import { createKafkaTransport, type SourceTransport } from './transport.js';

export type { SourceRuntimeOptions };

export interface SourceRuntimeEvents {
  progress: [SourceProgress];
  stored: [StoredSourceOffset];
}

/**
 * Drives any SourceConnector into Kafka (docs/delivery.md, docs/snapshots.md): loads the stored
 * position, runs the connector's preflight, creates topics, publishes table schemas, takes or
 * resumes the initial snapshot, then streams; reconnects with backoff from the last stored
 * position; stores a position only after Kafka acknowledged everything before it.
 */
export class SourceRuntime extends EventEmitter<SourceRuntimeEvents> {
  private readonly o: ResolvedSourceOptions;
  private readonly opts: SourceRuntimeOptions;
  private readonly transport: SourceTransport;
  private readonly sourceId: string;
  private readonly log: Logger;
  private readonly abort = new AbortController();
  private readonly hardAbort = new AbortController();
  private readonly queue: BoundedQueue<QueueItem>;
  private readonly status: SourceStatus;
  private readonly startup: SourceStartup;
  private running: Promise<void> | null = null;
  private publishing: Promise<void> | null = null;
  private fatal: unknown = null;
  /** The published table schemas, read at start, and those published since (SourceContext.schemaHistory). */
  private schemaHistory: TableSchema[] | null = null;

  constructor(opts: SourceRuntimeOptions) {
    super();
    if (!opts.transport && !opts.kafka)
      throw new FerryError('FERRY_INTERNAL', 'SourceRuntime needs `kafka` or `transport`');
    this.opts = opts;
    this.o = resolveSourceOptions(opts);
    this.transport =
      opts.transport ?? createKafkaTransport(opts.kafka!, opts.compression ? { compression: opts.compression } : {});
    this.sourceId = opts.sourceId ?? opts.pipeline;
    this.log = opts.logger.child({ component: 'source', pipeline: opts.pipeline });
    this.queue = new BoundedQueue<QueueItem>({
      maxItems: this.o.queueSize,
      maxBytes: this.o.queueBytes,
      sizeOf: queueItemBytes,
    });
    this.status = new SourceStatus(
      opts.metrics,
      (p) => opts.connector.describePosition(p),
      () => this.queue.size,
      () => {
        if (this.listenerCount('progress') > 0) this.emit('progress', this.status.progress());
      },
    );
    this.startup = new SourceStartup({
      pipeline: this.o.pipeline,
      sourceId: this.sourceId,
      connector: this.o.connector,
      transport: this.transport,
      logger: this.log,
      onKafkaWait: (waiting) => this.status.kafkaWaiting(waiting),
      partitions: this.o.partitions,
      replicationFactor: this.o.replicationFactor,
      signal: this.abort.signal,
      ctx: () => this.ctx(),
      ...(opts.kafkaRetryTimeoutMs !== undefined ? { kafkaRetryTimeoutMs: opts.kafkaRetryTimeoutMs } : {}),
      transactions: this.o.transactions,
    });
    if (opts.signal) {
      if (opts.signal.aborted) this.abort.abort();
      else opts.signal.addEventListener('abort', () => void this.stop(), { once: true });
    }
  }

  /** Runs until stop() (resolves) or a non-retriable error (rejects with it). */
  run(): Promise<void> {
    if (!this.running) this.running = this.main();
    return this.running;
  }

  /**
   * Graceful stop: stop reading, flush Kafka, store the last acknowledged position (and hand it
   * to the connector while its stream is still open), close. Waits (backoff, reconnects, a
   * full queue, a connection attempt, a failing Kafka) end at once; publishing what is queued
   * may take until `stopTimeoutMs`, then the rest is given up (read again on the next start).
   */
  async stop(): Promise<void> {
    if (!this.abort.signal.aborted) {
      this.log.info('stopping the source');
      this.status.setPhase('stopping');
      this.abort.abort();
    }
    const timer = setTimeout(() => this.hardAbort.abort(), this.o.stopTimeoutMs);
    try {
      await this.running?.catch(() => undefined);
    } finally {
      clearTimeout(timer);
    }
  }

  progress(): SourceProgress {
    return this.status.progress();
  }

  /**
   * Ends the runtime at once, publishing and storing nothing more (what is queued is dropped):
   * a source.failover instance that lost the lead (src/runtime/source/leader.ts). run() rejects with `err`.
   */
  fence(err: FerryError): void {
    this.fail(err, false);
  }

  /** The last position stored in Kafka by this process (null before the first). */
  storedOffset(): StoredSourceOffset | null {
    return this.status.lastStored;
  }

  private get stopping(): boolean {
    return this.abort.signal.aborted;
  }

  private ctx(): SourceContext {
    const { pipeline, filter } = this.o;
    const warn: SourceContext['warn'] = (code, message, fields) => this.status.warn(this.log, code, message, fields);
    return {
      pipeline,
      logger: this.log,
      filter,
      signal: this.abort.signal,
      warn,
      ...(this.schemaHistory ? { schemaHistory: [...this.schemaHistory] } : {}),
    };
  }

  private async main(): Promise<void> {
    const publisher = this.createPublisher();
    try {
      await this.startAndStream(publisher);
    } catch (err) {
      if (this.fatal) {
        // Failed on the publishing side already.
      } else if (this.stopping && err === this.abort.signal.reason) {
        // A wait or a connection attempt that the stop cut short: not a failure.
        this.log.info('stopped without waiting for the source database or Kafka to answer');
      } else if (this.stopping && isReconnectable(err)) {
        this.log.info('stopped while the source database or Kafka was failing', {
          error: err instanceof Error ? err.message : String(err),
        });
      } else {
        // A reading-side error: what is queued is still published and its position stored.
        this.fail(err, true);
      }
    }
    await this.shutdown();
    if (this.fatal) throw this.fatal;
  }

  /** Waits for `p` until the stop (then rejects with the stop's reason; `p` goes on unobserved). */
  private untilStopped<T>(p: Promise<T>, onLate?: (value: T) => void): Promise<T> {
    return abortable(p, [this.abort.signal], onLate);
  }

  /** Publishes what is queued and stores the last position; the publisher ends. Idempotent. */
  private async finishPublishing(): Promise<void> {
    this.queue.close();
    if (this.publishing) await this.publishing;
  }

  /** Loads, checks, creates topics, starts publishing, snapshots, then streams until stopping. */
  private async startAndStream(publisher: SourcePublisher): Promise<void> {
    const connector = this.o.connector;
    const stored = await this.loadOffset();
    await this.startup.preflight(stored);
    if (this.stopping) return;
    if (this.opts.resnapshot) await this.startup.forgetOffset();
    this.schemaHistory = await this.untilStopped(readSchemaHistory(this.transport, this.o.pipeline, this.log));
    const tables = await this.untilStopped(connector.discover(this.ctx()));
    // Judged on the history as read, before this start publishes the tables' schemas.
    const reborn = stored ? reincarnatedTables(this.schemaHistory ?? [], tables) : [];
    await this.startup.createTopics(tables, publisher);
    this.publishing = publisher.run().catch((err: unknown) => this.fail(err, false));
    for (const schema of tables) await this.queue.put({ kind: 'schema', schema }, this.abort.signal);

    if (connector.openChunkReader) {
      await this.streamWithSnapshots(tables, stored, reborn);
      return;
    }
    let from: SourcePosition | null = stored?.position ?? null;
    if ((stored === null && this.o.snapshot === 'initial') || stored?.phase === 'snapshot') {
      from = await this.snapshotWithRetry(stored);
    } else if (stored === null) {
      from = await this.currentPosition();
    }
    if (this.stopping || from === null) return;
    this.status.setPhase('stream');
    await this.streamFrom(from);
  }

  /** Watermarked snapshots beside the stream (snapshot-run.ts). */
  private streamWithSnapshots(
    tables: TableSchema[],
    stored: StoredSourceOffset | null,
    reborn: readonly string[],
  ): Promise<void> {
    return streamWithSnapshots(
      {
        o: this.o,
        log: this.log,
        queue: this.queue,
        status: this.status,
        transport: this.transport,
        stopSignal: this.abort.signal,
        ctx: () => this.ctx(),
        currentPosition: () => this.currentPosition(),
        untilStopped: (p) => this.untilStopped(p),
        fail: (err) => this.fail(err, true),
        streamFrom: (from, engine) => this.streamFrom(from, engine),
        direct: this.opts.directLane,
      },
      tables,
      stored,
      reborn,
    );
  }

  private async streamFrom(from: SourcePosition, engine?: SnapshotEngine): Promise<void> {
    const connector = this.o.connector;
    await streamWithReconnect({
      connector,
      ctx: (({ signal: _, ...rest }) => rest)(this.ctx()),
      from,
      queue: this.queue,
      logger: this.log,
      minMs: this.o.reconnectMinMs,
      maxMs: this.o.reconnectMaxMs,
      stopSignal: this.abort.signal,
      hardSignal: this.hardAbort.signal,
      flush: () => this.finishPublishing(),
      setConnected: (c) => this.status.setConnected(c),
      lastStored: () => this.status.lastStored,
      onError: (err) => this.status.error(err),
      onEvent: (event, commitTsMs) => this.status.read(event, commitTsMs),
      ...(this.o.transactions ? { transactions: new TransactionMarks() } : {}),
      ...(engine ? { snapshots: engine } : {}),
    });
  }

  /**
   * Takes (or resumes) the initial snapshot; on a retriable error, waits until everything queued
   * is stored and resumes from the stored progress with a new view. Returns where streaming
   * starts, or null when stopped before the end.
   */
  private async snapshotWithRetry(stored: StoredSourceOffset | null): Promise<SourcePosition | null> {
    let resumeFrom = stored;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.snapshot(resumeFrom);
      } catch (err) {
        if (this.stopping || !isReconnectable(err)) throw err;
        this.status.error(err);
        const delayMs = backoffDelay(attempt, { minMs: this.o.reconnectMinMs, maxMs: this.o.reconnectMaxMs });
        this.log.warn('the snapshot failed; resuming it from the stored progress', {
          error: err instanceof Error ? err.message : String(err),
          attempt,
          delayMs,
        });
        await this.untilStopped(
          new Promise<void>((done) => {
            this.queue.put({ kind: 'barrier', done }, this.abort.signal).catch(() => done());
          }),
        ).catch(() => undefined);
        if (this.stopping) return null;
        if (this.status.lastStored?.phase === 'snapshot') resumeFrom = this.status.lastStored;
        await sleep(delayMs, this.abort.signal).catch(() => undefined);
        if (this.stopping) return null;
      }
    }
  }

  private async snapshot(stored: StoredSourceOffset | null): Promise<SourcePosition | null> {
    this.status.setPhase('snapshot');
    const session = await this.openSnapshot();
    let cutShort = false;
    try {
      const streamFrom = stored?.position ?? session.position;
      this.log.info(stored ? 'resuming the initial snapshot' : 'taking the initial snapshot', {
        viewPosition: this.o.connector.describePosition(session.position),
        streamFrom: this.o.connector.describePosition(streamFrom),
        tables: session.tables.length,
      });
      const outcome = await readSnapshot({
        session,
        connectorKind: this.o.connector.kind,
        streamFrom,
        ...(stored?.snapshot ? { resume: stored.snapshot } : {}),
        chunkSize: this.o.chunkSize,
        queue: this.queue,
        logger: this.log,
        signal: this.abort.signal,
        onTableStart: (table, estimated) => this.status.tableStarted(table, estimated),
      });
      return outcome === 'complete' ? streamFrom : null;
    } catch (err) {
      if (err !== this.abort.signal.reason) throw err;
      cutShort = true; // a query the stop did not wait for
      return null;
    } finally {
      const closing = session
        .close()
        .catch((err: unknown) => this.log.warn('closing the snapshot view failed', { error: String(err) }));
      // A read the stop cut short may hang on a database that is down: do not wait for its view.
      if (!cutShort) await abortable(closing, [this.hardAbort.signal]).catch(() => undefined);
    }
  }

  /** connector.openSnapshot(), until the stop; a view that opens after all is closed again. */
  private openSnapshot(): Promise<SnapshotSession> {
    return this.untilStopped(this.o.connector.openSnapshot(this.ctx()), (late) => {
      late.close().catch(() => undefined);
    });
  }

  /**
   * Nothing stored: the position of a view opened and closed at once. The stream starts there;
   * with `snapshot: initial` the watermarked chunks read the tables beside it.
   */
  private async currentPosition(): Promise<SourcePosition> {
    const session = await this.openSnapshot();
    await session.close();
    const chunks = this.o.snapshot === 'initial' && this.o.connector.openChunkReader !== undefined;
    this.log.info(
      chunks
        ? 'no stored position: streaming from the current position, the snapshot in chunks beside it'
        : 'no stored position and snapshot is never: streaming from the current position',
      { position: this.o.connector.describePosition(session.position) },
    );
    return session.position;
  }

  private async loadOffset(): Promise<StoredSourceOffset | null> {
    if (this.opts.resnapshot) return null;
    const stored = await this.startup.loadOffset();
    if (stored) this.status.lastStored = stored;
    return stored;
  }

  private createPublisher(): SourcePublisher {
    const connector = this.o.connector;
    return new SourcePublisher({
      pipeline: this.o.pipeline,
      sourceId: this.sourceId,
      connectorKind: connector.kind,
      describePosition: (p) => connector.describePosition(p),
      transport: this.transport,
      queue: this.queue,
      logger: this.log,
      ...(this.opts.metrics ? { metrics: this.opts.metrics } : {}),
      onKafkaWait: (waiting) => this.status.kafkaWaiting(waiting),
      tombstones: this.o.tombstones,
      partitions: this.o.partitions,
      replicationFactor: this.o.replicationFactor,
      maxBatchEvents: this.o.maxBatchEvents,
      maxBatchBytes: this.o.maxBatchBytes,
      offsetDelayMs: this.o.offsetDelayMs,
      signal: this.hardAbort.signal,
      stopSignal: this.abort.signal,
      ...(this.opts.kafkaRetryTimeoutMs !== undefined ? { kafkaRetryTimeoutMs: this.opts.kafkaRetryTimeoutMs } : {}),
      ...(this.opts.kafkaRetryMaxDelayMs !== undefined ? { kafkaRetryMaxDelayMs: this.opts.kafkaRetryMaxDelayMs } : {}),
      onStored: (offset) => {
        this.status.stored(offset);
        this.emit('stored', offset);
      },
      onPublished: (events) => this.status.published(events),
      onSchemaPublished: (schema) => this.schemaHistory?.push(schema),
      ...(connector.acknowledge ? { acknowledge: (p) => connector.acknowledge!(p) } : {}),
    });
  }

  /** Records a fatal error and stops reading; `drain`: still publish what is queued. */
  private fail(err: unknown, drain: boolean): void {
    if (this.fatal) return;
    this.fatal = err;
    this.status.error(err);
    this.log.error('the source stopped on an error', {
      code: err instanceof FerryError ? err.code : undefined,
      error: err instanceof Error ? err.message : String(err),
    });
    this.status.setPhase('failed');
    this.abort.abort();
    if (drain) return;
    this.hardAbort.abort();
    for (const item of this.queue.clear()) if (item.kind === 'barrier') item.done();
    this.queue.close();
  }

  private async shutdown(): Promise<void> {
    await this.finishPublishing();
    this.status.setConnected(false);
    // Closing is bounded by the stop timeout: a connection to a server that stopped answering
    // is left behind rather than holding the stop up.
    const bounded = (what: string, p: Promise<void>) =>
      abortable(p, [this.hardAbort.signal]).catch((err: unknown) =>
        this.log.warn(`closing ${what} failed`, { error: err instanceof Error ? err.message : String(err) }),
      );
    await bounded('the connector', this.o.connector.close());
    await bounded('Kafka', this.transport.close());
    if (this.opts.metrics) this.opts.metrics.queueDepth = 0;
    if (!this.fatal) {
      this.status.setPhase('stopped');
      this.log.info('source stopped', {
        position: this.status.lastStored ? this.o.connector.describePosition(this.status.lastStored.position) : null,
      });
    }
  }
}
