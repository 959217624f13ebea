/**
 * What this sink process knows of its partitions (docs/sinks.md#offsets): the next offsets and
 * truncate barriers stored in the target, Kafka's log starts, and which partitions of the
 * current assignment were checked to start where the target says (the others are sought
 * there). Also builds a batch's offsets and its fence, and records what a commit stored.
 */
import type { Admin, Batch } from 'kafkajs';
import type { Logger, SinkBatch, SinkConnector } from '../../api/index.js';
import type { FerryMetrics } from '../../metrics/metrics.js';
import type { InRecord } from './decode.js';
import { judgeEpochs } from './leader-epoch.js';
import { type PartitionState, tpKey } from './partition-state.js';
import type { WithRetry } from './retry.js';

export interface PartitionStatesDeps {
  connector: SinkConnector;
  /** The runtime's Kafka admin client (connected before any partition is assigned). */
  admin: () => Admin;
  withRetry: WithRetry;
  logger: Logger;
  metrics?: FerryMetrics | undefined;
}

/** Moves a partition's consumer to an offset. */
export type Seek = (topic: string, partition: number, offset: string) => void;

/** Same stored next offset and barrier (undefined: no row). */
export function sameState(a: PartitionState | undefined, b: PartitionState | undefined): boolean {
  return (
    (a?.nextOffset ?? null) === (b?.nextOffset ?? null) && (a?.truncateBarrier ?? null) === (b?.truncateBarrier ?? null)
  );
}

/** The offset kafkajs asked for (its Batch has it; the typings do not). */
function fetchedOffset(batch: Batch): string {
  return (batch as Batch & { fetchedOffset?: string }).fetchedOffset ?? batch.firstOffset() ?? '0';
}

export class PartitionStates {
  private readonly d: PartitionStatesDeps;
  private topics: string[] = [];
  private readonly partitionCounts = new Map<string, number>();
  // Per assignment.
  private stateLoad: Promise<void> | null = null;
  private readonly committed = new Map<string, PartitionState>();
  private readonly lowWatermarks = new Map<string, bigint>();
  private readonly validated = new Set<string>();
  private readonly sought = new Set<string>();

  constructor(deps: PartitionStatesDeps) {
    this.d = deps;
  }

  /** The topics subscribed to: their stored state is what load() reads. */
  useTopics(topics: string[]): void {
    this.topics = topics;
  }

  setPartitionCount(topic: string, count: number): void {
    this.partitionCounts.set(topic, count);
  }

  partitionCount(topic: string): number {
    return this.partitionCounts.get(topic) ?? 1;
  }

  /** A new assignment, or the stored offsets moved under us: re-read them and re-check every partition's start. */
  forget(): void {
    this.stateLoad = null;
    this.validated.clear();
    this.sought.clear();
  }

  /** Reads the stored offsets and barriers of the subscribed topics, and their low watermarks (once per assignment). */
  load(): Promise<void> {
    if (!this.stateLoad) {
      const { connector, withRetry } = this.d;
      const load = (async () => {
        const stored = await withRetry('reading stored offsets', () => connector.readOffsets(this.topics));
        this.committed.clear();
        for (const s of stored) {
          this.committed.set(tpKey(s.topic, s.partition), {
            nextOffset: s.nextOffset,
            truncateBarrier: s.truncateBarrier ?? null,
            leaderEpoch: s.leaderEpoch ?? null,
          });
        }
        for (const topic of this.topics) {
          const offs = await withRetry('reading topic offsets', () => this.d.admin().fetchTopicOffsets(topic));
          for (const o of offs) this.lowWatermarks.set(tpKey(topic, o.partition), BigInt(o.low));
        }
      })();
      this.stateLoad = load;
      load.catch(() => {
        if (this.stateLoad === load) this.stateLoad = null;
      });
    }
    return this.stateLoad;
  }

  /** The committed state of a partition as this process knows it; undefined: no row. */
  stateOf(tp: string): PartitionState | undefined {
    return this.committed.get(tp);
  }

  /** Where a partition's unapplied records start: the stored next offset, or the log start. */
  startOf(tp: string): bigint {
    const low = this.lowWatermarks.get(tp) ?? 0n;
    const next = this.committed.get(tp)?.nextOffset;
    if (next === undefined || next === null) return low;
    const n = BigInt(next);
    return n < low ? low : n;
  }

  isValidated(tp: string): boolean {
    return this.validated.has(tp);
  }

  /** The partition's next batch must be checked again (its chunk was cut against an outdated state). */
  unvalidate(tp: string): void {
    this.validated.delete(tp);
  }

  /** First batch of a partition in this assignment: true when it starts where the target says; else seeks there. */
  validate(batch: Batch, tp: string, seek: Seek): boolean {
    const start = this.startOf(tp);
    const fetchedText = fetchedOffset(batch);
    const fetched = BigInt(fetchedText);
    const stored = this.committed.get(tp)?.nextOffset;
    if (stored && BigInt(stored) > 0n && BigInt(stored) < (this.lowWatermarks.get(tp) ?? 0n)) {
      this.d.logger.error(
        'records were deleted from Kafka (retention) before the sink applied them; the target misses them',
        {
          topic: batch.topic,
          partition: batch.partition,
          storedNextOffset: stored,
          logStart: String(this.lowWatermarks.get(tp)),
        },
      );
      this.d.metrics?.errors.inc({ component: 'sink', code: 'FERRY_POSITION_LOST' });
    }
    if (fetched === start || this.sought.has(tp)) {
      this.validated.add(tp);
      return true;
    }
    this.d.logger.info('seeking to the offset stored in the target', {
      topic: batch.topic,
      partition: batch.partition,
      from: fetchedText,
      to: String(start),
    });
    this.sought.add(tp);
    seek(batch.topic, batch.partition, String(start));
    return false;
  }

  /** The highest leader epoch stored with a partition's offset (null: none). */
  epochOf(tp: string): number | null {
    return this.committed.get(tp)?.leaderEpoch ?? null;
  }

  /**
   * The SinkBatch of some records: their tables, the next offset of each partition (with the
   * highest leader epoch up to it), barriers and the fence.
   */
  batchFor(
    records: InRecord[],
    tables: SinkBatch['tables'],
    barrierAfter: Map<string, string | null>,
    barriers: NonNullable<SinkBatch['barriers']>,
  ): SinkBatch {
    const last = new Map<string, InRecord>();
    for (const r of records) last.set(tpKey(r.topic, r.partition), r);
    const { highest } = judgeEpochs(records, (tp) => this.epochOf(tp));
    const offsets: SinkBatch['offsets'] = [];
    const expected: NonNullable<SinkBatch['expected']> = [];
    for (const [tp, r] of last) {
      const state = this.committed.get(tp);
      const barrier = barrierAfter.has(tp) ? barrierAfter.get(tp)! : (state?.truncateBarrier ?? null);
      offsets.push({
        topic: r.topic,
        partition: r.partition,
        nextOffset: (BigInt(r.offset) + 1n).toString(),
        truncateBarrier: barrier,
        leaderEpoch: highest.get(tp) ?? null,
      });
      expected.push({
        topic: r.topic,
        partition: r.partition,
        nextOffset: state?.nextOffset ?? null,
        truncateBarrier: state?.truncateBarrier ?? null,
      });
    }
    return { tables, offsets, barriers, expected };
  }

  /** The batch committed: its offsets and barriers are now the stored state. */
  committedAfter(batch: SinkBatch): void {
    for (const b of batch.barriers ?? []) {
      const tp = tpKey(b.topic, b.partition);
      const state = this.committed.get(tp);
      this.committed.set(tp, {
        nextOffset: state?.nextOffset ?? '0',
        truncateBarrier: b.truncateBarrier,
        leaderEpoch: state?.leaderEpoch ?? null,
      });
    }
    for (const o of batch.offsets) {
      this.committed.set(tpKey(o.topic, o.partition), {
        nextOffset: o.nextOffset,
        truncateBarrier: o.truncateBarrier ?? null,
        leaderEpoch: o.leaderEpoch ?? null,
      });
    }
  }
}
