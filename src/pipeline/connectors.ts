import { redisSinkOptions as optionsOf } from '../../connectors/redis-sink/descriptor.js';
import type { RedisSinkOptions } from '../../connectors/redis-sink/index.js';
import { SINK_CONNECTORS, SOURCE_CONNECTORS } from '../../connectors/registry.js';
import {
  FerryError,
  type Logger,
  type SinkConnector,
  type SinkConnectorDescriptor,
  type SourceConnector,
  type SourceConnectorDescriptor,
} from '../api/index.js';
import {
  type PipelineConfig,
  type RedisSinkConfig,
  type SinkConfig,
  targetNamespaceOverride,
} from '../config/index.js';
import type { FerryMetrics } from '../metrics/metrics.js';
import { ShardedSink } from '../runtime/sink/shards/sharded-sink.js';
import { DirectLane } from '../runtime/source/direct-lane.js';
import { ShardRouting } from '../sharding/index.js';

function lookUp<D extends { kind: string }>(list: ReadonlyArray<D>, role: string, kind: string): D {
  const found = list.find((d) => d.kind === kind);
  if (found) return found;
  throw new FerryError(
    'FERRY_CONFIG_INVALID',
    `unknown ${role}.kind ${JSON.stringify(kind)}; expected one of ${list.map((d) => d.kind).join(', ')}`,
  );
}

/** The registered source connector of a kind (connectors/registry.ts). */
export function sourceDescriptor(kind: string): SourceConnectorDescriptor {
  return lookUp(SOURCE_CONNECTORS, 'source', kind);
}

/** The registered sink connector of a kind (connectors/registry.ts). */
export function sinkDescriptor(kind: string): SinkConnectorDescriptor {
  return lookUp(SINK_CONNECTORS, 'sink', kind);
}

/** The source connector a pipeline config asks for. */
export function sourceConnectorFor(config: PipelineConfig): SourceConnector {
  return sourceDescriptor(config.source.kind).fromConfig(config.source);
}

/** Redis sink options of a pipeline config (the URL as written; `sink.password` wins over its password). */
export function redisSinkOptions(sink: RedisSinkConfig): RedisSinkOptions {
  return optionsOf({ ...sink, url: sink.url ?? '' });
}

/**
 * The sink connector a pipeline config asks for: with `sink.shards`, a ShardedSink over one
 * connector per shard (docs/sharding.md). `metrics` gets the per-shard metrics.
 */
export function sinkConnectorFor(config: PipelineConfig, metrics?: FerryMetrics): SinkConnector {
  const descriptor = sinkDescriptor(config.sink.kind);
  const { shards, routing } = config.sink;
  if (!shards || !routing) return descriptor.fromConfig(config.sink);
  return new ShardedSink({
    shards: shards.map((s) => ({
      name: s.name,
      connector: descriptor.fromConfig({ ...config.sink, url: s.url, connection: s.connection } as SinkConfig),
    })),
    routing: new ShardRouting({
      shards: shards.map((s) => s.name),
      rule: routing.rule,
      vnodes: routing.vnodes,
      tables: routing.tables,
    }),
    metrics,
  });
}

/** The direct snapshot lane of `source.snapshotTransport: direct`: a connector of the pipeline's target. */
export function directLaneFor(config: PipelineConfig, logger: Logger): DirectLane {
  const override = targetNamespaceOverride(config);
  return new DirectLane({
    pipeline: config.name,
    group: config.sink.group,
    sourceConnector: config.source.kind === 'postgres' ? 'postgresql' : 'mysql',
    connector: () => sinkConnectorFor(config),
    ...(override ? { targetNamespace: override } : {}),
    logger: logger.child({ role: 'source', component: 'direct-lane' }),
  });
}
