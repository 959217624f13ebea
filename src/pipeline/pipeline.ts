import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { Logger } from '../api/index.js';
import { type PipelineConfig, secretsOf, tableFilterOf } from '../config/index.js';
import { redactString } from '../log/index.js';
import type { FerryMetrics } from '../metrics/metrics.js';
import type { SinkRuntime } from '../runtime/sink/runtime.js';
import type { TransactionSinkRuntime } from '../runtime/sink/transactions/runtime.js';
import type { SourceProgress } from '../runtime/source/items.js';
import { FailoverSource } from '../runtime/source/leader.js';
import { SourceRuntime } from '../runtime/source/runtime.js';
import { directLaneFor, sourceConnectorFor } from './connectors.js';
import { kafkaFor, sinkRuntimeFor } from './runtimes.js';
import { type SinkFigures, SinkThread } from './sink-thread.js';
import { checkTlsBeforeStart } from './tls-probe.js';

export { kafkaFor } from './runtimes.js';

export interface PipelineRoles {
  source: boolean;
  sink: boolean;
}

export interface PipelineOptions {
  logger: Logger;
  metrics: FerryMetrics;
  /** Take a new initial snapshot, forgetting the stored source position. */
  resnapshot?: boolean;
  /** How often the sink looks for new data topics, ms (the source creates them). */
  topicRefreshMs?: number;
  /** How long the source may spend flushing to Kafka on stop, ms. */
  stopTimeoutMs?: number;
  /**
   * Source and sink together: run the sink on its own thread (`ferry run`), so each half gets a
   * core. Its log lines go to `writeLog`; its metrics are merged into /metrics (sinkMetrics()).
   */
  sinkThread?: { writeLog(line: string): void; logFormat: 'json' | 'pretty' | 'auto'; isTTY: boolean };
}

/** The source runtime's options from the config (without the Kafka client or transport). */
function sourceRuntimeOptions(config: PipelineConfig, opts: PipelineOptions) {
  return {
    pipeline: config.name,
    partitions: config.kafka.partitions,
    replicationFactor: config.kafka.replicationFactor,
    snapshot: config.source.snapshot,
    chunkSize: config.source.snapshotChunkSize,
    chunkBytes: config.source.snapshotChunkBytes,
    snapshotParallelism: config.source.snapshotParallelism,
    signalsIntervalMs: config.source.signalsIntervalMs,
    queueSize: config.source.queueSize,
    queueBytes: config.source.queueBytes,
    maxBatchEvents: config.kafka.producerBatchEvents,
    maxBatchBytes: config.kafka.producerBatchBytes,
    transactions: config.source.transactions,
    tombstones: config.kafka.tombstones,
    compression: config.kafka.compression,
    ...(config.kafka.retryTimeoutMs !== undefined ? { kafkaRetryTimeoutMs: config.kafka.retryTimeoutMs } : {}),
    filter: tableFilterOf(config),
    logger: opts.logger.child({ role: 'source' }),
    metrics: opts.metrics,
    ...(opts.resnapshot ? { resnapshot: true } : {}),
    ...(opts.stopTimeoutMs ? { stopTimeoutMs: opts.stopTimeoutMs } : {}),
    ...(config.source.snapshotTransport === 'direct' ? { directLane: directLaneFor(config, opts.logger) } : {}),
  };
}

/** The source role: one runtime, or with `source.failover` an instance that runs one while it is the active one. */
function sourceRole(config: PipelineConfig, opts: PipelineOptions): SourceRuntime | FailoverSource {
  const base = sourceRuntimeOptions(config, opts);
  if (!config.source.failover)
    return new SourceRuntime({
      ...base,
      connector: sourceConnectorFor(config),
      kafka: kafkaFor(config, opts.logger, 'source'),
    });
  return new FailoverSource({
    pipeline: config.name,
    sourceId: config.name,
    ...(config.source.instance ? { instance: config.source.instance } : {}),
    sessionTimeoutMs: config.source.failoverSessionTimeoutMs,
    replicationFactor: config.kafka.replicationFactor,
    compression: config.kafka.compression,
    logger: opts.logger.child({ role: 'source' }),
    metrics: opts.metrics,
    kafka: (role, writeGuard) => kafkaFor(config, opts.logger, role, false, writeGuard),
    // --resnapshot applies to the first term only: a later term resumes what the first one stored.
    createRuntime: (() => {
      let first = true;
      return (transport) => {
        const runtime = new SourceRuntime({
          ...base,
          ...(first ? {} : { resnapshot: false }),
          connector: sourceConnectorFor(config),
          transport,
        });
        first = false;
        return runtime;
      };
    })(),
  });
}

/**
 * One pipeline process: the source runtime, the sink runtime, or both (`ferry run`), built from
 * a pipeline config. If either role fails, the other is stopped and the failure is reported.
 */
export class Pipeline {
  readonly source: SourceRuntime | FailoverSource | null;
  readonly sink: SinkRuntime | TransactionSinkRuntime | SinkThread | null;
  private readonly logger: Logger;
  private failure: unknown = null;

  constructor(
    readonly config: PipelineConfig,
    roles: PipelineRoles,
    opts: PipelineOptions,
  ) {
    this.logger = opts.logger;
    this.source = roles.source ? sourceRole(config, opts) : null;
    const threaded = roles.sink && roles.source ? opts.sinkThread : undefined;
    this.sink = !roles.sink
      ? null
      : threaded
        ? new SinkThread(
            {
              config,
              logFormat: threaded.logFormat,
              isTTY: threaded.isTTY,
              ...(opts.topicRefreshMs ? { topicRefreshMs: opts.topicRefreshMs } : {}),
            },
            threaded.writeLog,
          )
        : sinkRuntimeFor(config, opts.logger, opts.metrics, opts.topicRefreshMs);
  }

  /** Runs until stop() or a failure of either role (then the other role is stopped too). */
  async run(): Promise<void> {
    // A certificate that does not verify stops here, before anything is read, published or applied.
    await checkTlsBeforeStart(this.config, { source: this.source !== null, sink: this.sink !== null });
    const roles: Array<Promise<void>> = [];
    const watch = (name: string, p: Promise<void>) =>
      p.catch(async (err: unknown) => {
        if (this.failure === null) {
          this.failure = err;
          this.logger.error(`${name} stopped with an error; stopping the pipeline`, { err });
          await this.stop();
        }
      });
    if (this.source) roles.push(watch('source', this.source.run()));
    if (this.sink) roles.push(watch('sink', this.sink.run()));
    await Promise.all(roles);
    if (this.failure !== null) throw this.failure;
  }

  /** Graceful stop: stop reading, flush Kafka, store offsets, close. */
  async stop(): Promise<void> {
    await Promise.allSettled([this.source?.stop(), this.sink?.stop()]);
  }

  /** Metrics of a sink on its own thread (prom-client JSON) to merge into this process's; [] otherwise. */
  async sinkMetrics(): Promise<MetricObjectWithValues<MetricValue<string>>[]> {
    return this.sink instanceof SinkThread ? this.sink.metrics() : [];
  }

  /** Live figures of a sink on its own thread, for the progress view; null when the sink runs on this thread. */
  async sinkFigures(): Promise<SinkFigures | null> {
    return this.sink instanceof SinkThread ? this.sink.figures() : null;
  }

  sourceProgress(): SourceProgress | null {
    return this.source ? this.source.progress() : null;
  }

  /** For /readyz: connected and not failing. */
  ready(): { ready: boolean; reason?: string } {
    if (this.failure !== null) {
      // Served over HTTP: redacted like every other output.
      const reason = redactString(String((this.failure as Error)?.message ?? 'failed'), secretsOf(this.config));
      return { ready: false, reason };
    }
    return sourceReadiness(this.source?.progress() ?? null);
  }
}

/** A source's part of /readyz: connected to its log (outside a snapshot) and not waiting for Kafka. */
export function sourceReadiness(p: SourceProgress | null, now = Date.now()): { ready: boolean; reason?: string } {
  if (!p) return { ready: true };
  if (p.kafkaWaitingSince !== undefined) {
    const s = Math.round((now - p.kafkaWaitingSince) / 1000);
    return { ready: false, reason: `source waiting for Kafka for ${s} s (retrying)` };
  }
  if (!p.connected && p.phase !== 'snapshot' && p.phase !== 'standby')
    return { ready: false, reason: `source not connected (${p.phase})` };
  return { ready: true };
}
