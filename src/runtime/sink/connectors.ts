/** Builds the sink connector named by a sink config (`kind` plus the connector's options). */
import type { MySqlSinkOptions } from '../../../connectors/mysql-sink/index.js';
import type { PostgresSinkOptions } from '../../../connectors/postgres-sink/index.js';
import type { RedisSinkOptions } from '../../../connectors/redis-sink/index.js';
import { SINK_CONNECTORS } from '../../../connectors/registry.js';
import { FerryError, type SinkConnector } from '../../api/index.js';

export type SinkTargetOptions =
  | ({ kind: 'postgres' } & PostgresSinkOptions)
  | ({ kind: 'mysql' } & MySqlSinkOptions)
  | ({ kind: 'redis' } & RedisSinkOptions);

export function createSinkConnector(opts: SinkTargetOptions): SinkConnector {
  const { kind, ...rest } = opts;
  const descriptor = SINK_CONNECTORS.find((d) => d.kind === kind);
  if (descriptor) return descriptor.create(rest);
  throw new FerryError(
    'FERRY_CONFIG_INVALID',
    `unknown sink kind ${JSON.stringify(kind)}; expected ${SINK_CONNECTORS.map((d) => d.kind).join(' or ')}`,
  );
}
