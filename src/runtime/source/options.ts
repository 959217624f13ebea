import type { Kafka } from 'kafkajs';
import type { Logger, SourceConnector, TableFilter } from '../../api/index.js';
import { FerryError } from '../../api/index.js';
import type { FerryMetrics } from '../../metrics/metrics.js';
import type { DirectLoader } from './direct-lane.js';
import type { SourceTransport } from './transport.js';

export interface SourceRuntimeOptions {
  /** Pipeline name: prefixes topics. */
  pipeline: string;
  connector: SourceConnector;
  /** kafkajs client from createKafka(); or pass `transport` (tests). */
  kafka?: Kafka;
  transport?: SourceTransport;
  /** Key of this source's record in `<pipeline>.__offsets`; default: the pipeline name. */
  sourceId?: string;
  /** Partitions of data topics created by ferry. Default 1. */
  partitions?: number;
  /** Replication factor of topics created by ferry. Default 1. */
  replicationFactor?: number;
  /** `initial`: snapshot when no position is stored. `never`: stream from the current position. */
  snapshot?: 'initial' | 'never';
  /** Most rows per snapshot chunk. Default 5000. */
  chunkSize?: number;
  /** Approximate most bytes of one snapshot chunk (fewer rows when rows are large). Default 4 MiB. */
  chunkBytes?: number;
  /** Snapshot chunk readers running at once, across tables. Default 2. */
  snapshotParallelism?: number;
  /** How often snapshot requests (`ferry snapshot`) are looked for, ms. Default 2000. */
  signalsIntervalMs?: number;
  /** Items between reading and producing (backpressure bound). Default 10 000. */
  queueSize?: number;
  /** Approximate bytes of the events between reading and producing (backpressure bound too). Default 16 MiB. */
  queueBytes?: number;
  /** Compression of produced batches (kafka.compression). Default none. */
  compression?: 'none' | 'gzip';
  /** Follow each delete with a tombstone (null value) for compaction. Default true. */
  tombstones?: boolean;
  /** Publish transaction metadata: BEGIN/END records in `<pipeline>.__transactions` (docs/transactions.md). Default true. */
  transactions?: boolean;
  filter: TableFilter;
  logger: Logger;
  metrics?: FerryMetrics;
  /** Aborting it stops the runtime gracefully, like stop(). */
  signal?: AbortSignal;
  /** Forget the stored position first, so a new initial snapshot is taken (`--resnapshot`). */
  resnapshot?: boolean;
  /** Most events per Kafka request. Default 2000. */
  maxBatchEvents?: number;
  /** Approximate most bytes per Kafka request (keep under the broker's message.max.bytes). Default 900 000. */
  maxBatchBytes?: number;
  /** How long an acknowledged position waits for the next batch before it is written alone. Default 100 ms. */
  offsetDelayMs?: number;
  /** Reconnect backoff (ms) after the source connection failed. Defaults 500 / 30 000. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** How long stop() may spend flushing to Kafka before giving up. Default 30 s. */
  stopTimeoutMs?: number;
  /** Give up on a failing Kafka after this many ms (the source then stops with the error). Default: wait as long as it takes. */
  kafkaRetryTimeoutMs?: number;
  /** Longest wait between two attempts to publish to a failing Kafka, ms. Default 30 000. */
  kafkaRetryMaxDelayMs?: number;
  /** `source.snapshotTransport: direct`: snapshot chunks are written into the target by this lane (direct-lane.ts). */
  directLane?: DirectLoader;
}

export type ResolvedSourceOptions = Required<
  Omit<
    SourceRuntimeOptions,
    | 'kafka'
    | 'transport'
    | 'metrics'
    | 'signal'
    | 'sourceId'
    | 'resnapshot'
    | 'compression'
    | 'kafkaRetryTimeoutMs'
    | 'kafkaRetryMaxDelayMs'
    | 'directLane'
  >
>;

/** Fills in the defaults and rejects impossible values at construction (not later). */
export function resolveSourceOptions(opts: SourceRuntimeOptions): ResolvedSourceOptions {
  if (!opts.transport && !opts.kafka)
    throw new FerryError('FERRY_INTERNAL', 'SourceRuntime needs `kafka` or `transport`');
  const o: ResolvedSourceOptions = {
    pipeline: opts.pipeline,
    connector: opts.connector,
    partitions: opts.partitions ?? 1,
    replicationFactor: opts.replicationFactor ?? 1,
    snapshot: opts.snapshot ?? 'initial',
    chunkSize: opts.chunkSize ?? 2000,
    chunkBytes: opts.chunkBytes ?? 2 * 1024 * 1024,
    snapshotParallelism: opts.snapshotParallelism ?? 2,
    signalsIntervalMs: opts.signalsIntervalMs ?? 2000,
    queueSize: opts.queueSize ?? 4000,
    queueBytes: opts.queueBytes ?? 4 * 1024 * 1024,
    tombstones: opts.tombstones ?? true,
    transactions: opts.transactions ?? true,
    filter: opts.filter,
    logger: opts.logger,
    maxBatchEvents: opts.maxBatchEvents ?? 2000,
    maxBatchBytes: opts.maxBatchBytes ?? 900_000,
    offsetDelayMs: opts.offsetDelayMs ?? 100,
    reconnectMinMs: opts.reconnectMinMs ?? 500,
    reconnectMaxMs: opts.reconnectMaxMs ?? 30_000,
    stopTimeoutMs: opts.stopTimeoutMs ?? 30_000,
  };
  const positive = {
    partitions: o.partitions,
    replicationFactor: o.replicationFactor,
    chunkSize: o.chunkSize,
    chunkBytes: o.chunkBytes,
    snapshotParallelism: o.snapshotParallelism,
    signalsIntervalMs: o.signalsIntervalMs,
    queueSize: o.queueSize,
    queueBytes: o.queueBytes,
    maxBatchEvents: o.maxBatchEvents,
  };
  for (const [name, v] of Object.entries(positive)) {
    if (!Number.isInteger(v) || v < 1)
      throw new FerryError('FERRY_CONFIG_INVALID', `${name} must be a positive integer, got ${v}`);
  }
  return o;
}
