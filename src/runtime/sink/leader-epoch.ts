/**
 * The sink's half of the source failover fence (docs/failover.md#fencing). With
 * `source.failover`, every data record carries the `ferry-leader-epoch` header of the source
 * instance that published it. Per Kafka partition the sink keeps the highest epoch it has seen
 * (stored with the partition's offset, in the same target transaction) and skips a record whose
 * epoch is lower: it was sent by a former active instance and reached Kafka only after a record of
 * a newer instance, and the newer instance published the same change again after it resumed from
 * the last position the former one stored. Records without the header are applied as always.
 */
import type { IHeaders } from 'kafkajs';
import type { Logger } from '../../api/index.js';
import type { FerryMetrics } from '../../metrics/metrics.js';
import { EPOCH_HEADER } from '../../offsets/leader-epoch.js';
import { tpKey } from './partition-state.js';

/** The `ferry-leader-epoch` header of a consumed record; null when absent or not an epoch. */
export function headerEpoch(headers: IHeaders | undefined): number | null {
  let v: unknown = headers?.[EPOCH_HEADER];
  if (Array.isArray(v)) v = v[0];
  if (v === undefined || v === null) return null;
  const text = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
  if (!/^\d{1,15}$/.test(text)) return null;
  return Number(text);
}

/** What the filter needs of a record: where it is and the epoch it carries. */
export interface EpochRecord {
  topic: string;
  partition: number;
  offset: string;
  epoch?: number | null;
}

const higher = (a: number | null, b: number | null | undefined): number | null =>
  b === null || b === undefined ? a : a === null || b > a ? b : a;

export interface EpochVerdict<R> {
  /** Records of a lower epoch than an earlier record (or the stored epoch) of their partition. */
  stale: Set<R>;
  /** Per partition (tpKey), the highest epoch once the records are consumed (null: none seen). */
  highest: Map<string, number | null>;
}

/**
 * Sorts out the stale records of a run that continues each of its partitions from the stored
 * state: `storedEpoch(tp)` is the highest epoch before the run's first record of the partition.
 * Records must be in offset order per partition.
 */
export function judgeEpochs<R extends EpochRecord>(
  records: R[],
  storedEpoch: (tp: string) => number | null,
): EpochVerdict<R> {
  const stale = new Set<R>();
  const highest = new Map<string, number | null>();
  for (const r of records) {
    const tp = tpKey(r.topic, r.partition);
    const max = highest.has(tp) ? highest.get(tp)! : storedEpoch(tp);
    if (r.epoch !== null && r.epoch !== undefined && max !== null && r.epoch < max) stale.add(r);
    highest.set(tp, higher(max, r.epoch));
  }
  return { stale, highest };
}

/**
 * Counts skipped records (`ferry_sink_stale_epoch_records_total{topic}`) and logs one line per
 * partition with the epochs involved. Called once the records' offsets are committed.
 */
export function reportStale(
  stale: Iterable<EpochRecord>,
  highest: (tp: string) => number | null,
  logger: Logger,
  metrics: FerryMetrics | undefined,
): void {
  const byTp = new Map<string, { topic: string; partition: number; offsets: string[]; epochs: Set<number> }>();
  for (const r of stale) {
    const tp = tpKey(r.topic, r.partition);
    let e = byTp.get(tp);
    if (!e) {
      e = { topic: r.topic, partition: r.partition, offsets: [], epochs: new Set() };
      byTp.set(tp, e);
    }
    e.offsets.push(r.offset);
    if (r.epoch !== null && r.epoch !== undefined) e.epochs.add(r.epoch);
  }
  for (const [tp, e] of byTp) {
    metrics?.sinkStaleEpochRecords.inc({ topic: e.topic }, e.offsets.length);
    logger.warn('skipped records of a former active source instance (a lower leader epoch than seen before)', {
      topic: e.topic,
      partition: e.partition,
      records: e.offsets.length,
      firstOffset: e.offsets[0],
      staleEpochs: [...e.epochs].sort((a, b) => a - b),
      highestEpoch: highest(tp),
    });
  }
}

/**
 * The same filter for a consumer that reads ahead of what it applies (transaction mode): fetched
 * batches are judged as they are read, in offset order per partition from the stored offset, and
 * accepted once they are handed on; the epoch to store with a next offset is looked up afterwards
 * (`epochAt`). A batch read again (a refetch after a seek) gets the same verdicts.
 */
export class EpochTracker {
  /** Per partition: the stored epoch at the stored offset, then every offset where the highest rose. */
  private readonly parts = new Map<
    string,
    { base: number | null; rises: Array<{ offset: bigint; epoch: number }>; read: bigint }
  >();

  /** A partition starts at its stored next offset with its stored epoch (drops what was known). */
  start(topic: string, partition: number, nextOffset: string | null, epoch: number | null): void {
    this.parts.set(tpKey(topic, partition), { base: epoch, rises: [], read: BigInt(nextOffset ?? '0') });
  }

  /** The stale records of a fetched batch (in offset order); changes nothing. */
  judge<R extends EpochRecord>(records: R[]): Set<R> {
    const stale = new Set<R>();
    const seen = new Map<string, number | null>();
    for (const r of records) {
      const tp = tpKey(r.topic, r.partition);
      const p = this.parts.get(tp);
      if (!p) continue;
      const max = higher(this.before(p, BigInt(r.offset)), seen.get(tp));
      if (r.epoch !== null && r.epoch !== undefined && max !== null && r.epoch < max) stale.add(r);
      seen.set(tp, higher(max, r.epoch));
    }
    return stale;
  }

  /** The batch was handed on: remembers where the highest epoch rose. Returns the records read for the first time. */
  accept<R extends EpochRecord>(records: R[]): Set<R> {
    const first = new Set<R>();
    for (const r of records) {
      const p = this.parts.get(tpKey(r.topic, r.partition));
      const offset = BigInt(r.offset);
      if (!p || offset < p.read) continue;
      first.add(r);
      p.read = offset + 1n;
      const max = this.before(p, offset);
      if (r.epoch !== null && r.epoch !== undefined && (max === null || r.epoch > max))
        p.rises.push({ offset, epoch: r.epoch });
    }
    return first;
  }

  /** The highest epoch among the records before `nextOffset` (what is stored with it). */
  epochAt(topic: string, partition: number, nextOffset: string): number | null {
    const p = this.parts.get(tpKey(topic, partition));
    return p ? this.before(p, BigInt(nextOffset)) : null;
  }

  private before(p: { base: number | null; rises: Array<{ offset: bigint; epoch: number }> }, offset: bigint) {
    let max = p.base;
    for (const r of p.rises) {
      if (r.offset >= offset) break;
      max = r.epoch;
    }
    return max;
  }
}
