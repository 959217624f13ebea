/** Redis sink connector (docs/redis-sink.md). */
export { buildArgs, jsonKeysToRead } from './batch.js';
export { type RedisClient, redisClient } from './client.js';
export { fieldValue, hashFields, jsonValue, rowKey } from './encode.js';
export { classifyRedisError } from './errors.js';
export {
  metaPrefix,
  planTable,
  type RedisFormat,
  type RedisSinkOptions,
  type RedisTableOptions,
  type TablePlan,
} from './options.js';
export { RedisSink } from './sink.js';
