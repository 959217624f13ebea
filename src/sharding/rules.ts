/**
 * The routing of a sharded sink (docs/sharding.md): shard names, the default rule and per-table
 * rules (first matching `db.table` pattern wins, source names). Pure.
 */
import { matchesAny } from '../api/filter.js';
import type { TableId } from '../api/schema.js';
import { DEFAULT_VNODES, type KeyRouter, keyRouter, type RoutingRule } from './route.js';

export interface ShardingSpec {
  /** Shard names, in `sink.shards` order (the `hash` rule's indexes). */
  shards: string[];
  /** Rule of tables no entry of `tables` matches. */
  rule: 'hash' | 'ring';
  /** Points per shard on the ring. */
  vnodes?: number;
  /** `db.table` pattern -> rule; the first pattern (in order) matching a source table wins. */
  tables?: Record<string, RoutingRule>;
}

export class ShardRouting {
  readonly shards: readonly string[];
  private readonly spec: ShardingSpec;
  private readonly byRule = new Map<RoutingRule, KeyRouter>();
  private readonly byTable = new Map<string, KeyRouter>();

  constructor(spec: ShardingSpec) {
    if (spec.shards.length === 0) throw new RangeError('no shards');
    this.spec = spec;
    this.shards = [...spec.shards];
  }

  /** The rule of a source table. */
  ruleOf(table: TableId): RoutingRule {
    for (const [pattern, rule] of Object.entries(this.spec.tables ?? {})) {
      if (matchesAny([pattern], [table.db, table.table])) return rule;
    }
    return this.spec.rule;
  }

  /** The router of a source table (cached). */
  routerFor(table: TableId): KeyRouter {
    const id = `${table.db}\u0000${table.table}`;
    let router = this.byTable.get(id);
    if (!router) {
      const rule = this.ruleOf(table);
      router = this.byRule.get(rule);
      if (!router) {
        router = keyRouter(rule, this.shards, this.spec.vnodes ?? DEFAULT_VNODES);
        this.byRule.set(rule, router);
      }
      this.byTable.set(id, router);
    }
    return router;
  }
}
