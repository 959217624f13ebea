/** Builds the sink connector named by a sink config (`kind` plus the connector's options). */
import { MySqlSink, type MySqlSinkOptions } from '../../../connectors/mysql-sink/index.js';
import { PostgresSink, type PostgresSinkOptions } from '../../../connectors/postgres-sink/index.js';
import { FerryError, type SinkConnector } from '../../api/index.js';

export type SinkTargetOptions = ({ kind: 'postgres' } & PostgresSinkOptions) | ({ kind: 'mysql' } & MySqlSinkOptions);

export function createSinkConnector(opts: SinkTargetOptions): SinkConnector {
  const { kind, ...rest } = opts;
  if (kind === 'postgres') return new PostgresSink(rest);
  if (kind === 'mysql') return new MySqlSink(rest);
  throw new FerryError('FERRY_CONFIG_INVALID', `unknown sink kind ${JSON.stringify(kind)}; expected postgres or mysql`);
}
