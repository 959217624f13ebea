/**
 * One target of a sharded sink: its connector, whether it is reachable, the offsets, truncate
 * barriers and leader epochs it has stored (as this process knows them), and what it applied.
 */
import type { PartitionOffset, SinkBatch, SinkConnector, TableSchema } from '../../../api/index.js';
import { type PartitionState, tpKey } from '../partition-state.js';

export class Shard {
  readonly name: string;
  readonly connector: SinkConnector;
  started = false;
  /** Unreachable: its share is skipped until it answers again (then every partition is re-sought). */
  down = false;
  /** Events applied by this process (for metrics). */
  applied = 0;
  private readonly stored = new Map<string, PartitionState>();

  constructor(name: string, connector: SinkConnector) {
    this.name = name;
    this.connector = connector;
  }

  /** Replaces what is known of the topics' stored offsets with what the shard returned. */
  loaded(topics: string[], offsets: PartitionOffset[]): void {
    const wanted = new Set(topics);
    for (const key of [...this.stored.keys()])
      if (wanted.has(key.slice(0, key.lastIndexOf('\u0000')))) this.stored.delete(key);
    for (const o of offsets) {
      this.stored.set(tpKey(o.topic, o.partition), {
        nextOffset: o.nextOffset,
        truncateBarrier: o.truncateBarrier ?? null,
        leaderEpoch: o.leaderEpoch ?? null,
      });
    }
  }

  stateOf(topic: string, partition: number): PartitionState | undefined {
    return this.stored.get(tpKey(topic, partition));
  }

  /** The stored next offset of a partition; -1n when the shard has no row for it. */
  nextOf(topic: string, partition: number): bigint {
    const next = this.stateOf(topic, partition)?.nextOffset;
    return next === undefined || next === null ? -1n : BigInt(next);
  }

  /** Every partition state the shard is known to hold. */
  states(): ReadonlyMap<string, PartitionState> {
    return this.stored;
  }

  /** The part of a batch's offsets that moves this shard forward, and the fence for it. */
  offsetsFor(batch: SinkBatch): Pick<SinkBatch, 'offsets' | 'expected'> {
    const offsets = batch.offsets.filter((o) => BigInt(o.nextOffset) > this.nextOf(o.topic, o.partition));
    const expected = offsets.map((o) => {
      const s = this.stateOf(o.topic, o.partition);
      return {
        topic: o.topic,
        partition: o.partition,
        nextOffset: s?.nextOffset ?? null,
        truncateBarrier: s?.truncateBarrier ?? null,
      };
    });
    return { offsets, expected };
  }

  /** The shard committed a batch: its offsets and barriers are now stored. */
  committed(batch: SinkBatch): void {
    for (const b of batch.barriers ?? []) {
      const s = this.stateOf(b.topic, b.partition);
      this.stored.set(tpKey(b.topic, b.partition), {
        nextOffset: s?.nextOffset ?? '0',
        truncateBarrier: b.truncateBarrier,
        leaderEpoch: s?.leaderEpoch ?? null,
      });
    }
    for (const o of batch.offsets) {
      this.stored.set(tpKey(o.topic, o.partition), {
        nextOffset: o.nextOffset,
        truncateBarrier: o.truncateBarrier ?? null,
        leaderEpoch: o.leaderEpoch ?? null,
      });
    }
  }

  /** Creates or evolves the tables of a batch on this shard, as the runtime does before each apply. */
  async ensure(schemas: TableSchema[]): Promise<void> {
    for (const schema of schemas) await this.connector.ensureTable(schema);
  }
}
