/**
 * The sink runtime (docs/sinks.md): drives any SinkConnector from Kafka.
 *
 * - One kafkajs consumer in the group `group`, subscribed to the pipeline's data topics. Several
 *   processes in one group share the partitions.
 * - Offsets live in the target: on every (re)assignment the runtime reads them
 *   (connector.readOffsets) and seeks each partition there; records below them are skipped.
 * - Batches cross partitions: the batches kafkajs fetched together are applied in ONE target
 *   transaction with their next offsets (up to `batchSize` events), after per-key reduction.
 *   Kafka group offsets are committed afterwards, for lag tools only.
 * - Each apply carries the offsets it expects to find (an optimistic fence): if another process
 *   of the group applied a partition meanwhile, nothing is written and the state is re-read.
 * - Connection errors are retried with backoff without moving on; a record the target rejects
 *   for a data reason is isolated by splitting the batch and sent to `<pipeline>.dlq`; auth,
 *   privilege and schema errors stop the runtime with a clear FerryError.
 */
import type { Admin, Batch, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import {
  type ErrorCode,
  FerryError,
  isFerryError,
  type Logger,
  type SinkBatch,
  type SinkConnector,
  type SinkContext,
} from '../api/index.js';
import { ensureTopics } from '../kafka/admin.js';
import { createRecordProducer, type RecordProducer } from '../kafka/producer.js';
import { dlqTopic, isDataTopic } from '../kafka/topics.js';
import type { FerryMetrics } from '../metrics/metrics.js';
import { retry } from './retry.js';
import { type PartitionState, planBarriers, tpKey } from './sink-barrier.js';
import { type InRecord, RecordDecoder } from './sink-decode.js';
import { type DeadLetter, sendDeadLetters } from './sink-dlq.js';
import { reduceEvents, schemasOf } from './sink-reduce.js';
import { SchemaCache } from './sink-schemas.js';

export interface SinkRuntimeOptions {
  pipeline: string;
  /** Consumer group; offsets in the target are kept per group. One group per pipeline and target. */
  group: string;
  connector: SinkConnector;
  kafka: Kafka;
  logger: Logger;
  metrics?: FerryMetrics;
  /** Most events applied in one target transaction. Default 5000. */
  batchSize?: number;
  /** How long a fetch may wait for more data, and a batch for more partitions, ms. Default 50. */
  lingerMs?: number;
  /** Send poison records to `<pipeline>.dlq` (default true); false: stop on the first one. */
  dlq?: boolean;
  /** Retries of a failing target or Kafka call before the runtime stops; 0 or unset: retry forever. */
  maxRetries?: number;
  /** Topics to consume; default every data topic of the pipeline (not internal, not the DLQ), re-checked every topicRefreshMs. */
  topics?: string[];
  /** Puts every table in this database/schema instead of its source one. */
  targetNamespace?: string;
  /** Kafka group session timeout, ms. Default 30 000. */
  sessionTimeoutMs?: number;
  /** Kafka heartbeat interval, ms. Default 3000. */
  heartbeatIntervalMs?: number;
  /** How often new data topics are looked for, ms. Default 30 000. */
  topicRefreshMs?: number;
  /** Backoff of retries, ms. Default 250 .. 10 000. */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** Replication factor of the DLQ topic when ferry creates it; default min(3, brokers). */
  dlqReplicationFactor?: number;
}

interface ChunkItem {
  tp: string;
  records: InRecord[];
  /** The committed state the chunk was cut against. */
  expected: PartitionState | undefined;
  heartbeat: () => Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** The stored offsets moved under us (another process of the group, or an unknown commit outcome). */
class FencedError extends Error {}
/** The chunk was cut against a state this process has changed since; refetch it. */
class StaleError extends Error {}
/** stop() was called while waiting to retry. */
class StoppedError extends Error {}

const DATA_CODES = new Set<ErrorCode>(['FERRY_APPLY', 'FERRY_ENCODE', 'FERRY_DECODE']);

/** A data error: the target (or the value conversion) rejected a row; splitting the batch isolates it. */
export function isDataError(err: unknown): err is FerryError {
  return isFerryError(err) && !err.retriable && DATA_CODES.has(err.code);
}

/** The offset kafkajs asked for (its Batch has it; the typings do not). */
function fetchedOffset(batch: Batch): string {
  return (batch as Batch & { fetchedOffset?: string }).fetchedOffset ?? batch.firstOffset() ?? '0';
}

function sameState(a: PartitionState | undefined, b: PartitionState | undefined): boolean {
  return (
    (a?.nextOffset ?? null) === (b?.nextOffset ?? null) && (a?.truncateBarrier ?? null) === (b?.truncateBarrier ?? null)
  );
}

export class SinkRuntime {
  private readonly o: SinkRuntimeOptions;
  private readonly logger: Logger;
  private readonly batchSize: number;
  private readonly lingerMs: number;
  private readonly dlq: boolean;
  private readonly abort = new AbortController();
  private readonly schemas: SchemaCache;
  private readonly decoder: RecordDecoder;
  private stopping = false;
  private fatal: FerryError | null = null;
  private wakeMain: (() => void) | null = null;
  private running: Promise<void> | null = null;
  private admin: Admin | null = null;
  private producer: RecordProducer | null = null;
  private consumer: Consumer | null = null;
  private consumerDead = false;
  private topics: string[] = [];
  private readonly partitionCounts = new Map<string, number>();

  // Per assignment.
  private stateLoad: Promise<void> | null = null;
  private readonly committed = new Map<string, PartitionState>();
  private readonly lowWatermarks = new Map<string, bigint>();
  private readonly highWatermarks = new Map<string, bigint>();
  private readonly validated = new Set<string>();
  private readonly sought = new Set<string>();

  // Batching across partitions.
  private pending: ChunkItem[] = [];
  private active = 0;
  private flushing = false;
  private flushQueued = false;
  private lingerTimer: NodeJS.Timeout | null = null;

  constructor(opts: SinkRuntimeOptions) {
    if (!opts.pipeline) throw new FerryError('FERRY_CONFIG_INVALID', 'SinkRuntime: pipeline is required');
    if (!opts.group) throw new FerryError('FERRY_CONFIG_INVALID', 'SinkRuntime: group is required');
    if (opts.batchSize !== undefined && !(opts.batchSize >= 1)) {
      throw new FerryError('FERRY_CONFIG_INVALID', 'SinkRuntime: batchSize must be at least 1');
    }
    this.o = opts;
    this.logger = opts.logger.child({ component: 'sink', pipeline: opts.pipeline, group: opts.group });
    this.batchSize = opts.batchSize ?? 5000;
    this.lingerMs = opts.lingerMs ?? 50;
    this.dlq = opts.dlq ?? true;
    this.schemas = new SchemaCache(opts.kafka, opts.pipeline, this.logger);
    this.decoder = new RecordDecoder(
      opts.targetNamespace
        ? { schemas: this.schemas, targetNamespace: opts.targetNamespace }
        : { schemas: this.schemas },
    );
  }

  /** Runs until stop() (resolves) or a fatal error (rejects with a FerryError). */
  run(): Promise<void> {
    if (!this.running) this.running = this.main();
    return this.running;
  }

  /** Graceful stop: the batch being applied finishes and commits; then everything disconnects. */
  async stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      this.logger.info('stopping the sink');
      this.abort.abort(new StoppedError('stopping'));
      this.wakeMain?.();
    }
    await this.running?.catch(() => undefined);
  }

  private async main(): Promise<void> {
    const ctx: SinkContext = { pipeline: this.o.pipeline, group: this.o.group, logger: this.o.logger };
    try {
      await this.withRetry('connecting to the target', () => this.o.connector.start(ctx));
      this.admin = this.o.kafka.admin();
      await this.withRetry('connecting to Kafka', () => this.admin!.connect());
      if (this.dlq) await this.prepareDlq();
      await this.withRetry('reading the schemas topic', () => this.schemas.refresh());
      let idleLogged = false;
      while (!this.stopping && !this.fatal) {
        const topics = await this.withRetry('listing topics', () => this.resolveTopics());
        if (topics.length === 0) {
          if (!idleLogged) this.logger.info('no data topics of the pipeline yet; waiting for them');
          idleLogged = true;
          await this.pause(this.o.topicRefreshMs ?? 30_000);
          continue;
        }
        await this.consume(topics);
        if (this.consumerDead && !this.stopping) await this.pause(this.o.retryMinMs ?? 1000);
      }
    } catch (err) {
      if (!(err instanceof StoppedError)) this.fail(err);
    } finally {
      await this.cleanup();
    }
    if (this.fatal) throw this.fatal;
  }

  private fail(err: unknown): void {
    if (this.fatal) return;
    const e = isFerryError(err)
      ? err
      : new FerryError('FERRY_INTERNAL', `sink failed: ${(err as Error)?.message ?? err}`, { cause: err });
    this.fatal = e;
    this.o.metrics?.errors.inc({ component: 'sink', code: e.code });
    this.logger.error('the sink stops', { code: e.code, error: e.message });
    this.wakeMain?.();
  }

  private async cleanup(): Promise<void> {
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    const c = this.consumer;
    this.consumer = null;
    if (c) await c.disconnect().catch(() => undefined);
    if (this.producer) await this.producer.disconnect().catch(() => undefined);
    if (this.admin) await this.admin.disconnect().catch(() => undefined);
    await this.o.connector.close().catch(() => undefined);
  }

  /** Sleeps `ms`, or less when stop() or a failure wakes the main loop. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeMain = done;
    });
  }

  private async prepareDlq(): Promise<void> {
    const admin = this.admin!;
    let rf = this.o.dlqReplicationFactor;
    if (rf === undefined) {
      const cluster = await this.withRetry('describing the Kafka cluster', () => admin.describeCluster());
      rf = Math.min(3, Math.max(1, cluster.brokers.length));
    }
    const replicationFactor = rf;
    await this.withRetry('creating the dead-letter topic', () =>
      ensureTopics(admin, [{ topic: dlqTopic(this.o.pipeline), partitions: 1, replicationFactor }]),
    );
    this.producer = await this.withRetry('connecting the dead-letter producer', () =>
      createRecordProducer(this.o.kafka),
    );
  }

  private async resolveTopics(): Promise<string[]> {
    if (this.o.topics) return [...this.o.topics].sort();
    const all = await this.admin!.listTopics();
    return all.filter((t) => isDataTopic(this.o.pipeline, t)).sort();
  }

  private async consume(topics: string[]): Promise<void> {
    this.topics = topics;
    const meta = await this.withRetry('reading topic metadata', () => this.admin!.fetchTopicMetadata({ topics }));
    let partitions = 0;
    for (const t of meta.topics) {
      this.partitionCounts.set(t.name, t.partitions.length);
      partitions += t.partitions.length;
    }
    this.consumerDead = false;
    const consumer = this.o.kafka.consumer({
      groupId: this.o.group,
      sessionTimeout: this.o.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: this.o.heartbeatIntervalMs ?? 3000,
      rebalanceTimeout: Math.max(60_000, this.o.sessionTimeoutMs ?? 30_000),
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: Math.max(10, this.lingerMs),
      minBytes: 64 * 1024,
      maxBytesPerPartition: 4 * 1024 * 1024,
      maxBytes: 32 * 1024 * 1024,
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10_000 },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      const assignment = e.payload.memberAssignment as Record<string, number[]>;
      this.onAssignment(assignment);
    });
    consumer.on(consumer.events.CRASH, (e) => {
      const payload = e.payload as { error: Error; restart: boolean };
      if (!payload.restart && !this.stopping) {
        this.logger.warn('the Kafka consumer stopped; starting a new one', { error: payload.error?.message });
        this.consumerDead = true;
        this.wakeMain?.();
      }
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: Math.max(1, Math.min(partitions, 64)),
        eachBatch: (payload) => this.eachBatch(payload),
      });
      this.logger.info('consuming', { topics: topics.length, partitions });
      while (!this.stopping && !this.fatal && !this.consumerDead) {
        await this.pause(this.o.topicRefreshMs ?? 30_000);
        if (this.stopping || this.fatal || this.consumerDead || this.o.topics) continue;
        const now = await this.resolveTopics().catch(() => topics);
        if (now.join('\n') !== topics.join('\n')) {
          this.logger.info('the set of data topics changed; re-subscribing', { topics: now.length });
          break;
        }
      }
    } catch (err) {
      if (!this.stopping) {
        this.logger.warn('Kafka consumer error; starting a new consumer', { error: (err as Error).message });
        this.consumerDead = true;
      }
    } finally {
      this.consumer = null;
      await consumer.disconnect().catch(() => undefined);
    }
  }

  private onAssignment(assignment: Record<string, number[]>): void {
    const count = Object.values(assignment).reduce((n, ps) => n + ps.length, 0);
    this.logger.info('partitions assigned', { partitions: count });
    this.stateLoad = null;
    this.validated.clear();
    this.sought.clear();
    this.highWatermarks.clear();
    for (const [topic, ps] of Object.entries(assignment)) {
      for (const p of ps) this.highWatermarks.set(tpKey(topic, p), 0n);
    }
  }

  /** Reads the stored offsets and barriers of the subscribed topics, and their low/high watermarks (once per assignment). */
  private loadState(): Promise<void> {
    if (!this.stateLoad) {
      const load = (async () => {
        const stored = await this.withRetry('reading stored offsets', () => this.o.connector.readOffsets(this.topics));
        this.committed.clear();
        for (const s of stored) {
          this.committed.set(tpKey(s.topic, s.partition), {
            nextOffset: s.nextOffset,
            truncateBarrier: s.truncateBarrier ?? null,
          });
        }
        for (const topic of this.topics) {
          const offs = await this.withRetry('reading topic offsets', () => this.admin!.fetchTopicOffsets(topic));
          for (const o of offs) this.lowWatermarks.set(tpKey(topic, o.partition), BigInt(o.low));
        }
      })();
      this.stateLoad = load;
      load.catch(() => {
        if (this.stateLoad === load) this.stateLoad = null;
      });
    }
    return this.stateLoad;
  }

  /** Where a partition's unapplied records start: the stored next offset, or the log start. */
  private startOf(tp: string): bigint {
    const low = this.lowWatermarks.get(tp) ?? 0n;
    const next = this.committed.get(tp)?.nextOffset;
    if (next === undefined || next === null) return low;
    const n = BigInt(next);
    return n < low ? low : n;
  }

  /** First batch of a partition in this assignment: true when it starts where the target says; else seeks there. */
  private validate(batch: Batch, tp: string): boolean {
    const start = this.startOf(tp);
    const fetchedText = fetchedOffset(batch);
    const fetched = BigInt(fetchedText);
    const stored = this.committed.get(tp)?.nextOffset;
    if (stored && BigInt(stored) > 0n && BigInt(stored) < (this.lowWatermarks.get(tp) ?? 0n)) {
      this.logger.error(
        'records were deleted from Kafka (retention) before the sink applied them; the target misses them',
        {
          topic: batch.topic,
          partition: batch.partition,
          storedNextOffset: stored,
          logStart: String(this.lowWatermarks.get(tp)),
        },
      );
      this.o.metrics?.errors.inc({ component: 'sink', code: 'FERRY_POSITION_LOST' });
    }
    if (fetched === start || this.sought.has(tp)) {
      this.validated.add(tp);
      return true;
    }
    this.logger.info('seeking to the offset stored in the target', {
      topic: batch.topic,
      partition: batch.partition,
      from: fetchedText,
      to: String(start),
    });
    this.sought.add(tp);
    this.consumer?.seek({ topic: batch.topic, partition: batch.partition, offset: String(start) });
    return false;
  }

  private async eachBatch(p: EachBatchPayload): Promise<void> {
    const { batch } = p;
    if (this.stopping || this.fatal) return;
    this.active++;
    const tp = tpKey(batch.topic, batch.partition);
    try {
      try {
        await this.loadState();
      } catch (err) {
        if (!(err instanceof StoppedError)) this.fail(err);
        return;
      }
      this.highWatermarks.set(tp, BigInt(batch.highWatermark));
      if (!this.validated.has(tp) && !this.validate(batch, tp)) return;
      const start = this.startOf(tp);
      const records: InRecord[] = [];
      let lastSkipped: string | null = null;
      for (const m of batch.messages) {
        if (BigInt(m.offset) < start) {
          lastSkipped = m.offset;
          continue;
        }
        records.push({ topic: batch.topic, partition: batch.partition, offset: m.offset, key: m.key, value: m.value });
      }
      if (lastSkipped !== null) p.resolveOffset(lastSkipped);
      for (let i = 0; i < records.length; i += this.batchSize) {
        if (!p.isRunning() || p.isStale() || this.stopping || this.fatal) return;
        const chunk = records.slice(i, i + this.batchSize);
        try {
          await this.submit(tp, chunk, p.heartbeat);
        } catch (err) {
          if (err instanceof StaleError) this.validated.delete(tp);
          else if (!(err instanceof FencedError || err instanceof StoppedError || this.fatal)) {
            this.logger.warn('a batch was not applied; it will be fetched again', { error: (err as Error).message });
          }
          return;
        }
        const last = chunk[chunk.length - 1]!.offset;
        p.resolveOffset(last);
        await this.commitKafka(p, batch.topic, batch.partition, (BigInt(last) + 1n).toString());
        await p.heartbeat();
      }
    } finally {
      this.active--;
      this.scheduleFlush();
    }
  }

  /** Kafka group offsets, for lag tools only (the target holds the real ones). */
  private async commitKafka(p: EachBatchPayload, topic: string, partition: number, offset: string): Promise<void> {
    try {
      await p.commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset }] }] });
    } catch (err) {
      this.logger.debug('could not commit Kafka group offsets (only used by lag tools)', {
        error: (err as Error).message,
      });
    }
  }

  // ---- batching across partitions ----

  private submit(tp: string, records: InRecord[], heartbeat: () => Promise<void>): Promise<void> {
    return new Promise((resolve, reject) => {
      const state = this.committed.get(tp);
      this.pending.push({ tp, records, expected: state ? { ...state } : undefined, heartbeat, resolve, reject });
      this.scheduleFlush();
    });
  }

  private pendingSize(): number {
    return this.pending.reduce((n, it) => n + it.records.length, 0);
  }

  private scheduleFlush(): void {
    if (this.flushing || this.pending.length === 0 || this.flushQueued) return;
    // Flush at once when the batch is full or every running partition handler is waiting for it.
    if (this.pendingSize() >= this.batchSize || this.pending.length >= this.active) {
      this.flushQueued = true;
      setImmediate(() => {
        this.flushQueued = false;
        void this.flush();
      });
      return;
    }
    if (!this.lingerTimer) {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = null;
        void this.flush();
      }, this.lingerMs);
    }
  }

  private async flush(): Promise<void> {
    if (this.flushing || this.pending.length === 0) return;
    if (this.lingerTimer) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = null;
    }
    this.flushing = true;
    const taken: ChunkItem[] = [];
    let size = 0;
    while (this.pending.length > 0) {
      const next = this.pending[0]!;
      if (taken.length > 0 && size + next.records.length > this.batchSize) break;
      taken.push(this.pending.shift()!);
      size += next.records.length;
    }
    const fresh: ChunkItem[] = [];
    for (const it of taken) {
      if (sameState(this.committed.get(it.tp), it.expected)) fresh.push(it);
      else it.reject(new StaleError('the partition state changed since the chunk was cut'));
    }
    try {
      if (fresh.length > 0) {
        await this.process(
          fresh.flatMap((it) => it.records),
          fresh[0]!.heartbeat,
        );
      }
      for (const it of fresh) it.resolve();
    } catch (err) {
      if (err instanceof FencedError) {
        this.logger.warn('stored offsets moved under this process; re-reading them', { reason: err.message });
        this.stateLoad = null;
        this.validated.clear();
        this.sought.clear();
      } else if (!(err instanceof StoppedError)) {
        this.fail(err);
      }
      for (const it of fresh) it.reject(err);
    } finally {
      this.flushing = false;
      this.updateLag();
      this.scheduleFlush();
    }
  }

  // ---- applying ----

  private async process(records: InRecord[], heartbeat: () => Promise<void>): Promise<void> {
    const letters: DeadLetter[] = [];
    for (const r of records) {
      if (!r.decoded) r.decoded = await this.withRetry('decoding records', () => this.decoder.decode(r), heartbeat);
      if (r.decoded.kind === 'poison' && !r.dlqSent) {
        letters.push(
          r.decoded.label
            ? { record: r, error: r.decoded.error, table: r.decoded.label }
            : { record: r, error: r.decoded.error },
        );
      }
    }
    await this.deadLetter(letters, heartbeat);
    await this.applyRecords(records, heartbeat);
  }

  private async deadLetter(letters: DeadLetter[], heartbeat: () => Promise<void>): Promise<void> {
    if (letters.length === 0) return;
    const first = letters[0]!;
    if (!this.dlq || !this.producer) {
      throw new FerryError(
        'FERRY_APPLY',
        `${first.record.topic}[${first.record.partition}]@${first.record.offset} cannot be applied and the dead-letter ` +
          `topic is disabled: ${first.error.message}`,
        { cause: first.error },
      );
    }
    await this.withRetry(
      'sending to the dead-letter topic',
      () => sendDeadLetters(this.producer!, this.o.pipeline, letters),
      heartbeat,
    );
    for (const d of letters) {
      d.record.dlqSent = true;
      this.o.metrics?.dlqEvents.inc({ table: d.table ?? d.record.topic });
      this.logger.warn('sent a record to the dead-letter topic', {
        topic: d.record.topic,
        partition: d.record.partition,
        offset: d.record.offset,
        code: d.error.code,
        reason: d.error.message,
      });
    }
  }

  /**
   * Applies records (ordered per partition) and their offsets in one transaction. On a data
   * error the records are split in halves, each applied on its own, down to the single record
   * the target rejects, which goes to the dead-letter topic.
   */
  private async applyRecords(records: InRecord[], heartbeat: () => Promise<void>): Promise<void> {
    if (records.length === 0) return;
    const plan = planBarriers(
      records.map((r) => ({
        topic: r.topic,
        partition: r.partition,
        ...(r.decoded?.kind === 'event' && r.decoded.truncateId ? { truncateId: r.decoded.truncateId } : {}),
      })),
      (topic, partition) => this.committed.get(tpKey(topic, partition)),
      (topic) => this.partitionCounts.get(topic) ?? 1,
    );
    const kept = records.filter((r, i) => plan.keep[i] && r.decoded?.kind === 'event');
    const events = kept.map((r) => (r.decoded as Extract<InRecord['decoded'], { kind: 'event' }>).event);
    const tables = reduceEvents(events);
    const batch = this.batchFor(records, tables, plan.barrierAfter, plan.barriers);
    const started = process.hrtime.bigint();
    try {
      await this.withRetry(
        'applying a batch',
        async () => {
          for (const schema of schemasOf(tables)) await this.o.connector.ensureTable(schema);
          await this.o.connector.apply(batch);
        },
        heartbeat,
      );
    } catch (err) {
      if (!isDataError(err) || !this.dlq) throw err;
      if (records.length === 1) {
        const r = records[0]!;
        const label = r.decoded?.kind === 'event' ? r.decoded.label : undefined;
        await this.deadLetter([label ? { record: r, error: err, table: label } : { record: r, error: err }], heartbeat);
        const skip = this.batchFor(records, [], new Map(), []);
        await this.withRetry('storing offsets', () => this.o.connector.apply(skip), heartbeat);
        this.committedAfter(skip);
        return;
      }
      const mid = Math.ceil(records.length / 2);
      this.logger.debug('a batch has a rejected row; splitting it', { records: records.length, error: err.message });
      await this.applyRecords(records.slice(0, mid), heartbeat);
      await this.applyRecords(records.slice(mid), heartbeat);
      return;
    }
    this.committedAfter(batch);
    this.observe(kept, Number(process.hrtime.bigint() - started) / 1e9);
  }

  /** The SinkBatch of some records: their tables, the next offset of each partition, barriers and the fence. */
  private batchFor(
    records: InRecord[],
    tables: SinkBatch['tables'],
    barrierAfter: Map<string, string | null>,
    barriers: NonNullable<SinkBatch['barriers']>,
  ): SinkBatch {
    const last = new Map<string, InRecord>();
    for (const r of records) last.set(tpKey(r.topic, r.partition), r);
    const offsets: SinkBatch['offsets'] = [];
    const expected: NonNullable<SinkBatch['expected']> = [];
    for (const [tp, r] of last) {
      const state = this.committed.get(tp);
      const barrier = barrierAfter.has(tp) ? barrierAfter.get(tp)! : (state?.truncateBarrier ?? null);
      offsets.push({
        topic: r.topic,
        partition: r.partition,
        nextOffset: (BigInt(r.offset) + 1n).toString(),
        truncateBarrier: barrier,
      });
      expected.push({
        topic: r.topic,
        partition: r.partition,
        nextOffset: state?.nextOffset ?? null,
        truncateBarrier: state?.truncateBarrier ?? null,
      });
    }
    return { tables, offsets, barriers, expected };
  }

  private committedAfter(batch: SinkBatch): void {
    for (const b of batch.barriers ?? []) {
      const tp = tpKey(b.topic, b.partition);
      const state = this.committed.get(tp);
      this.committed.set(tp, { nextOffset: state?.nextOffset ?? '0', truncateBarrier: b.truncateBarrier });
    }
    for (const o of batch.offsets) {
      this.committed.set(tpKey(o.topic, o.partition), {
        nextOffset: o.nextOffset,
        truncateBarrier: o.truncateBarrier ?? null,
      });
    }
  }

  private observe(kept: InRecord[], seconds: number): void {
    const m = this.o.metrics;
    if (!m) return;
    m.sinkBatchSeconds.observe(seconds);
    const counts = new Map<string, { table: string; op: string; n: number }>();
    const now = Date.now();
    let newest = m.lastSinkCommitMs ?? 0;
    for (const r of kept) {
      if (r.decoded?.kind !== 'event') continue;
      const { event, label } = r.decoded;
      const k = `${label}\u0000${event.op}`;
      const c = counts.get(k) ?? { table: label, op: event.op, n: 0 };
      c.n++;
      counts.set(k, c);
      if (event.tsMs > 0) {
        m.endToEndSeconds.observe(Math.max(0, (now - event.tsMs) / 1000));
        if (event.tsMs > newest) newest = event.tsMs;
      }
    }
    for (const c of counts.values()) m.sinkAppliedEvents.inc({ table: c.table, op: c.op }, c.n);
    if (newest > 0) m.lastSinkCommitMs = newest;
  }

  private updateLag(): void {
    const m = this.o.metrics;
    if (!m) return;
    let pending = 0n;
    for (const [tp, high] of this.highWatermarks) {
      const lag = high - this.startOf(tp);
      if (lag > 0n) pending += lag;
    }
    m.sinkPendingEvents = Number(pending);
  }

  /**
   * Retries retriable failures with backoff (forever unless maxRetries), heartbeating the group
   * meanwhile; a fence becomes FencedError, stop() a StoppedError, anything else is thrown.
   */
  private async withRetry<T>(what: string, fn: () => Promise<T>, heartbeat?: () => Promise<void>): Promise<T> {
    let timer: NodeJS.Timeout | null = null;
    if (heartbeat) {
      timer = setInterval(() => {
        heartbeat().catch(() => undefined);
      }, this.o.heartbeatIntervalMs ?? 3000);
    }
    try {
      return await retry(fn, {
        retries: this.o.maxRetries ? this.o.maxRetries : Number.POSITIVE_INFINITY,
        minMs: this.o.retryMinMs ?? 250,
        maxMs: this.o.retryMaxMs ?? 10_000,
        signal: this.abort.signal,
        shouldRetry: (err) =>
          isFerryError(err)
            ? err.retriable && err.details['fenced'] !== true
            : (err as { retriable?: unknown })?.retriable === true,
        onRetry: (err, attempt, delayMs) => {
          const code = isFerryError(err) ? err.code : 'FERRY_INTERNAL';
          this.o.metrics?.errors.inc({ component: 'sink', code });
          this.logger.warn(`${what} failed; retrying`, { attempt, delayMs, code, error: (err as Error).message });
        },
      });
    } catch (err) {
      if (this.abort.signal.aborted) throw new StoppedError('stopped while retrying');
      if (isFerryError(err) && err.details['fenced'] === true) throw new FencedError(err.message);
      if ((err as { retriable?: unknown })?.retriable === true) {
        throw new FerryError(
          'FERRY_CONNECTION',
          `${what}: gave up after ${this.o.maxRetries} retries: ${(err as Error).message}`,
          {
            cause: err,
          },
        );
      }
      throw err;
    } finally {
      if (timer) clearInterval(timer);
    }
  }
}
