/**
 * ShardedSink (docs/sharding.md): one sink writing to several targets of the same engine, each
 * row on the shard its table's rule names.
 *
 * - Each shard is a full sink connector of its own: its own connection, its own transaction per
 *   batch, its own `ferry_offsets`. A batch is split by routing; each shard reduces and applies
 *   its share with the batch's offsets in one transaction, all shards at once.
 * - readOffsets() returns, per partition, the LOWEST next offset over the shards, so the consumer
 *   seeks to where the most-behind shard stands; every shard skips the records below its own
 *   stored offset (it holds them already). Exactly once per shard, across crashes.
 * - A shard that fails with a retriable (connection) error is marked down; the others go on and
 *   its share is skipped. A probe retries it in the background; once it answers, the next batch
 *   is refused with a fence, the runtime re-reads the offsets (now that shard's lower ones) and
 *   seeks back, and the shard catches up while the others skip what they hold. Nothing is kept
 *   in memory for a shard that is down; Kafka holds it.
 * - Only when every shard is down does the batch fail (retried with backoff by the runtime).
 */
import {
  FerryError,
  isFerryError,
  type Logger,
  type PartitionOffset,
  type SinkBatch,
  type SinkConnector,
  type SinkContext,
} from '../../../api/index.js';
import type { FerryMetrics } from '../../../metrics/metrics.js';
import type { ShardRouting } from '../../../sharding/index.js';
import { tpKey } from '../partition-state.js';
import { reduceEvents, schemasOf } from '../reduce.js';
import { registerShardMetrics } from './metrics.js';
import type { RoutedRecord, RoutedSink } from './routed.js';
import { Shard } from './shard.js';
import { splitRecords } from './split.js';

export interface ShardedSinkOptions {
  /** The targets, in `sink.shards` order (the routing's shard indexes). */
  shards: Array<{ name: string; connector: SinkConnector }>;
  routing: ShardRouting;
  metrics?: FerryMetrics | undefined;
  /** First pause between probes of a shard that is down, ms [1000]; doubles up to probeMaxMs. */
  probeMinMs?: number;
  /** Longest pause between probes, ms [10000]. */
  probeMaxMs?: number;
}

function isRetriable(err: unknown): boolean {
  return isFerryError(err)
    ? err.retriable && err.details['fenced'] !== true
    : (err as { retriable?: unknown })?.retriable === true;
}

function isFence(err: unknown): boolean {
  return isFerryError(err) && err.details['fenced'] === true;
}

export class ShardedSink implements RoutedSink {
  readonly kind: SinkConnector['kind'];
  readonly shards: Shard[];
  private readonly o: ShardedSinkOptions;
  private ctx: SinkContext | null = null;
  private logger: Logger | null = null;
  private topics: string[] = [];
  /** A shard came back (or moved under us): the next batch is fenced so the runtime re-seeks. */
  private reseek = false;
  private readonly probes = new Map<Shard, NodeJS.Timeout>();
  private closed = false;

  constructor(opts: ShardedSinkOptions) {
    if (opts.shards.length !== opts.routing.shards.length) {
      throw new FerryError('FERRY_INTERNAL', 'ShardedSink: shards and routing differ in length');
    }
    const kinds = new Set(opts.shards.map((s) => s.connector.kind));
    if (kinds.size !== 1) throw new FerryError('FERRY_INTERNAL', 'ShardedSink: every shard must be of one kind');
    this.o = opts;
    this.kind = opts.shards[0]!.connector.kind;
    this.shards = opts.shards.map((s) => new Shard(s.name, s.connector));
    if (opts.metrics) registerShardMetrics(opts.metrics, this.shards);
  }

  /** Starts every shard; one that cannot be reached yet is marked down (all of them unreachable: throws). */
  async start(ctx: SinkContext): Promise<void> {
    this.ctx = ctx;
    this.logger = ctx.logger.child({ component: 'sharded-sink' });
    const results = await Promise.allSettled(
      this.shards.map(async (s) => {
        if (s.started) return;
        await s.connector.start({ ...ctx, logger: ctx.logger.child({ shard: s.name }) });
        s.started = true;
      }),
    );
    this.settle(results, 'starting');
  }

  /** Tables are created on each shard right before its first batch needs them. */
  async ensureTable(): Promise<void> {}

  async readOffsets(topics: string[]): Promise<PartitionOffset[]> {
    this.topics = topics;
    this.reseek = false;
    const results = await Promise.allSettled(
      this.shards.map(async (s) => {
        if (s.down) return;
        s.loaded(topics, await s.connector.readOffsets(topics));
      }),
    );
    this.settle(results, 'reading stored offsets');
    return this.lowest(topics);
  }

  async checks() {
    const out = [];
    for (const s of this.shards) {
      if (s.down || !s.connector.checks) continue;
      for (const c of await s.connector.checks()) out.push({ ...c, name: `${s.name}: ${c.name}` });
    }
    return out;
  }

  /** A batch without routing (offsets only, e.g. after a dead-lettered record). */
  apply(batch: SinkBatch): Promise<void> {
    if (batch.tables.length > 0) {
      throw new FerryError('FERRY_INTERNAL', 'ShardedSink.apply() got rows; the runtime must call applyRouted()');
    }
    return this.applyRouted([], batch);
  }

  async applyRouted(records: RoutedRecord[], batch: SinkBatch): Promise<void> {
    if (this.reseek) {
      throw new FerryError('FERRY_APPLY', 'a shard is reachable again; re-reading the stored offsets of every shard', {
        retriable: true,
        details: { fenced: true },
      });
    }
    if (this.shards.every((s) => s.down)) {
      throw new FerryError('FERRY_CONNECTION', 'every shard is unreachable', { retriable: true });
    }
    const shares = splitRecords(this.o.routing, records, (i, topic, partition) =>
      this.shards[i]!.nextOf(topic, partition),
    );
    const results = await Promise.allSettled(
      this.shards.map(async (s, i) => {
        if (s.down) return;
        const events = shares[i]!;
        const { offsets, expected } = s.offsetsFor(batch);
        const barriers = batch.barriers ?? [];
        if (events.length === 0 && offsets.length === 0 && barriers.length === 0) return;
        const tables = reduceEvents(events);
        const share: SinkBatch = { tables, offsets, expected, barriers };
        if (batch.repair) share.repair = batch.repair;
        await s.ensure(schemasOf(tables));
        await s.connector.apply(share);
        s.committed(share);
        s.applied += events.length;
      }),
    );
    this.settle(results, 'applying a batch');
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.probes.values()) clearTimeout(timer);
    this.probes.clear();
    await Promise.all(this.shards.map((s) => s.connector.close().catch(() => undefined)));
  }

  /**
   * The outcome of one call on every shard: retriable failures mark their shard down (thrown
   * when no shard is left); a fence or any other error is thrown once every shard has finished.
   */
  private settle(results: PromiseSettledResult<void>[], what: string): void {
    let thrown: unknown = null;
    let retriable: unknown = null;
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') return;
      const shard = this.shards[i]!;
      if (isRetriable(r.reason)) {
        retriable = r.reason;
        this.markDown(shard, what, r.reason);
      } else if (isFence(r.reason)) {
        thrown ??= r.reason;
      } else {
        thrown = thrown && !isFence(thrown) ? thrown : r.reason;
      }
    });
    if (thrown) throw this.named(thrown, results);
    if (this.shards.every((s) => s.down)) {
      throw retriable ?? new FerryError('FERRY_CONNECTION', 'every shard is unreachable', { retriable: true });
    }
  }

  /** Names the shard in a FerryError's message. */
  private named(err: unknown, results: PromiseSettledResult<void>[]): unknown {
    const i = results.findIndex((r) => r.status === 'rejected' && r.reason === err);
    if (i < 0 || !isFerryError(err)) return err;
    const e = new FerryError(err.code, `shard ${this.shards[i]!.name}: ${err.message}`, {
      retriable: err.retriable,
      details: { ...err.details, shard: this.shards[i]!.name },
      cause: err,
    });
    return e;
  }

  private markDown(shard: Shard, what: string, err: unknown): void {
    if (!shard.down) {
      this.logger?.warn('a shard is unreachable; the other shards go on, it catches up when it answers again', {
        shard: shard.name,
        while: what,
        error: (err as Error)?.message,
      });
      this.o.metrics?.errors.inc({ component: 'sink', code: isFerryError(err) ? err.code : 'FERRY_CONNECTION' });
    }
    shard.down = true;
    this.scheduleProbe(shard, this.o.probeMinMs ?? 1000);
  }

  private scheduleProbe(shard: Shard, delayMs: number): void {
    if (this.closed || this.probes.has(shard)) return;
    const timer = setTimeout(() => {
      this.probes.delete(shard);
      void this.probe(shard).then(
        () => undefined,
        () => this.scheduleProbe(shard, Math.min(delayMs * 2, this.o.probeMaxMs ?? 10_000)),
      );
    }, delayMs);
    timer.unref?.();
    this.probes.set(shard, timer);
  }

  /** Starts a shard that never started and reads its offsets; on success it is up again. */
  private async probe(shard: Shard): Promise<void> {
    if (this.closed || !this.ctx) return;
    if (!shard.started) {
      await shard.connector.start({ ...this.ctx, logger: this.ctx.logger.child({ shard: shard.name }) });
      shard.started = true;
    }
    if (this.topics.length > 0) shard.loaded(this.topics, await shard.connector.readOffsets(this.topics));
    shard.down = false;
    this.reseek = true;
    this.logger?.info('a shard answers again; it catches up from its stored offsets', { shard: shard.name });
  }

  /** Per partition, the lowest stored next offset over the shards that answer (none stored: no row). */
  private lowest(topics: string[]): PartitionOffset[] {
    const wanted = new Set(topics);
    const up = this.shards.filter((s) => !s.down);
    const keys = new Map<string, { topic: string; partition: number }>();
    for (const s of up) {
      for (const key of s.states().keys()) {
        const sep = key.lastIndexOf('\u0000');
        const topic = key.slice(0, sep);
        if (wanted.has(topic)) keys.set(key, { topic, partition: Number(key.slice(sep + 1)) });
      }
    }
    const out: PartitionOffset[] = [];
    for (const { topic, partition } of keys.values()) {
      let low: { next: bigint; state: PartitionOffset } | null = null;
      let missing = false;
      for (const s of up) {
        const state = s.stateOf(topic, partition);
        if (!state || state.nextOffset === null) {
          missing = true;
          break;
        }
        const next = BigInt(state.nextOffset);
        if (!low || next < low.next) {
          low = {
            next,
            state: {
              topic,
              partition,
              nextOffset: state.nextOffset,
              truncateBarrier: state.truncateBarrier,
              ...(state.leaderEpoch === null || state.leaderEpoch === undefined
                ? {}
                : { leaderEpoch: state.leaderEpoch }),
            },
          };
        }
      }
      if (!missing && low) out.push(low.state);
    }
    out.sort((a, b) => (tpKey(a.topic, a.partition) < tpKey(b.topic, b.partition) ? -1 : 1));
    return out;
  }
}
