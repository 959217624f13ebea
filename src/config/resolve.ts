/**
 * The validated configuration with every default filled in, including the ones derived from
 * the pipeline name, and the database URLs taken apart. This is what the rest of ferry reads.
 */
import { createHash } from 'node:crypto';
import type { TableFilter } from '../api/connector.js';
import type { TlsSettings } from '../api/tls.js';
import type { ParsedPipeline } from './schema.js';
import { endpointTls, kafkaTls } from './tls.js';
import { type DbConnection, type DbKind, parseDbUrl } from './url.js';

type ParsedKafka = ParsedPipeline['kafka'];
type ParsedSource = ParsedPipeline['source'];
type ParsedSink = ParsedPipeline['sink'];

export interface KafkaConfig extends Omit<ParsedKafka, 'clientId' | 'tls'> {
  /** Default `ferry-<name>`. */
  clientId: string;
  /** `kafka.tls` with its files read, or `kafka.ssl: true`; undefined: plaintext. */
  tls: TlsSettings | undefined;
}

export type SaslConfig = NonNullable<ParsedKafka['sasl']>;

type SourceCommon = Omit<ParsedSource, 'kind' | 'serverId' | 'slot' | 'publication' | 'createPublication' | 'tls'> & {
  /** `url` taken apart; `password` is `source.password` when given, else the URL's. */
  connection: DbConnection;
  /** `source.tls` with its files read, or the URL's sslmode; undefined: plaintext. */
  tls: TlsSettings | undefined;
};

export interface MysqlSourceConfig extends SourceCommon {
  kind: 'mysql';
  /** Given, or derived from the name (defaultServerId). */
  serverId: number;
}

export interface PostgresSourceConfig extends SourceCommon {
  kind: 'postgres';
  /** Given, or `ferry_<name>` with `-` → `_`. */
  slot: string;
  /** Given, or `ferry_<name>` with `-` → `_`. */
  publication: string;
  createPublication: boolean;
}

export type SourceConfig = MysqlSourceConfig | PostgresSourceConfig;

/** One target of a sharded sink (`sink.shards[i]`). */
export interface ShardConfig {
  name: string;
  url: string;
  /** `url` taken apart; `password` is `sink.password` when given, else the URL's. */
  connection: DbConnection;
}

export type RoutingConfig = NonNullable<ParsedSink['routing']>;

type SinkCommon = Omit<
  ParsedSink,
  'kind' | 'group' | 'schema' | 'database' | 'redis' | 'shards' | 'routing' | 'tls'
> & {
  /** Default `ferry-<name>-sink`. */
  group: string;
  /** `url` taken apart; `password` is `sink.password` when given, else the URL's. With shards: the first shard's. */
  connection: DbConnection;
  /** `sink.shards`, when the sink writes to several targets (docs/sharding.md). */
  shards: ShardConfig[] | undefined;
  /** `sink.routing` with defaults (hash, 256 points), when sharded. */
  routing: RoutingConfig | undefined;
  /** `sink.tls` with its files read, or what the URL asks for (sslmode, rediss://); undefined: plaintext. */
  tls: TlsSettings | undefined;
};

export interface PostgresSinkConfig extends SinkCommon {
  kind: 'postgres';
  /** Target schema for every table; undefined: the source table's database or schema name. */
  schema: string | undefined;
}

export interface MysqlSinkConfig extends SinkCommon {
  kind: 'mysql';
  /** Target database for every table; undefined: the source table's database or schema name. */
  database: string | undefined;
}

export interface RedisSinkConfig extends SinkCommon {
  kind: 'redis';
  /** How rows are kept (defaults filled in). */
  redis: NonNullable<ParsedSink['redis']>;
}

export type SinkConfig = PostgresSinkConfig | MysqlSinkConfig | RedisSinkConfig;

export type MetricsConfig = ParsedPipeline['metrics'];
export type LogConfig = ParsedPipeline['log'];
export type MemoryConfig = ParsedPipeline['memory'];

/** A loaded, validated pipeline configuration with all defaults filled in. */
export interface PipelineConfig {
  name: string;
  kafka: KafkaConfig;
  source: SourceConfig;
  sink: SinkConfig;
  metrics: MetricsConfig;
  log: LogConfig;
  memory: MemoryConfig;
}

/**
 * The default MySQL replication server id of a pipeline: 100000 + (first 4 bytes of
 * SHA-256(name), big-endian) mod 4000000000. Stable across restarts, different per pipeline,
 * and clear of the small ids servers usually have.
 */
export function defaultServerId(name: string): number {
  const digest = createHash('sha256').update(name, 'utf8').digest();
  return 100_000 + (digest.readUInt32BE(0) % 4_000_000_000);
}

/** Default PostgreSQL slot (and publication) name: `ferry_<name>` with `-` replaced by `_`. */
export function defaultSlotName(name: string): string {
  return `ferry_${name.replace(/-/g, '_')}`
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 63);
}

function connection(url: string, kind: DbKind, path: string, password: string | undefined): DbConnection {
  const parsed = parseDbUrl(url, kind, path);
  return password === undefined ? parsed : { ...parsed, password };
}

/** Fills in derived defaults. The input has passed the schema and the cross-field checks. */
export function resolveConfig(parsed: ParsedPipeline): PipelineConfig {
  const { name } = parsed;
  const {
    serverId,
    slot,
    publication,
    createPublication,
    kind: sourceKind,
    tls: sourceTls,
    ...sourceRest
  } = parsed.source;
  const sourceConnection = connection(parsed.source.url, sourceKind, 'source.url', parsed.source.password);
  const sourceCommon: SourceCommon = {
    ...sourceRest,
    connection: sourceConnection,
    tls: endpointTls(sourceTls, 'source', sourceKind, parsed.source.url, sourceConnection),
  };
  const source: SourceConfig =
    sourceKind === 'mysql'
      ? { kind: 'mysql', ...sourceCommon, serverId: serverId ?? defaultServerId(name) }
      : {
          kind: 'postgres',
          ...sourceCommon,
          slot: slot ?? defaultSlotName(name),
          publication: publication ?? defaultSlotName(name),
          createPublication,
        };
  const {
    group,
    schema,
    database,
    redis,
    shards: shardList,
    routing,
    kind: sinkKind,
    tls: sinkTls,
    ...sinkRest
  } = parsed.sink;
  const shards = shardList?.map((s, i) => ({
    name: s.name,
    url: s.url,
    connection: connection(s.url, sinkKind, `sink.shards[${i}].url`, parsed.sink.password),
  }));
  const sinkConnection = shards
    ? shards[0]!.connection
    : connection(parsed.sink.url ?? '', sinkKind, 'sink.url', parsed.sink.password);
  const sinkCommon: SinkCommon = {
    ...sinkRest,
    group: group ?? `ferry-${name}-sink`,
    connection: sinkConnection,
    shards,
    routing: shards ? (routing ?? { rule: 'hash', vnodes: 256, tables: {} }) : undefined,
    tls: endpointTls(sinkTls, 'sink', sinkKind, parsed.sink.url ?? shards?.[0]?.url ?? '', sinkConnection),
  };
  const sink: SinkConfig =
    sinkKind === 'postgres'
      ? { kind: 'postgres', ...sinkCommon, schema }
      : sinkKind === 'mysql'
        ? { kind: 'mysql', ...sinkCommon, database }
        : {
            kind: 'redis',
            ...sinkCommon,
            redis: redis ?? { format: 'hash', keyPrefix: '', streams: false, streamMaxLen: 100_000, tables: {} },
          };
  return {
    name,
    kafka: {
      ...parsed.kafka,
      clientId: parsed.kafka.clientId ?? `ferry-${name}`,
      tls: kafkaTls(parsed.kafka.tls, parsed.kafka.ssl),
    },
    source,
    sink,
    metrics: parsed.metrics,
    log: parsed.log,
    memory: parsed.memory,
  };
}

/** The table filter the source connector receives (src/api TableFilter). */
export function tableFilterOf(config: PipelineConfig): TableFilter {
  return {
    include: [...config.source.tables],
    exclude: [...config.source.exclude],
    excludeColumns: [...config.source.excludeColumns],
    keyColumns: Object.fromEntries(Object.entries(config.source.keyColumns).map(([table, cols]) => [table, [...cols]])),
  };
}

/** `sink.schema` (postgres) or `sink.database` (mysql) when set; Redis keeps source names. */
export function targetNamespaceOverride(config: PipelineConfig): string | undefined {
  const sink = config.sink;
  return sink.kind === 'postgres' ? sink.schema : sink.kind === 'mysql' ? sink.database : undefined;
}

/**
 * Where a source table lands in the target: `sink.schema` (postgres) or `sink.database`
 * (mysql) when set, else the source table's own database or schema name.
 */
export function targetNamespace(config: PipelineConfig, sourceNamespace: string): string {
  return targetNamespaceOverride(config) ?? sourceNamespace;
}
