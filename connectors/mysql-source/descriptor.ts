import { type ConnectorSection, mysqlSslOptions, type SourceConnectorDescriptor } from '../../src/api/index.js';
import { createMysqlSource } from './index.js';

/** The resolved `source` section of a `kind: mysql` pipeline (docs/configuration.md). */
export interface MysqlSourceSection extends ConnectorSection {
  serverId: number;
  heartbeatIntervalMs: number;
  statementDml?: 'fail' | 'warn' | undefined;
}

/** `source.kind: mysql` (MySQL and MariaDB). */
export const mysqlSourceDescriptor: SourceConnectorDescriptor<MysqlSourceSection> = {
  role: 'source',
  kind: 'mysql',
  fromConfig(src) {
    const c = src.connection;
    const ssl = mysqlSslOptions(src.tls);
    return createMysqlSource({
      host: c.host,
      port: c.port,
      user: c.user,
      ...(c.password === undefined ? {} : { password: c.password }),
      serverId: src.serverId,
      heartbeatIntervalMs: src.heartbeatIntervalMs,
      ...(src.statementDml ? { statementDml: src.statementDml } : {}),
      ...(ssl ? { driver: { ssl } } : {}),
      ...(src.tls ? { tls: src.tls } : {}),
    });
  },
};
