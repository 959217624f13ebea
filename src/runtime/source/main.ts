/**
 * A thin process entry for the MySQL and PostgreSQL sources, used by the fault tests until
 * `ferry source -c` exists: `node dist/src/runtime/source/main.js <options.json>`. SIGTERM/SIGINT
 * stop it gracefully; it exits 0 after a clean stop and 1 on a runtime error (the error on stderr).
 *
 * options.json: {
 *   "pipeline": "p1", "brokers": ["127.0.0.1:9092"],
 *   "kind": "mysql",  (default; or "postgres" with a "postgres" block instead of "mysql":
 *                      PostgresSourceOptions, e.g. { "connection": {host, port, user, password, database} })
 *   "mysql": { "host": "127.0.0.1", "port": 3306, "user": "ferry", "password": "…", "serverId": 4242 },
 *   "tables": ["shop.*"], "exclude": [], "excludeColumns": [], "keyColumns": {},
 *   "snapshot": "initial", "partitions": 1, "chunkSize": 10000, "queueSize": 10000,
 *   "tombstones": true, "resnapshot": false, "logLevel": "info", "printStored": false
 * }
 * With "printStored", every position stored in Kafka is also printed to stdout as a JSON line
 * `{"stored": {...}}` (fault tests use it to kill the process at a chosen moment).
 */
import { readFileSync } from 'node:fs';
import { createMysqlSource, type MysqlSourceConfig } from '../../../connectors/mysql-source/index.js';
import { createPostgresSource, type PostgresSourceOptions } from '../../../connectors/postgres-source/index.js';
import { createKafka } from '../../kafka/client.js';
import { createLogger, type LogLevel } from '../../log/index.js';
import { FerryMetrics } from '../../metrics/metrics.js';
import { SourceRuntime } from './runtime.js';

interface MainOptions {
  pipeline: string;
  brokers: string[];
  kind?: 'mysql' | 'postgres';
  mysql: MysqlSourceConfig;
  postgres?: PostgresSourceOptions;
  tables: string[];
  exclude?: string[];
  excludeColumns?: string[];
  keyColumns?: Record<string, string[]>;
  snapshot?: 'initial' | 'never';
  partitions?: number;
  chunkSize?: number;
  queueSize?: number;
  tombstones?: boolean;
  resnapshot?: boolean;
  logLevel?: LogLevel;
  printStored?: boolean;
}

async function main(file: string | undefined): Promise<number> {
  if (!file) {
    process.stderr.write('usage: node dist/src/runtime/source/main.js <options.json>\n');
    return 2;
  }
  const o = JSON.parse(readFileSync(file, 'utf8')) as MainOptions;
  const pg = o.kind === 'postgres' ? o.postgres : undefined;
  const secrets = pg ? [pg.password ?? pg.connection?.password ?? ''] : [o.mysql.password ?? ''];
  const logger = createLogger({ level: o.logLevel ?? 'info', format: 'json', secrets });
  const runtime = new SourceRuntime({
    pipeline: o.pipeline,
    connector: pg ? createPostgresSource(pg) : createMysqlSource(o.mysql),
    kafka: createKafka({ brokers: o.brokers, clientId: `ferry-source-${o.pipeline}` }, logger),
    filter: {
      include: o.tables,
      exclude: o.exclude ?? [],
      excludeColumns: o.excludeColumns ?? [],
      keyColumns: o.keyColumns ?? {},
    },
    logger,
    metrics: new FerryMetrics(o.pipeline),
    ...(o.snapshot ? { snapshot: o.snapshot } : {}),
    ...(o.partitions ? { partitions: o.partitions } : {}),
    ...(o.chunkSize ? { chunkSize: o.chunkSize } : {}),
    ...(o.queueSize ? { queueSize: o.queueSize } : {}),
    ...(o.tombstones === undefined ? {} : { tombstones: o.tombstones }),
    ...(o.resnapshot ? { resnapshot: true } : {}),
    reconnectMinMs: 200,
    reconnectMaxMs: 2000,
  });
  if (o.printStored) runtime.on('stored', (stored) => process.stdout.write(`${JSON.stringify({ stored })}\n`));
  const stop = () => void runtime.stop();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    await runtime.run();
    return 0;
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'FERRY_INTERNAL';
    process.stderr.write(`ferry source: ${code}: ${(err as Error).message}\n`);
    return 1;
  }
}

const code = await main(process.argv[2]);
// Everything is closed by now; exit without waiting for idle sockets of the drivers.
process.stderr.write('', () => process.exit(code));
