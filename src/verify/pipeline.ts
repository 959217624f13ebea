import type { PipelineConfig } from '../config/index.js';
import { verifyRedisPipeline } from './redis-pipeline.js';
import { verifyShardedPipeline } from './sharded.js';
import { type PipelineVerifyOptions, verifySqlPipeline } from './tables.js';
import type { VerifyReport } from './types.js';

/**
 * Verifies every captured table of a pipeline (or those matching `tables`): the function behind
 * `ferry verify -c pipeline.yaml`, and what cutover calls (with `waitFor`).
 */
export function verifyPipeline(config: PipelineConfig, options: PipelineVerifyOptions = {}): Promise<VerifyReport> {
  if (config.sink.kind === 'redis') return verifyRedisPipeline(config, options);
  return config.sink.shards ? verifyShardedPipeline(config, options) : verifySqlPipeline(config, options);
}
