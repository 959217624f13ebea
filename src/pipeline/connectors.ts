import { createMysqlSource } from '../../connectors/mysql-source/index.js';
import { createPostgresSource } from '../../connectors/postgres-source/index.js';
import type { RedisSinkOptions } from '../../connectors/redis-sink/index.js';
import type { SinkConnector, SourceConnector } from '../api/index.js';
import type { PipelineConfig, RedisSinkConfig } from '../config/index.js';
import { createSinkConnector } from '../runtime/sink-connectors.js';

/** The source connector a pipeline config asks for. */
export function sourceConnectorFor(config: PipelineConfig): SourceConnector {
  const src = config.source;
  const c = src.connection;
  if (src.kind === 'mysql') {
    return createMysqlSource({
      host: c.host,
      port: c.port,
      user: c.user,
      ...(c.password === undefined ? {} : { password: c.password }),
      serverId: src.serverId,
      heartbeatIntervalMs: src.heartbeatIntervalMs,
    });
  }
  return createPostgresSource({
    connection: {
      host: c.host,
      port: c.port,
      user: c.user,
      ...(c.password === undefined ? {} : { password: c.password }),
      database: c.database ?? 'postgres',
    },
    slot: src.slot,
    publication: src.publication,
    createPublication: src.createPublication,
    heartbeatIntervalMs: src.heartbeatIntervalMs,
  });
}

/** Redis sink options of a pipeline config (the URL as written; `sink.password` wins over its password). */
export function redisSinkOptions(sink: RedisSinkConfig): RedisSinkOptions {
  return {
    url: sink.url,
    ...(sink.password === undefined ? {} : { password: sink.password }),
    ...sink.redis,
  };
}

/** The sink connector a pipeline config asks for. */
export function sinkConnectorFor(config: PipelineConfig): SinkConnector {
  const sink = config.sink;
  if (sink.kind === 'redis') return createSinkConnector({ kind: 'redis', ...redisSinkOptions(sink) });
  const c = sink.connection;
  const common = {
    host: c.host,
    port: c.port,
    user: c.user,
    ...(c.password === undefined ? {} : { password: c.password }),
    ...(c.database === undefined ? {} : { database: c.database }),
    createTables: sink.createTables,
  };
  return sink.kind === 'postgres'
    ? createSinkConnector({ kind: 'postgres', ...common })
    : createSinkConnector({ kind: 'mysql', ...common });
}
