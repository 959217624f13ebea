/**
 * Shard routing (docs/sharding.md): which target shard holds a row. Pure and stable, so that
 * applications can route their reads the same way ferry routed the writes.
 *
 * - Input: the row's key values in key-column order, canonical (docs/values.md), written as the
 *   JSON array text JSON.stringify gives: `[42]`, `["eu",7]`, `["12345678901234567890"]`. The
 *   column names play no part; its UTF-8 bytes are hashed.
 * - Hash: the first 8 bytes of SHA-256 of that text, read as an unsigned 64-bit big-endian integer.
 * - `hash` rule: that integer modulo the shard count; the shard with that index in `sink.shards`.
 * - `ring` rule: each shard owns `vnodes` points on a ring of 2^64 positions, point j of shard
 *   `name` at the hash of the text `<name>#<j>`; a key belongs to the shard owning the first point
 *   at or after the key's hash (wrapping to the first point). Points depend on shard names only,
 *   so adding a shard moves only the keys the new shard's points take over (about 1/N).
 */
import { createHash } from 'node:crypto';
import type { JsonValue } from '../api/json.js';

export type RoutingRule = 'hash' | 'ring' | 'broadcast';

export const DEFAULT_VNODES = 256;

/** The text a key is hashed as: the JSON array of its canonical values in key-column order. */
export function keyText(values: readonly JsonValue[]): string {
  return JSON.stringify(values);
}

/** The 64-bit hash of a text: the first 8 bytes of SHA-256 of its UTF-8 bytes, big-endian. */
export function hash64(text: string): bigint {
  return createHash('sha256').update(text, 'utf8').digest().readBigUInt64BE(0);
}

/** The hash of a key: hash64(keyText(values)). */
export function keyHash(values: readonly JsonValue[]): bigint {
  return hash64(keyText(values));
}

/** `hash` rule: the index (0-based, in `sink.shards` order) of the shard holding the key. */
export function hashShard(values: readonly JsonValue[], shardCount: number): number {
  if (!Number.isInteger(shardCount) || shardCount < 1) throw new RangeError(`shard count ${shardCount}`);
  return Number(keyHash(values) % BigInt(shardCount));
}

/** A consistent-hashing ring over named shards. */
export class HashRing {
  readonly names: readonly string[];
  private readonly points: bigint[];
  /** Index into `names` of the owner of each point. */
  private readonly owners: number[];

  constructor(names: readonly string[], vnodes: number = DEFAULT_VNODES) {
    if (names.length === 0) throw new RangeError('a ring needs at least one shard');
    if (!Number.isInteger(vnodes) || vnodes < 1) throw new RangeError(`vnodes ${vnodes}`);
    this.names = [...names];
    const all: Array<{ point: bigint; owner: number }> = [];
    names.forEach((name, owner) => {
      for (let j = 0; j < vnodes; j++) all.push({ point: hash64(`${name}#${j}`), owner });
    });
    // Equal points (never seen with SHA-256, but defined): the smaller shard name wins.
    all.sort((a, b) => (a.point < b.point ? -1 : a.point > b.point ? 1 : names[a.owner]! < names[b.owner]! ? -1 : 1));
    this.points = all.map((p) => p.point);
    this.owners = all.map((p) => p.owner);
  }

  /** Index into `names` of the shard owning a 64-bit position. */
  ownerOf(position: bigint): number {
    let lo = 0;
    let hi = this.points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.points[mid]! < position) lo = mid + 1;
      else hi = mid;
    }
    return this.owners[lo === this.points.length ? 0 : lo]!;
  }

  /** Index into `names` of the shard holding the key. */
  shardOf(values: readonly JsonValue[]): number {
    return this.ownerOf(keyHash(values));
  }
}

/**
 * One table's router: the shard indexes a key goes to. `broadcast` names every shard; `hash`
 * and `ring` exactly one.
 */
export interface KeyRouter {
  readonly rule: RoutingRule;
  shardsOf(values: readonly JsonValue[]): number[];
}

/** The router of a rule over shards named `names` (in `sink.shards` order). */
export function keyRouter(rule: RoutingRule, names: readonly string[], vnodes: number = DEFAULT_VNODES): KeyRouter {
  const count = names.length;
  if (rule === 'broadcast') {
    const all = names.map((_, i) => i);
    return { rule, shardsOf: () => all };
  }
  if (rule === 'hash') return { rule, shardsOf: (values) => [hashShard(values, count)] };
  const ring = new HashRing(names, vnodes);
  return { rule, shardsOf: (values) => [ring.shardOf(values)] };
}
