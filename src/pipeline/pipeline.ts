import type { Kafka } from 'kafkajs';
import type { Logger } from '../api/index.js';
import { type PipelineConfig, secretsOf, tableFilterOf, targetNamespaceOverride } from '../config/index.js';
import { createKafka } from '../kafka/client.js';
import { redactString } from '../log/index.js';
import type { FerryMetrics } from '../metrics/metrics.js';
import { SinkRuntime, type SinkRuntimeOptions } from '../runtime/sink/runtime.js';
import { TransactionSinkRuntime } from '../runtime/sink/transactions/runtime.js';
import type { SourceProgress } from '../runtime/source/items.js';
import { SourceRuntime } from '../runtime/source/runtime.js';
import { sinkConnectorFor, sourceConnectorFor } from './connectors.js';

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
}

/** A Kafka client for one role of a pipeline. `oneShot`: few retries, for commands that report and exit. */
export function kafkaFor(config: PipelineConfig, logger: Logger, role: string, oneShot = false): Kafka {
  return createKafka(
    {
      brokers: config.kafka.brokers,
      clientId: `${config.kafka.clientId}-${role}`,
      ssl: config.kafka.ssl,
      ...(config.kafka.sasl ? { sasl: config.kafka.sasl } : {}),
      ...(oneShot ? { retries: 2, connectionTimeout: 5000 } : {}),
    },
    logger,
  );
}

/**
 * One pipeline process: the source runtime, the sink runtime, or both (`ferry run`), built from
 * a pipeline config. If either role fails, the other is stopped and the failure is reported.
 */
export class Pipeline {
  readonly source: SourceRuntime | null;
  readonly sink: SinkRuntime | TransactionSinkRuntime | null;
  private readonly logger: Logger;
  private failure: unknown = null;

  constructor(
    readonly config: PipelineConfig,
    roles: PipelineRoles,
    opts: PipelineOptions,
  ) {
    this.logger = opts.logger;
    this.source = roles.source
      ? new SourceRuntime({
          pipeline: config.name,
          connector: sourceConnectorFor(config),
          kafka: kafkaFor(config, opts.logger, 'source'),
          partitions: config.kafka.partitions,
          replicationFactor: config.kafka.replicationFactor,
          snapshot: config.source.snapshot,
          chunkSize: config.source.snapshotChunkSize,
          chunkBytes: config.source.snapshotChunkBytes,
          snapshotParallelism: config.source.snapshotParallelism,
          signalsIntervalMs: config.source.signalsIntervalMs,
          queueSize: config.source.queueSize,
          transactions: config.source.transactions,
          tombstones: config.kafka.tombstones,
          compression: config.kafka.compression,
          ...(config.kafka.retryTimeoutMs !== undefined ? { kafkaRetryTimeoutMs: config.kafka.retryTimeoutMs } : {}),
          filter: tableFilterOf(config),
          logger: opts.logger.child({ role: 'source' }),
          metrics: opts.metrics,
          ...(opts.resnapshot ? { resnapshot: true } : {}),
          ...(opts.stopTimeoutMs ? { stopTimeoutMs: opts.stopTimeoutMs } : {}),
        })
      : null;
    const override = targetNamespaceOverride(config);
    const sinkOptions = (): SinkRuntimeOptions => ({
      pipeline: config.name,
      group: config.sink.group,
      connector: sinkConnectorFor(config),
      kafka: kafkaFor(config, opts.logger, 'sink'),
      logger: opts.logger.child({ role: 'sink' }),
      metrics: opts.metrics,
      batchSize: config.sink.batchSize,
      lingerMs: config.sink.lingerMs,
      dlq: config.sink.dlq,
      maxRetries: config.sink.maxRetries === 0 ? Number.POSITIVE_INFINITY : config.sink.maxRetries,
      dlqReplicationFactor: config.kafka.replicationFactor,
      ...(override ? { targetNamespace: override } : {}),
      ...(opts.topicRefreshMs ? { topicRefreshMs: opts.topicRefreshMs } : {}),
    });
    this.sink = !roles.sink
      ? null
      : config.sink.consistency === 'transaction'
        ? new TransactionSinkRuntime({ ...sinkOptions(), maxTransactionEvents: config.sink.maxTransactionEvents })
        : new SinkRuntime(sinkOptions());
  }

  /** Runs until stop() or a failure of either role (then the other role is stopped too). */
  async run(): Promise<void> {
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
    const p = this.source?.progress();
    if (p && !p.connected && p.phase !== 'snapshot')
      return { ready: false, reason: `source not connected (${p.phase})` };
    return { ready: true };
  }
}
