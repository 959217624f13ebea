import type { ConnectorSection, SinkConnectorDescriptor } from '../../src/api/index.js';
import { PostgresSink, type PostgresSinkOptions } from './sink.js';

/** The resolved `sink` section of a `kind: postgres` pipeline (docs/configuration.md). */
export interface PostgresSinkSection extends ConnectorSection {
  createTables: boolean;
  copyThreshold: number;
}

/** `sink.kind: postgres`. */
export const postgresSinkDescriptor: SinkConnectorDescriptor<PostgresSinkSection, PostgresSinkOptions> = {
  role: 'sink',
  kind: 'postgres',
  fromConfig(sink) {
    const c = sink.connection;
    return new PostgresSink({
      host: c.host,
      port: c.port,
      user: c.user,
      ...(c.password === undefined ? {} : { password: c.password }),
      ...(c.database === undefined ? {} : { database: c.database }),
      createTables: sink.createTables,
      copyThreshold: sink.copyThreshold,
      ...(sink.tls ? { tls: sink.tls } : {}),
    });
  },
  create: (options) => new PostgresSink(options),
};
