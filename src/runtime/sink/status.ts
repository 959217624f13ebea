/**
 * Sink progress for `ferry status`: the offsets stored in the target against Kafka's end
 * offsets, per partition. The connector must be started (it reads ferry_offsets).
 */
import type { Kafka } from 'kafkajs';
import type { SinkConnector } from '../../api/index.js';
import { withAdmin } from '../../kafka/admin.js';
import { isDataTopic } from '../../kafka/topics.js';

export interface PartitionProgress {
  topic: string;
  partition: number;
  /** Next offset stored in the target; null when the sink has not applied anything there yet. */
  nextOffset: string | null;
  /** Kafka's log start and end (next offset to be written). */
  startOffset: string;
  endOffset: string;
  /** Records not applied yet. */
  lag: number;
  truncateBarrier: string | null;
}

export interface SinkProgress {
  partitions: PartitionProgress[];
  totalLag: number;
}

export async function readSinkProgress(opts: {
  kafka: Kafka;
  connector: SinkConnector;
  pipeline: string;
  /** Default: every data topic of the pipeline. */
  topics?: string[];
}): Promise<SinkProgress> {
  const partitions: PartitionProgress[] = [];
  await withAdmin(opts.kafka, async (admin) => {
    const topics = opts.topics ?? (await admin.listTopics()).filter((t) => isDataTopic(opts.pipeline, t)).sort();
    const stored = await opts.connector.readOffsets(topics);
    const byTp = new Map(stored.map((s) => [`${s.topic}\u0000${s.partition}`, s]));
    for (const topic of topics) {
      const offsets = await admin.fetchTopicOffsets(topic);
      for (const o of offsets.sort((a, b) => a.partition - b.partition)) {
        const s = byTp.get(`${topic}\u0000${o.partition}`);
        const low = BigInt(o.low);
        const high = BigInt(o.high);
        let from = s ? BigInt(s.nextOffset) : low;
        if (from < low) from = low;
        partitions.push({
          topic,
          partition: o.partition,
          nextOffset: s?.nextOffset ?? null,
          startOffset: o.low,
          endOffset: o.high,
          lag: Number(high > from ? high - from : 0n),
          truncateBarrier: s?.truncateBarrier ?? null,
        });
      }
    }
  });
  return { partitions, totalLag: partitions.reduce((n, p) => n + p.lag, 0) };
}
