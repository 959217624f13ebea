/**
 * Kafka Connect standalone with Debezium's MariaDB source and JDBC sink, for the side-by-side
 * benchmark (bench/debezium-compare.ts). Everything comes from Maven Central into the sandbox
 * cache once: Connect's classpath from bench/debezium/pom.xml, and the two connector plugins
 * (classifier `plugin`, tar.gz) unpacked into a plugin path.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cacheDir, projectRoot } from '../../src/sandbox/paths.js';

const run = promisify(execFile);

/** The newest release whose mariadb and jdbc plugins are both served on Maven Central here. */
export const DEBEZIUM_VERSION = '3.5.0.Final';
export const CONNECT_VERSION = '4.1.1';
const PLUGINS = ['mariadb', 'jdbc'];

export interface ConnectHome {
  libs: string;
  plugins: string;
}

async function mvn(args: string[]): Promise<void> {
  await run(process.env['FERRY_MVN'] ?? 'mvn', ['-q', '-B', '-Dstyle.color=never', ...args], {
    maxBuffer: 64 * 1024 * 1024,
    timeout: 20 * 60_000,
  });
}

/** Connect's jars and the Debezium plugins, fetched on first use. */
export async function ensureConnect(log: (line: string) => void): Promise<ConnectHome> {
  const home = join(cacheDir(), `connect-${CONNECT_VERSION}-debezium-${DEBEZIUM_VERSION}`);
  const libs = join(home, 'libs');
  const plugins = join(home, 'plugins');
  if (!existsSync(join(libs, `connect-runtime-${CONNECT_VERSION}.jar`))) {
    log(`fetching Kafka Connect ${CONNECT_VERSION} from Maven Central into ${libs}`);
    const tmp = `${libs}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    await mvn([
      '-f',
      join(projectRoot(), 'bench', 'debezium', 'pom.xml'),
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${tmp}`,
    ]);
    rmSync(libs, { recursive: true, force: true });
    renameSync(tmp, libs);
  }
  for (const name of PLUGINS) {
    const dir = join(plugins, `debezium-connector-${name}`);
    if (existsSync(dir)) continue;
    log(`fetching debezium-connector-${name} ${DEBEZIUM_VERSION} (plugin tar.gz) from Maven Central`);
    const tmp = join(home, 'download');
    mkdirSync(tmp, { recursive: true });
    await mvn([
      '-f',
      join(projectRoot(), 'bench', 'debezium', 'pom.xml'),
      'dependency:copy',
      `-Dartifact=io.debezium:debezium-connector-${name}:${DEBEZIUM_VERSION}:tar.gz:plugin`,
      `-DoutputDirectory=${tmp}`,
    ]);
    const archive = readdirSync(tmp).find((f) => f.startsWith(`debezium-connector-${name}-`));
    if (!archive) throw new Error(`Maven fetched no debezium-connector-${name} archive into ${tmp}`);
    mkdirSync(plugins, { recursive: true });
    await run('tar', ['-xzf', join(tmp, archive), '-C', plugins]);
    rmSync(join(tmp, archive));
  }
  return { libs, plugins };
}

export interface ConnectRun {
  /** A directory of the run's files (properties, offsets, log). Kept between start() calls. */
  dir: string;
  brokers: string[];
  restPort: number;
  /** Topic prefix and Kafka names of the run. */
  prefix: string;
  partitions: number;
  source: {
    host: string;
    port: number;
    user: string;
    password: string;
    database: string;
    table: string;
    serverId: number;
  };
  target: { host: string; port: number; user: string; password: string; database: string; schema: string };
}

function properties(entries: Record<string, string | number | boolean>): string {
  // Values are bench-made (no newlines); backslashes and the separators are escaped as Java reads them.
  const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/([:=#! ])/g, '\\$1');
  return `${Object.entries(entries)
    .map(([k, v]) => `${k}=${esc(String(v))}`)
    .join('\n')}\n`;
}

/** Writes the worker, source and sink properties of a run (idempotent). */
export function writeConnectFiles(home: ConnectHome, r: ConnectRun): string[] {
  mkdirSync(r.dir, { recursive: true });
  const json = 'org.apache.kafka.connect.json.JsonConverter';
  const worker = properties({
    'bootstrap.servers': r.brokers.join(','),
    'key.converter': json,
    'value.converter': json,
    'key.converter.schemas.enable': true,
    'value.converter.schemas.enable': true,
    'offset.storage.file.filename': join(r.dir, 'connect.offsets'),
    'offset.flush.interval.ms': 1000,
    'plugin.path': home.plugins,
    'plugin.discovery': 'service_load',
    listeners: `http://127.0.0.1:${r.restPort}`,
  });
  const s = r.source;
  const source = properties({
    name: `${r.prefix}-source`,
    'connector.class': 'io.debezium.connector.mariadb.MariaDbConnector',
    'tasks.max': 1,
    'database.hostname': s.host,
    'database.port': s.port,
    'database.user': s.user,
    'database.password': s.password,
    'database.server.id': s.serverId,
    'database.ssl.mode': 'disable',
    'topic.prefix': r.prefix,
    'database.include.list': s.database,
    'table.include.list': `${s.database}.${s.table}`,
    'include.schema.changes': false,
    'snapshot.mode': 'initial',
    'schema.history.internal.kafka.bootstrap.servers': r.brokers.join(','),
    'schema.history.internal.kafka.topic': `${r.prefix}.history`,
    'topic.creation.default.partitions': r.partitions,
    'topic.creation.default.replication.factor': 1,
  });
  const t = r.target;
  const sink = properties({
    name: `${r.prefix}-sink`,
    'connector.class': 'io.debezium.connector.jdbc.JdbcSinkConnector',
    'tasks.max': 1,
    topics: `${r.prefix}.${s.database}.${s.table}`,
    'connection.url': `jdbc:postgresql://${t.host}:${t.port}/${t.database}`,
    'connection.username': t.user,
    'connection.password': t.password,
    'insert.mode': 'upsert',
    'delete.enabled': true,
    'primary.key.mode': 'record_key',
    'schema.evolution': 'basic',
    // With a bare table name and currentSchema, the sink wrote into a same-named table of another
    // schema: name the schema.
    'collection.name.format': `${t.schema}.${s.table}`,
    'use.time.zone': 'UTC',
  });
  const files = ['worker', 'source', 'sink'].map((n) => join(r.dir, `${n}.properties`));
  writeFileSync(files[0]!, worker);
  writeFileSync(files[1]!, source);
  writeFileSync(files[2]!, sink);
  writeFileSync(
    join(r.dir, 'log4j2.properties'),
    [
      'rootLogger.level = WARN',
      'rootLogger.appenderRef.f.ref = F',
      'appender.f.type = File',
      'appender.f.name = F',
      `appender.f.fileName = ${join(r.dir, 'connect.log')}`,
      'appender.f.layout.type = PatternLayout',
      'appender.f.layout.pattern = %d %p %c{1} %m%n',
      '',
    ].join('\n'),
  );
  return files;
}

/** Starts Connect standalone with the run's source and sink (-Xmx1g, as measured elsewhere). */
export function startConnect(home: ConnectHome, r: ConnectRun): ChildProcess {
  const files = writeConnectFiles(home, r);
  return spawn(
    'java',
    [
      '-Xmx1g',
      '-XX:+UseG1GC',
      `-Dlog4j2.configurationFile=${join(r.dir, 'log4j2.properties')}`,
      '-cp',
      `${home.libs}/*`,
      'org.apache.kafka.connect.cli.ConnectStandalone',
      ...files,
    ],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
}
