import { type ConnectorSection, type SourceConnectorDescriptor, tlsConnectOptions } from '../../src/api/index.js';
import { createPostgresSource } from './index.js';

/** The resolved `source` section of a `kind: postgres` pipeline (docs/configuration.md). */
export interface PostgresSourceSection extends ConnectorSection {
  slot?: string | undefined;
  publication?: string | undefined;
  createPublication: boolean;
  heartbeatIntervalMs: number;
  discoverIntervalMs?: number | undefined;
}

/** `source.kind: postgres`. */
export const postgresSourceDescriptor: SourceConnectorDescriptor<PostgresSourceSection> = {
  role: 'source',
  kind: 'postgres',
  fromConfig(src) {
    const c = src.connection;
    const ssl = tlsConnectOptions(src.tls, c.host);
    return createPostgresSource({
      connection: {
        host: c.host,
        port: c.port,
        user: c.user,
        ...(c.password === undefined ? {} : { password: c.password }),
        database: c.database ?? 'postgres',
        ...(ssl ? { ssl: { ...ssl } } : {}),
      },
      ...(src.tls ? { tls: src.tls } : {}),
      ...(src.slot === undefined ? {} : { slot: src.slot }),
      ...(src.publication === undefined ? {} : { publication: src.publication }),
      createPublication: src.createPublication,
      heartbeatIntervalMs: src.heartbeatIntervalMs,
      ...(src.discoverIntervalMs === undefined ? {} : { discoverIntervalMs: src.discoverIntervalMs }),
    });
  },
};
