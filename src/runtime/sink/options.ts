/** Options of the sink runtime (docs/sinks.md#running-a-sink), checked when it is built. */
import type { Kafka } from 'kafkajs';
import { FerryError, type Logger, type SinkConnector } from '../../api/index.js';
import type { FerryMetrics } from '../../metrics/metrics.js';

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
  /** Most bytes of records (keys and values) in one target transaction, besides batchSize. Default 8 MiB. */
  batchBytes?: number;
  /** How long a fetch may wait for more data, and a batch for more partitions, ms. Default 50. */
  lingerMs?: number;
  /** Most bytes per Kafka fetch, over all partitions / per partition (kafka.consumerMaxBytes*). Defaults 32 MiB / 4 MiB. */
  fetchMaxBytes?: number;
  fetchMaxBytesPerPartition?: number;
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

/** sink.batchBytes' default: 8 MiB of record keys and values per target transaction. */
export const DEFAULT_BATCH_BYTES = 8 * 1024 * 1024;

/** Throws FERRY_CONFIG_INVALID for options the runtime cannot start with. */
export function checkSinkRuntimeOptions(opts: SinkRuntimeOptions): void {
  if (!opts.pipeline) throw new FerryError('FERRY_CONFIG_INVALID', 'SinkRuntime: pipeline is required');
  if (!opts.group) throw new FerryError('FERRY_CONFIG_INVALID', 'SinkRuntime: group is required');
  if (opts.batchSize !== undefined && !(opts.batchSize >= 1)) {
    throw new FerryError('FERRY_CONFIG_INVALID', 'SinkRuntime: batchSize must be at least 1');
  }
  if (opts.batchBytes !== undefined && !(opts.batchBytes >= 1)) {
    throw new FerryError('FERRY_CONFIG_INVALID', 'SinkRuntime: batchBytes must be at least 1');
  }
}
