import type { ConnectorSection, SinkConnectorDescriptor } from '../../src/api/index.js';
import { MySqlSink, type MySqlSinkOptions } from './sink.js';

/** The resolved `sink` section of a `kind: mysql` pipeline (docs/configuration.md). */
export interface MySqlSinkSection extends ConnectorSection {
  createTables: boolean;
}

/** `sink.kind: mysql`. */
export const mysqlSinkDescriptor: SinkConnectorDescriptor<MySqlSinkSection, MySqlSinkOptions> = {
  role: 'sink',
  kind: 'mysql',
  fromConfig(sink) {
    const c = sink.connection;
    return new MySqlSink({
      host: c.host,
      port: c.port,
      user: c.user,
      ...(c.password === undefined ? {} : { password: c.password }),
      ...(c.database === undefined ? {} : { database: c.database }),
      createTables: sink.createTables,
      ...(sink.tls ? { tls: sink.tls } : {}),
    });
  },
  create: (options) => new MySqlSink(options),
};
