import type { Kafka } from 'kafkajs';
import type { Logger } from '../api/index.js';
import { type PipelineConfig, targetNamespaceOverride } from '../config/index.js';
import { createKafka } from '../kafka/client.js';
import type { FerryMetrics } from '../metrics/metrics.js';
import { SinkRuntime, type SinkRuntimeOptions } from '../runtime/sink/runtime.js';
import { TransactionSinkRuntime } from '../runtime/sink/transactions/runtime.js';
import { sinkConnectorFor } from './connectors.js';

/** A Kafka client for one role of a pipeline. `oneShot`: few retries, for commands that report and exit. */
export function kafkaFor(
  config: PipelineConfig,
  logger: Logger,
  role: string,
  oneShot = false,
  writeGuard?: () => boolean,
): Kafka {
  return createKafka(
    {
      brokers: config.kafka.brokers,
      clientId: `${config.kafka.clientId}-${role}`,
      tls: config.kafka.tls,
      ...(config.kafka.sasl ? { sasl: config.kafka.sasl } : {}),
      ...(oneShot ? { retries: 2, connectionTimeout: 5000 } : {}),
      ...(writeGuard ? { writeGuard } : {}),
    },
    logger,
  );
}

/** The sink runtime of a pipeline config: the same for `ferry sink`, `ferry run` and its sink thread. */
export function sinkRuntimeFor(
  config: PipelineConfig,
  logger: Logger,
  metrics: FerryMetrics,
  topicRefreshMs?: number,
): SinkRuntime | TransactionSinkRuntime {
  const override = targetNamespaceOverride(config);
  const options: SinkRuntimeOptions = {
    pipeline: config.name,
    group: config.sink.group,
    connector: sinkConnectorFor(config, metrics),
    kafka: kafkaFor(config, logger, 'sink'),
    logger: logger.child({ role: 'sink' }),
    metrics,
    batchSize: config.sink.batchSize,
    batchBytes: config.sink.batchBytes,
    lingerMs: config.sink.lingerMs,
    fetchMaxBytes: config.kafka.consumerMaxBytes,
    fetchMaxBytesPerPartition: config.kafka.consumerMaxBytesPerPartition,
    sessionTimeoutMs: config.kafka.sessionTimeoutMs,
    heartbeatIntervalMs: Math.max(500, Math.floor(config.kafka.sessionTimeoutMs / 10)),
    dlq: config.sink.dlq,
    maxRetries: config.sink.maxRetries === 0 ? Number.POSITIVE_INFINITY : config.sink.maxRetries,
    dlqReplicationFactor: config.kafka.replicationFactor,
    ...(override ? { targetNamespace: override } : {}),
    ...(topicRefreshMs ? { topicRefreshMs } : {}),
  };
  return config.sink.consistency === 'transaction'
    ? new TransactionSinkRuntime({
        ...options,
        maxTransactionEvents: config.sink.maxTransactionEvents,
        applyParallelism: config.sink.applyParallelism,
      })
    : new SinkRuntime(options);
}
