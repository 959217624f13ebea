/**
 * The sink runtime in transaction mode (`sink.consistency: transaction`, docs/transactions.md).
 *
 * - One kafkajs consumer in the group, with an assigner that gives every partition to ONE member
 *   (the other processes of the group are standbys): it reads every data topic and
 *   `<pipeline>.__transactions`.
 * - Records are decoded as they arrive and handed to the assembler; an apply loop takes whole
 *   source transactions (and snapshot rows) from it in commit order and applies each unit in one
 *   target transaction with the offsets it covers. Offsets live only in the target: on every
 *   assignment they are read again and every partition is sought there.
 * - A fence (another process applied meanwhile) re-reads the offsets and starts over from them.
 */
import type { Admin, Consumer, EachBatchPayload } from 'kafkajs';
import { FerryError, isFerryError, type Logger, type SinkContext } from '../../../api/index.js';
import { ensureTopics } from '../../../kafka/admin.js';
import { createRecordProducer, type RecordProducer } from '../../../kafka/producer.js';
import { singleActiveAssigner } from '../../../kafka/single-assigner.js';
import { dlqTopic, isDataTopic, transactionsTopic } from '../../../kafka/topics.js';
import { type InRecord, inRecord, RecordDecoder } from '../decode.js';
import { FencedError, StoppedError } from '../errors.js';
import { EpochTracker, reportStale } from '../leader-epoch.js';
import type { SinkRuntimeOptions } from '../options.js';
import { createWithRetry, type WithRetry } from '../retry.js';
import { SchemaCache } from '../schemas.js';
import { appliedTopic, splitTopic, UnitApplier } from './apply.js';
import { type EndRecord, TransactionAssembler, type Unit } from './assembler.js';
import { ParallelScheduler, writeSetOf } from './parallel.js';

export interface TransactionSinkOptions extends SinkRuntimeOptions {
  /** A source transaction with more events is applied in pieces (row mode). Default 100 000. */
  maxTransactionEvents?: number;
  /**
   * Units applied at once on their own target connections (docs/transactions.md#parallel-apply);
   * 1: one at a time. Default 4. A connector without `parallelApply` applies one at a time.
   */
  applyParallelism?: number;
  /** Parallel apply: the longest a statement waits for a row lock before the serial fallback, ms. Default 5000. */
  lockWaitMs?: number;
}

export class TransactionSinkRuntime {
  private readonly o: TransactionSinkOptions;
  private readonly logger: Logger;
  private readonly abort = new AbortController();
  private readonly withRetry: WithRetry;
  private readonly schemas: SchemaCache;
  private readonly decoder: RecordDecoder;
  private readonly txTopic: string;
  private readonly batchSize: number;
  private admin: Admin | null = null;
  private producer: RecordProducer | null = null;
  private consumer: Consumer | null = null;
  private assembler: TransactionAssembler | null = null;
  private applier: UnitApplier | null = null;
  /** Stale-epoch records of a former active source instance (leader-epoch.ts), per assembler. */
  private epochs = new EpochTracker();
  private scheduler: ParallelScheduler | null = null;
  /** Schema versions of the units scheduled since the last load (a new one makes a barrier). */
  private knownSchemas = new Set<string>();
  /** Units to apply one at a time before going parallel again (after a failure in parallel). */
  private serialLeft = 0;
  private readonly parallelism: number;
  /** Most units in flight at once, and serial fallbacks, over the process's life (logged at the end). */
  private peakInFlight = 0;
  private fallbacks = 0;
  private generation = 0;
  private partitionCounts = new Map<string, number>();
  private assigned: Record<string, number[]> = {};
  private reload = false;
  private stopping = false;
  private fatal: FerryError | null = null;
  private running: Promise<void> | null = null;
  /** Sleepers of the main loop and of the apply loop / backpressure. */
  private readonly wakers = { main: [] as Array<() => void>, apply: [] as Array<() => void> };
  private dead = false;

  constructor(opts: TransactionSinkOptions) {
    this.o = opts;
    this.logger = opts.logger.child({ component: 'sink', pipeline: opts.pipeline, group: opts.group });
    this.withRetry = createWithRetry({ ...opts, logger: this.logger, signal: this.abort.signal });
    this.schemas = new SchemaCache(opts.kafka, opts.pipeline, this.logger);
    this.decoder = new RecordDecoder(
      opts.targetNamespace
        ? { schemas: this.schemas, targetNamespace: opts.targetNamespace }
        : { schemas: this.schemas },
    );
    this.txTopic = transactionsTopic(opts.pipeline);
    this.batchSize = opts.batchSize ?? 5000;
    this.parallelism = opts.connector.parallelApply ? Math.max(1, opts.applyParallelism ?? 4) : 1;
  }

  run(): Promise<void> {
    if (!this.running) this.running = this.main();
    return this.running;
  }

  async stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      this.logger.info('stopping the sink');
      this.abort.abort(new StoppedError('stopping'));
      this.wake();
    }
    await this.running?.catch(() => undefined);
  }

  private async main(): Promise<void> {
    const ctx: SinkContext = { pipeline: this.o.pipeline, group: this.o.group, logger: this.o.logger };
    const loop = { done: Promise.resolve() };
    try {
      await this.withRetry('connecting to the target', () => this.o.connector.start(ctx));
      this.admin = this.o.kafka.admin();
      await this.withRetry('connecting to Kafka', () => this.admin!.connect());
      await this.prepareTopics();
      await this.withRetry('reading the schemas topic', () => this.schemas.refresh());
      loop.done = this.applyLoop();
      while (!this.stopping && !this.fatal) {
        const topics = await this.withRetry('listing topics', () => this.resolveTopics());
        if (await this.consume(topics)) await this.sleep(this.o.retryMinMs ?? 1000, 'main');
      }
    } catch (err) {
      if (!(err instanceof StoppedError)) this.fail(err);
    } finally {
      this.stopping = true;
      this.wake();
      await loop.done.catch(() => undefined);
      if (this.consumer) await this.consumer.disconnect().catch(() => undefined);
      if (this.producer) await this.producer.disconnect().catch(() => undefined);
      if (this.admin) await this.admin.disconnect().catch(() => undefined);
      await this.o.connector.close().catch(() => undefined);
    }
    if (this.fatal) throw this.fatal;
  }

  /** Consumes until stop(), a failure or a change of topics; true when the consumer died. */
  private async consume(topics: string[]): Promise<boolean> {
    const meta = await this.withRetry('reading topic metadata', () => this.admin!.fetchTopicMetadata({ topics }));
    this.partitionCounts = new Map(meta.topics.map((t) => [t.name, t.partitions.length]));
    this.dead = false;
    const consumer = this.o.kafka.consumer({
      groupId: this.o.group,
      partitionAssigners: [singleActiveAssigner()],
      sessionTimeout: this.o.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: this.o.heartbeatIntervalMs ?? 3000,
      rebalanceTimeout: Math.max(60_000, this.o.sessionTimeoutMs ?? 30_000),
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: Math.max(10, this.o.lingerMs ?? 50),
      maxBytesPerPartition: 4 * 1024 * 1024,
      maxBytes: 32 * 1024 * 1024,
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10_000 },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      this.assigned = e.payload.memberAssignment as Record<string, number[]>;
      const n = Object.values(this.assigned).reduce((s, ps) => s + ps.length, 0);
      this.logger.info(n > 0 ? 'active applier: every partition assigned' : 'standby: another process applies', {
        partitions: n,
      });
      this.requestReload();
    });
    consumer.on(consumer.events.CRASH, (e) => {
      const payload = e.payload as { error: Error; restart: boolean };
      if (!payload.restart && !this.stopping) {
        this.logger.warn('the Kafka consumer stopped; starting a new one', { error: payload.error?.message });
        this.dead = true;
        this.wake();
      }
    });
    const running = () => !this.stopping && !this.fatal && !this.dead;
    try {
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        partitionsConsumedConcurrently: Math.max(1, Math.min(meta.topics.length * 64, 64)),
        eachBatch: (p) => this.eachBatch(p),
      });
      while (running()) {
        await this.sleep(this.o.topicRefreshMs ?? 30_000, 'main');
        if (!running() || this.o.topics) continue;
        const now = await this.resolveTopics().catch(() => topics);
        if (now.join('\n') !== topics.join('\n')) {
          this.logger.info('the set of data topics changed; re-subscribing', { topics: now.length });
          break;
        }
      }
    } catch (err) {
      if (!this.stopping) {
        this.logger.warn('Kafka consumer error; starting a new consumer', { error: (err as Error).message });
        this.dead = true;
      }
    } finally {
      this.consumer = null;
      this.assembler = null;
      await consumer.disconnect().catch(() => undefined);
    }
    return this.dead;
  }

  private requestReload(): void {
    this.generation++;
    this.assembler = null;
    this.reload = true;
    this.wake(false);
  }

  /** Reads the stored offsets, builds a new assembler, and seeks every assigned partition there. */
  private async load(): Promise<void> {
    const txTopic = this.txTopic;
    const topics = [...Object.keys(this.assigned), appliedTopic(txTopic), splitTopic(txTopic)];
    const stored = await this.withRetry('reading the stored offsets', () => this.o.connector.readOffsets(topics));
    const get = (topic: string, partition: number) =>
      stored.find((s) => s.topic === topic && s.partition === partition) ?? null;
    const applied = get(appliedTopic(txTopic), 0);
    const split = get(splitTopic(txTopic), 0);
    const assembler = new TransactionAssembler(
      {
        transactionsTopic: txTopic,
        maxTransactionEvents: this.o.maxTransactionEvents ?? 100_000,
        partitionCount: (topic) => this.partitionCounts.get(topic) ?? 1,
      },
      applied ? BigInt(applied.nextOffset) : null,
      split?.truncateBarrier ? { id: split.truncateBarrier, count: Number(split.nextOffset) } : null,
    );
    const epochs = new EpochTracker();
    for (const [topic, partitions] of Object.entries(this.assigned)) {
      for (const partition of partitions) {
        const s = get(topic, partition);
        assembler.start(topic, partition, s?.nextOffset ?? null);
        epochs.start(topic, partition, s?.nextOffset ?? null, s?.leaderEpoch ?? null);
        this.consumer?.seek({ topic, partition, offset: s?.nextOffset ?? '0' });
      }
    }
    this.applier = new UnitApplier(
      {
        pipeline: this.o.pipeline,
        transactionsTopic: txTopic,
        connector: this.o.connector,
        withRetry: this.withRetry,
        logger: this.logger,
        metrics: this.o.metrics,
        dlq: this.o.dlq ?? true,
        producer: () => this.producer,
        epochAt: (topic, partition, nextOffset) => epochs.epochAt(topic, partition, nextOffset),
      },
      stored,
    );
    this.epochs = epochs;
    this.peakInFlight = Math.max(this.peakInFlight, this.scheduler?.peak ?? 0);
    this.scheduler = new ParallelScheduler(this.parallelism, () => {
      this.o.metrics?.sinkApplyInFlight.set(this.scheduler?.inFlight ?? 0);
      this.wake(false);
    });
    this.knownSchemas = new Set();
    this.assembler = assembler;
  }

  private async eachBatch(p: EachBatchPayload): Promise<void> {
    const { batch } = p;
    for (;;) {
      if (this.stopping || this.fatal || !p.isRunning()) return;
      if (this.assembler && !this.reload) break;
      await this.sleep(50);
    }
    const gen = this.generation;
    const epochs = this.epochs;
    const isTx = batch.topic === this.txTopic;
    const records: InRecord[] = batch.messages.map((m) => inRecord(batch.topic, batch.partition, m));
    // A record of a former active source instance is skipped like a tombstone (an END like a BEGIN).
    const stale = epochs.judge(records);
    for (const r of records) {
      if (stale.has(r)) r.decoded = { kind: 'skip' };
      else if (!isTx) r.decoded = await this.withRetry('decoding records', () => this.decoder.decode(r), p.heartbeat);
    }
    if (p.isStale() || gen !== this.generation || !this.assembler) return;
    const assembler = this.assembler;
    const firstRead = epochs.accept(records);
    const newlyStale = records.filter((r) => stale.has(r) && firstRead.has(r));
    for (const r of records) {
      if (isTx) assembler.addTransaction(r, stale.has(r) ? null : parseEnd(r.value));
      else assembler.addData(r);
    }
    if (newlyStale.length > 0) {
      const end = (BigInt(records[records.length - 1]!.offset) + 1n).toString();
      reportStale(newlyStale, () => epochs.epochAt(batch.topic, batch.partition, end), this.logger, this.o.metrics);
    }
    for (const id of assembler.newlySplit.splice(0)) {
      this.o.metrics?.sinkTransactionsSplit.inc();
      this.logger.warn(
        'a source transaction is larger than sink.maxTransactionEvents; applying it in pieces, like in row mode ' +
          '(a reader of the target may see part of it)',
        { transaction: id, maxTransactionEvents: this.o.maxTransactionEvents ?? 100_000 },
      );
    }
    if (batch.messages.length > 0) p.resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
    this.wake(false);
    // Backpressure: wait while much is held and the apply loop is making progress.
    while (
      assembler.size > this.batchSize * (3 + this.parallelism) &&
      this.busy &&
      gen === this.generation &&
      !this.stopping
    ) {
      await this.sleep(20);
      await p.heartbeat().catch(() => undefined);
    }
  }

  private busy = false;

  private async applyLoop(): Promise<void> {
    try {
      await this.applyUnits();
    } finally {
      // Units in flight finish (commit in order, or roll back) before the connector closes.
      await this.scheduler?.drain();
      this.o.metrics?.sinkApplyInFlight.set(0);
      this.logger.info('apply stopped', {
        applyParallelism: this.parallelism,
        peakUnitsInFlight: Math.max(this.peakInFlight, this.scheduler?.peak ?? 0),
        serialFallbacks: this.fallbacks,
      });
    }
  }

  private async applyUnits(): Promise<void> {
    while (!this.stopping && !this.fatal) {
      try {
        const scheduler = this.scheduler;
        if (scheduler?.failure) {
          await scheduler.drain();
          this.fallBack(scheduler);
          continue;
        }
        if (this.reload) {
          await scheduler?.drain();
          this.reload = false;
          const gen = this.generation;
          await this.load();
          if (gen !== this.generation) continue;
        }
        if (this.scheduler?.full) {
          await this.sleep(1000);
          continue;
        }
        const assembler = this.assembler;
        const unit = assembler?.next(this.batchSize) ?? null;
        if (!unit || !assembler) {
          this.busy = (this.scheduler?.inFlight ?? 0) > 0;
          await this.sleep(1000);
          continue;
        }
        this.busy = true;
        if (this.parallelism > 1 && this.serialLeft === 0) await this.schedule(unit, assembler);
        else {
          await this.scheduler?.drain();
          await this.applier!.apply(unit);
          this.committed(unit, assembler);
          if (this.serialLeft > 0 && --this.serialLeft === 0) {
            this.logger.info('applied again one at a time what failed in parallel; applying in parallel again');
          }
        }
      } catch (err) {
        if (err instanceof StoppedError) return;
        if (err instanceof FencedError) {
          this.logger.warn('stored offsets moved under this process; re-reading them', { reason: err.message });
          this.requestReload();
          continue;
        }
        this.fail(err);
      }
    }
  }

  /** Starts a unit on its own target connection as soon as its write set allows. */
  private async schedule(unit: Unit, assembler: TransactionAssembler): Promise<void> {
    const applier = this.applier!;
    const scheduler = this.scheduler!;
    const prepared = await applier.prepare(unit);
    const writes = writeSetOf(prepared.batch.tables, this.knownSchemas);
    const lockWaitMs = this.o.lockWaitMs ?? 5000;
    scheduler.add(
      writes,
      (beforeCommit) => applier.applyPrepared(prepared, { beforeCommit, lockWaitMs }),
      () => this.committed(unit, assembler),
    );
    this.o.metrics?.sinkApplyInFlight.set(scheduler.inFlight);
  }

  private committed(unit: Unit, assembler: TransactionAssembler): void {
    assembler.commit(unit);
    this.wake(false);
    if (unit.transactions > 0) this.o.metrics?.sinkTransactions.inc(unit.transactions);
  }

  /**
   * A unit failed in parallel: it and every unit after it rolled back (the ones before it
   * committed). They are read again from the stored offsets and applied one at a time, where
   * retries and errors behave as in serial apply; then parallel apply resumes.
   */
  private fallBack(scheduler: ParallelScheduler): void {
    const failure = scheduler.failure!;
    const error = failure.error as Error;
    this.o.metrics?.sinkApplySerialFallbacks.inc();
    this.fallbacks++;
    this.peakInFlight = Math.max(this.peakInFlight, scheduler.peak);
    this.logger.warn(
      'a unit applied in parallel failed; it and the units after it were rolled back and are applied again one at a time',
      { error: error?.message ?? String(error), units: failure.notApplied },
    );
    this.serialLeft = failure.notApplied;
    this.scheduler = null;
    this.requestReload();
  }

  private fail(err: unknown): void {
    if (this.fatal) return;
    const e = isFerryError(err)
      ? err
      : new FerryError('FERRY_INTERNAL', `sink failed: ${(err as Error)?.message ?? err}`, { cause: err });
    this.fatal = e;
    this.o.metrics?.errors.inc({ component: 'sink', code: e.code });
    this.logger.error('the sink stops', { code: e.code, error: e.message });
    this.wake();
  }

  /** Wakes the apply loop (new records, a commit), and with `all` the main loop too. */
  private wake(all = true): void {
    const channels = all ? [this.wakers.main, this.wakers.apply] : [this.wakers.apply];
    for (const c of channels) for (const f of c.splice(0)) f();
  }

  private sleep(ms: number, channel: 'main' | 'apply' = 'apply'): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakers[channel].push(done);
    });
  }

  private async prepareTopics(): Promise<void> {
    const admin = this.admin!;
    const rf = this.o.dlqReplicationFactor ?? 1;
    // The transactions topic as the source creates it (one partition: commit order), so that
    // snapshot rows are applied before the first transaction. A source with
    // source.transactions: false never writes it, and its transactions never complete.
    const topics = [{ topic: this.txTopic, partitions: 1, replicationFactor: rf }];
    if (this.o.dlq ?? true) topics.push({ topic: dlqTopic(this.o.pipeline), partitions: 1, replicationFactor: rf });
    await this.withRetry('creating the transactions and dead-letter topics', () => ensureTopics(admin, topics));
    this.producer = await this.withRetry('connecting the producer', () => createRecordProducer(this.o.kafka));
  }

  private async resolveTopics(): Promise<string[]> {
    const all = await this.admin!.listTopics();
    const data = this.o.topics ? [...this.o.topics] : all.filter((t) => isDataTopic(this.o.pipeline, t));
    return [...data, this.txTopic].sort();
  }
}

/** An END record of the transactions topic; null for BEGIN and anything unreadable. */
export function parseEnd(value: Buffer | null): EndRecord | null {
  if (!value) return null;
  try {
    const v = JSON.parse(value.toString('utf8')) as Record<string, unknown>;
    if (v['status'] !== 'END' || typeof v['id'] !== 'string' || typeof v['event_count'] !== 'number') return null;
    const order = v['commit_order'];
    return {
      id: v['id'],
      eventCount: v['event_count'],
      order: typeof order === 'string' && /^\d+$/.test(order) ? BigInt(order) : null,
    };
  } catch {
    return null;
  }
}
