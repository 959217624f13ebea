import { SINK_CONNECTORS, SOURCE_CONNECTORS } from '../../connectors/registry.js';
import {
  FerryError,
  type SinkConnector,
  type SinkConnectorDescriptor,
  type SourceConnector,
  type SourceConnectorDescriptor,
} from '../api/index.js';
import type { PipelineConfig } from '../config/index.js';

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

/** The sink connector a pipeline config asks for. */
export function sinkConnectorFor(config: PipelineConfig): SinkConnector {
  return sinkDescriptor(config.sink.kind).fromConfig(config.sink);
}
