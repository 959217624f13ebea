/**
 * The sink runtime (docs/sinks.md): drives any SinkConnector from Kafka.
 *
 * - One kafkajs consumer in the group `group`, subscribed to the pipeline's data topics. Several
 *   processes in one group share the partitions (sink-consumer.ts).
 * - Offsets live in the target: on every (re)assignment the runtime reads them
 *   (connector.readOffsets) and seeks each partition there; records below them are skipped
 *   (sink-partitions.ts).
 * - Batches cross partitions: the batches kafkajs fetched together are applied in ONE target
 *   transaction with their next offsets (up to `batchSize` events), after per-key reduction
 *   (sink-batcher.ts, sink-apply.ts). Kafka group offsets are committed afterwards, for lag tools only.
 * - Each apply carries the offsets it expects to find (an optimistic fence): if another process
 *   of the group applied a partition meanwhile, nothing is written and the state is re-read.
 * - Connection errors are retried with backoff without moving on (sink-retry.ts); a record the
 *   target rejects for a data reason is isolated by splitting the batch and sent to
 *   `<pipeline>.dlq`; auth, privilege and schema errors stop the runtime with a clear FerryError.
 * This file holds the lifecycle (run, stop, failure, cleanup) and wires those pieces together.
 */
import type { Admin } from 'kafkajs';
import { FerryError, isFerryError, type Logger, type SinkContext } from '../../api/index.js';
import { ensureTopics } from '../../kafka/admin.js';
import { createRecordProducer, type RecordProducer } from '../../kafka/producer.js';
import { dlqTopic, isDataTopic, signalsTopic } from '../../kafka/topics.js';
import { SinkApplier } from './apply.js';
import { ChunkBatcher } from './batcher.js';
import { SinkConsumer } from './consumer.js';
import { RecordDecoder } from './decode.js';
import { FencedError, StoppedError } from './errors.js';
import { SinkLag } from './metrics.js';
import { checkSinkRuntimeOptions, DEFAULT_BATCH_BYTES, type SinkRuntimeOptions } from './options.js';
import { PartitionStates } from './partitions.js';
import { RenameBarriers } from './rename-barrier.js';
import { createWithRetry, type WithRetry } from './retry.js';
import { SchemaCache } from './schemas.js';

export { isDataError } from './errors.js';
export type { SinkRuntimeOptions } from './options.js';

export class SinkRuntime {
  private readonly o: SinkRuntimeOptions;
  private readonly logger: Logger;
  private readonly dlq: boolean;
  private readonly abort = new AbortController();
  private readonly schemas: SchemaCache;
  private readonly withRetry: WithRetry;
  private readonly states: PartitionStates;
  private readonly batcher: ChunkBatcher;
  private readonly lag: SinkLag;
  private readonly consumer: SinkConsumer;
  private stopping = false;
  private fatal: FerryError | null = null;
  private wakeMain: (() => void) | null = null;
  private running: Promise<void> | null = null;
  private admin: Admin | null = null;
  private producer: RecordProducer | null = null;

  constructor(opts: SinkRuntimeOptions) {
    checkSinkRuntimeOptions(opts);
    this.o = opts;
    const logger = opts.logger.child({ component: 'sink', pipeline: opts.pipeline, group: opts.group });
    this.logger = logger;
    const batchSize = opts.batchSize ?? 5000;
    const batchBytes = opts.batchBytes ?? DEFAULT_BATCH_BYTES;
    const lingerMs = opts.lingerMs ?? 50;
    this.dlq = opts.dlq ?? true;
    this.schemas = new SchemaCache(opts.kafka, opts.pipeline, logger);
    const decoder = new RecordDecoder(
      opts.targetNamespace
        ? { schemas: this.schemas, targetNamespace: opts.targetNamespace }
        : { schemas: this.schemas },
    );
    const { connector, metrics } = opts;
    const withRetry = createWithRetry({ ...opts, logger, signal: this.abort.signal });
    this.withRetry = withRetry;
    const admin = () => this.admin!;
    const states = new PartitionStates({ connector, admin, withRetry, logger, metrics });
    this.states = states;
    const applier = new SinkApplier({
      pipeline: opts.pipeline,
      connector,
      decoder,
      states,
      withRetry,
      logger,
      metrics,
      dlq: this.dlq,
      producer: () => this.producer,
    });
    this.lag = new SinkLag({
      metrics,
      logger,
      appliedFrom: (tp) => states.startOf(tp),
      ready: () => states.load(),
      fetchOffsets: (topic) => admin().fetchTopicOffsets(topic),
    });
    this.batcher = new ChunkBatcher({
      batchSize,
      batchBytes,
      lingerMs,
      stateOf: (tp) => states.stateOf(tp),
      apply: (records, heartbeat) => applier.process(records, heartbeat),
      onError: (err) => this.onApplyError(err),
      afterFlush: () => this.lag.update(),
    });
    this.consumer = new SinkConsumer({
      ...opts,
      batchSize,
      batchBytes,
      lingerMs,
      fixedTopics: opts.topics !== undefined,
      resolveTopics: () => this.resolveTopics(),
      admin,
      withRetry,
      logger,
      control: {
        stopping: () => this.stopping,
        failed: () => this.fatal !== null,
        fail: (err) => this.fail(err),
        pause: (ms) => this.pause(ms),
        wake: () => this.wakeMain?.(),
      },
      states,
      batcher: this.batcher,
      lag: this.lag,
      renames: new RenameBarriers({ connector, admin, withRetry, logger }),
    });
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
      await this.prepareTopics();
      await this.withRetry('reading the schemas topic', () => this.schemas.refresh());
      this.lag.start();
      let idleLogged = false;
      while (!this.stopping && !this.fatal) {
        const topics = await this.withRetry('listing topics', () => this.resolveTopics());
        if (topics.length === 0) {
          if (!idleLogged) this.logger.info('no data topics of the pipeline yet; waiting for them');
          idleLogged = true;
          await this.pause(this.o.topicRefreshMs ?? 30_000);
          continue;
        }
        const dead = await this.consumer.consume(topics);
        if (dead && !this.stopping) await this.pause(this.o.retryMinMs ?? 1000);
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

  /** A batch was not applied: a fence re-reads the stored offsets; anything but stop() is fatal. */
  private onApplyError(err: unknown): void {
    if (err instanceof FencedError) {
      this.logger.warn('stored offsets moved under this process; re-reading them', { reason: err.message });
      this.states.forget();
    } else if (!(err instanceof StoppedError)) {
      this.fail(err);
    }
  }

  private async cleanup(): Promise<void> {
    this.batcher.close();
    this.lag.stop();
    await this.consumer.disconnect();
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

  /**
   * The dead-letter topic (when enabled) and the source's signals topic (repairs,
   * docs/snapshots.md#repair), and the producer that writes to them.
   */
  private async prepareTopics(): Promise<void> {
    const admin = this.admin!;
    let rf = this.o.dlqReplicationFactor;
    if (rf === undefined) {
      const cluster = await this.withRetry('describing the Kafka cluster', () => admin.describeCluster());
      rf = Math.min(3, Math.max(1, cluster.brokers.length));
    }
    const replicationFactor = rf;
    const topics = [
      ...(this.dlq ? [{ topic: dlqTopic(this.o.pipeline), partitions: 1, replicationFactor }] : []),
      { topic: signalsTopic(this.o.pipeline), partitions: 1, replicationFactor },
    ];
    await this.withRetry('creating the dead-letter and signals topics', () => ensureTopics(admin, topics));
    this.producer = await this.withRetry('connecting the producer', () => createRecordProducer(this.o.kafka));
  }

  private async resolveTopics(): Promise<string[]> {
    if (this.o.topics) return [...this.o.topics].sort();
    const all = await this.admin!.listTopics();
    return all.filter((t) => isDataTopic(this.o.pipeline, t)).sort();
  }
}
