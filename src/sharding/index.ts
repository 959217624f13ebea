/** Shard routing: the pure functions that say which shard holds a row (docs/sharding.md). */
export {
  DEFAULT_VNODES,
  HashRing,
  hash64,
  hashShard,
  type KeyRouter,
  keyHash,
  keyRouter,
  keyText,
  type RoutingRule,
} from './route.js';
export { type ShardingSpec, ShardRouting } from './rules.js';
