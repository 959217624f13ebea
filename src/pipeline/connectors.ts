import { redisSinkOptions as optionsOf } from '../../connectors/redis-sink/descriptor.js';
import type { RedisSinkOptions } from '../../connectors/redis-sink/index.js';
import { SINK_CONNECTORS, SOURCE_CONNECTORS } from '../../connectors/registry.js';
import {
  FerryError,
  type SinkConnector,
  type SinkConnectorDescriptor,
  type SourceConnector,
  type SourceConnectorDescriptor,
} from '../api/index.js';
import type { PipelineConfig, RedisSinkConfig } from '../config/index.js';

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
  return optionsOf(sink);
}

/** The sink connector a pipeline config asks for. */
export function sinkConnectorFor(config: PipelineConfig): SinkConnector {
  return sinkDescriptor(config.sink.kind).fromConfig(config.sink);
}
