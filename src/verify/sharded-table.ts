/**
 * Verifying one table of a sharded target (docs/sharding.md#verify): the source is read in key
 * order, chunk by chunk; the same key range is read from every shard (row hashes computed inside
 * each database, canonical as in docs/values.md); each source row must be on exactly the shards
 * its table's rule names, with equal values, and no shard may hold a row the rule puts elsewhere
 * (a stray) or one the source does not have (extra). Differences are re-checked by key after a
 * pause, so rows still in flight are not reported. Memory is bounded by the chunk size.
 */
import type { KeyRouter } from '../sharding/index.js';
import type { HashedRow, SideAccess } from './access.js';
import { canonicalEquals } from './canonical-client.js';
import { compareKeys, keyId } from './findings.js';
import type { Key, KeyRange } from './queries.js';
import { differingColumns } from './rows.js';
import type { ShardFinding, ShardFindingKind } from './types.js';

export interface ShardedTableInput {
  source: SideAccess;
  /** One access per shard (the target side of that shard's plan), in shard order. */
  shards: SideAccess[];
  shardNames: readonly string[];
  router: KeyRouter;
  keyNames: string[];
  columnNames: string[];
  chunkSize: number;
  maxReported: number;
  recheckAttempts: number;
  wait: () => Promise<void>;
  signal?: AbortSignal | undefined;
}

export interface ShardedTableOutcome {
  chunks: number;
  findings: ShardFinding[];
  counts: Record<ShardFindingKind, number>;
  recheckRounds: number;
}

interface RawFinding {
  kind: ShardFindingKind;
  key: Key;
  shard: number;
  columns?: string[];
}

function sameHashed(a: HashedRow, b: HashedRow): boolean {
  return a.hash === b.hash && a.values.every((v, i) => canonicalEquals(v, b.values[i] ?? null));
}

/** Compares the rows of one key range; suspects (hash differs) are settled by fetching the rows whole. */
async function compareRange(input: ShardedTableInput, range: KeyRange): Promise<RawFinding[]> {
  const [source, ...shards] = await Promise.all([
    input.source.rowHashes(range),
    ...input.shards.map((s) => s.rowHashes(range)),
  ]);
  const byShard = shards.map((rows) => new Map(rows!.map((r) => [keyId(r.key), r])));
  const out: RawFinding[] = [];
  const suspects: Key[] = [];
  const inSource = new Set<string>();
  for (const row of source!) {
    const id = keyId(row.key);
    inSource.add(id);
    let suspect = false;
    for (const shard of input.router.shardsOf(row.key)) {
      const there = byShard[shard]!.get(id);
      if (!there) out.push({ kind: 'missing', key: row.key, shard });
      else if (!sameHashed(row, there)) suspect = true;
    }
    if (suspect) suspects.push(row.key);
  }
  byShard.forEach((rows, shard) => {
    for (const row of rows.values()) {
      const id = keyId(row.key);
      if (!input.router.shardsOf(row.key).includes(shard)) {
        out.push({ kind: inSource.has(id) ? 'stray' : 'extra', key: row.key, shard });
      } else if (!inSource.has(id)) {
        out.push({ kind: 'extra', key: row.key, shard });
      }
    }
  });
  if (suspects.length > 0) out.push(...(await classify(input, suspects)));
  return out;
}

/** Fetches keys whole from the source and every shard and says what differs, per shard. */
async function classify(input: ShardedTableInput, keys: Key[]): Promise<RawFinding[]> {
  const [source, ...shards] = await Promise.all([
    input.source.rowsByKeys(keys),
    ...input.shards.map((s) => s.rowsByKeys(keys)),
  ]);
  const sourceRows = new Map(source!.map((r) => [keyId(r.key), r]));
  const shardRows = shards.map((rows) => new Map(rows!.map((r) => [keyId(r.key), r])));
  const out: RawFinding[] = [];
  for (const key of keys) {
    const id = keyId(key);
    const a = sourceRows.get(id);
    const expected = input.router.shardsOf(key);
    shardRows.forEach((rows, shard) => {
      const b = rows.get(id);
      const wanted = expected.includes(shard);
      if (!a) {
        if (b) out.push({ kind: 'extra', key, shard });
        return;
      }
      if (!wanted) {
        if (b) out.push({ kind: 'stray', key, shard });
        return;
      }
      if (!b) {
        out.push({ kind: 'missing', key, shard });
        return;
      }
      const columns = differingColumns(input.columnNames, a.values, b.values);
      if (columns.length > 0) out.push({ kind: 'different', key, shard, columns });
    });
  }
  return out;
}

/** Walks the table in source key order, then checks the shards past the last source key. */
export async function compareShardedTable(input: ShardedTableInput): Promise<ShardedTableOutcome> {
  let found: RawFinding[] = [];
  const unlisted = { missing: 0, extra: 0, stray: 0, different: 0 };
  let chunks = 0;
  let lo: Key | null = null;
  for (;;) {
    input.signal?.throwIfAborted();
    const keys = await input.source.keys({ lo, hi: null }, input.chunkSize);
    const hi = keys.length === input.chunkSize ? keys[keys.length - 1]! : null;
    chunks++;
    for (const f of await compareRange(input, { lo, hi })) {
      if (found.length < input.maxReported) found.push(f);
      else unlisted[f.kind]++;
    }
    if (!hi) break;
    lo = hi;
  }
  let rounds = 0;
  for (let attempt = 0; attempt < input.recheckAttempts && found.length > 0; attempt++) {
    await input.wait();
    rounds++;
    const keys = new Map(found.map((f) => [keyId(f.key), f.key]));
    found = await classify(input, [...keys.values()]);
  }
  const counts = { ...unlisted };
  for (const f of found) counts[f.kind]++;
  found.sort((a, b) => compareKeys(a.key, b.key) || a.shard - b.shard);
  return {
    chunks,
    recheckRounds: rounds,
    counts,
    findings: found.map((f) => ({
      kind: f.kind,
      key: Object.fromEntries(input.keyNames.map((n, i) => [n, f.key[i] ?? null])),
      shard: input.shardNames[f.shard]!,
      expected: input.router.shardsOf(f.key).map((i) => input.shardNames[i]!),
      ...(f.columns ? { columns: f.columns } : {}),
    })),
  };
}
