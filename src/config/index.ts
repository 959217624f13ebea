/** The pipeline configuration: schema, loading, docs and secrets. */
export { crossFieldIssues } from './checks.js';
export { configDocs, DOCS_PATH, MINIMAL_EXAMPLE, REGENERATE_DOCS_COMMAND } from './docs.js';
export { type ConfigField, configFields, fieldAt } from './fields.js';
export { type Env, interpolate, interpolateString, type MissingVariable } from './interpolate.js';
export { type ConfigIssue, ConfigValidationError } from './issues.js';
export { configFromObject, loadConfig, type ParseOptions, parseConfig } from './load.js';
export {
  defaultServerId,
  defaultSlotName,
  type KafkaConfig,
  type LogConfig,
  type MemoryConfig,
  type MetricsConfig,
  type MysqlSinkConfig,
  type MysqlSourceConfig,
  type PipelineConfig,
  type PostgresSinkConfig,
  type PostgresSourceConfig,
  type RedisSinkConfig,
  type SaslConfig,
  type SinkConfig,
  type SourceConfig,
  tableFilterOf,
  targetNamespace,
  targetNamespaceOverride,
} from './resolve.js';
export { type FieldMeta, PIPELINE_NAME_PATTERN, pipelineSchema, SINK_KINDS, SOURCE_KINDS } from './schema.js';
export { secretsOf } from './secrets.js';
export { type DbConnection, type DbKind, DEFAULT_PORTS, parseDbUrl } from './url.js';
