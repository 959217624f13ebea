/**
 * `ferry verify -c pipeline.yaml` when `sink.kind` is redis: the captured tables of the source,
 * the schemas the source published for them (the kinds the sink encoded values with), and the
 * Redis sink's own options (keys, format), handed to verifyRedis (redis.ts).
 */
import { FerryError } from '../api/errors.js';
import type { TableSchema } from '../api/schema.js';
import type { PipelineConfig } from '../config/index.js';
import { readTopicToEnd } from '../kafka/read-topic.js';
import { schemasTopic } from '../kafka/topics.js';
import { createLogger } from '../log/index.js';
import { redisSinkOptions } from '../pipeline/connectors.js';
import { kafkaFor } from '../pipeline/pipeline.js';
import { parseSchemaRecord } from '../runtime/sink/schemas.js';
import { connectVerifyDb } from './db.js';
import { verifyRedis } from './redis.js';
import { endpointOf, type PipelineVerifyOptions, resolveTablePairs } from './tables.js';
import type { TablePair, VerifyReport } from './types.js';

/** The latest published schema of every table, from `<pipeline>.__schemas`. */
async function publishedSchemas(
  config: PipelineConfig,
  options: PipelineVerifyOptions,
): Promise<Map<string, TableSchema>> {
  const logger = options.logger ?? createLogger({ level: 'error', format: 'json' });
  const records = await readTopicToEnd(kafkaFor(config, logger, 'verify', true), schemasTopic(config.name));
  const out = new Map<string, TableSchema>();
  for (const r of records) {
    const schema = r.value === null ? undefined : parseSchemaRecord(r.value);
    if (schema) out.set(`${schema.db}.${schema.table}`, schema);
  }
  return out;
}

export async function verifyRedisPipeline(
  config: PipelineConfig,
  options: PipelineVerifyOptions,
): Promise<VerifyReport> {
  const sink = config.sink;
  if (sink.kind !== 'redis') throw new FerryError('FERRY_INTERNAL', 'verifyRedisPipeline needs a redis sink');
  const source = endpointOf(config.source.kind, config.source.connection, config.source.tls);
  const catalog = await connectVerifyDb(source, 1);
  let pairs: TablePair[];
  try {
    pairs = await resolveTablePairs(config, catalog);
  } finally {
    await catalog.close().catch(() => undefined);
  }
  if (pairs.length === 0) {
    throw new FerryError(
      'FERRY_PREFLIGHT',
      `source.tables (${config.source.tables.join(', ')}) matches no table of the source database; nothing to verify`,
    );
  }
  const schemas = await publishedSchemas(config, options);
  return verifyRedis({
    source,
    redis: redisSinkOptions(sink),
    pipeline: config.name,
    tables: pairs,
    ...(options.tables ? { tableFilter: options.tables } : {}),
    ...(options.chunkSize === undefined ? {} : { chunkSize: options.chunkSize }),
    ...(options.maxReportedKeys === undefined ? {} : { maxReportedKeys: options.maxReportedKeys }),
    ...(options.recheck ? { recheck: options.recheck } : {}),
    ...(options.waitFor ? { waitFor: options.waitFor } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    publishedSchema: async (t) => schemas.get(`${t.db}.${t.table}`),
  });
}
