/** Builds the sink connector named by a sink config (`kind` plus the connector's options). */
import { MySqlSink, type MySqlSinkOptions } from '../../connectors/mysql-sink/index.js';
import { PostgresSink, type PostgresSinkOptions } from '../../connectors/postgres-sink/index.js';
import { RedisSink, type RedisSinkOptions } from '../../connectors/redis-sink/index.js';
import { FerryError, type SinkConnector } from '../api/index.js';

export type SinkTargetOptions =
  | ({ kind: 'postgres' } & PostgresSinkOptions)
  | ({ kind: 'mysql' } & MySqlSinkOptions)
  | ({ kind: 'redis' } & RedisSinkOptions);

export function createSinkConnector(opts: SinkTargetOptions): SinkConnector {
  if (opts.kind === 'postgres') return new PostgresSink(withoutKind(opts));
  if (opts.kind === 'mysql') return new MySqlSink(withoutKind(opts));
  if (opts.kind === 'redis') return new RedisSink(withoutKind(opts));
  throw new FerryError(
    'FERRY_CONFIG_INVALID',
    `unknown sink kind ${JSON.stringify((opts as { kind: unknown }).kind)}; expected postgres, mysql or redis`,
  );
}

function withoutKind<T extends { kind: string }>(opts: T): Omit<T, 'kind'> {
  const { kind: _kind, ...rest } = opts;
  return rest;
}
