import { createMysqlSource } from '../../connectors/mysql-source/index.js';
import { createPostgresSource } from '../../connectors/postgres-source/index.js';
import type { SinkConnector, SourceConnector } from '../api/index.js';
import type { PipelineConfig } from '../config/index.js';
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
      ...(src.statementDml ? { statementDml: src.statementDml } : {}),
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

/** The sink connector a pipeline config asks for. */
export function sinkConnectorFor(config: PipelineConfig): SinkConnector {
  const sink = config.sink;
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
