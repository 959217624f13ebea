/**
 * The sink's Kafka consumer (docs/sinks.md#consuming-and-scaling): one kafkajs consumer in the
 * group, subscribed to the data topics until the set of topics changes or the consumer dies.
 * A partition's fetched batch is checked against the stored offsets (sought there when it does
 * not start where the target says), records below them are skipped, and the rest is cut into
 * chunks of at most batchSize records and batchBytes bytes for the batcher. After a chunk committed the partition
 * moves on and the Kafka group offset follows, for lag tools only (lag-commits.ts).
 */
import type { Admin, Consumer, EachBatchPayload } from 'kafkajs';
import type { Logger } from '../../api/index.js';
import { parseRenameMarker } from '../../event/rename-marker.js';
import { type ChunkBatcher, cutChunks } from './batcher.js';
import { type InRecord, inRecord } from './decode.js';
import { FencedError, StaleError, StoppedError } from './errors.js';
import { LagCommits } from './lag-commits.js';
import type { SinkLag } from './metrics.js';
import type { SinkRuntimeOptions } from './options.js';
import { tpKey } from './partition-state.js';
import type { PartitionStates } from './partitions.js';
import type { RenameBarriers } from './rename-barrier.js';
import type { WithRetry } from './retry.js';

/** What the consumer needs of the runtime's lifecycle. */
export interface RunControl {
  /** stop() was called. */
  stopping(): boolean;
  /** The runtime failed and is stopping. */
  failed(): boolean;
  fail(err: unknown): void;
  /** Sleeps `ms`, or less when stop(), a failure or wake() interrupts. */
  pause(ms: number): Promise<void>;
  wake(): void;
}

export interface SinkConsumerDeps
  extends Pick<
    SinkRuntimeOptions,
    | 'kafka'
    | 'group'
    | 'sessionTimeoutMs'
    | 'heartbeatIntervalMs'
    | 'topicRefreshMs'
    | 'fetchMaxBytes'
    | 'fetchMaxBytesPerPartition'
  > {
  batchSize: number;
  batchBytes: number;
  lingerMs: number;
  /** The options fix the topics: no need to look for new ones. */
  fixedTopics: boolean;
  /** The data topics to consume now. */
  resolveTopics: () => Promise<string[]>;
  admin: () => Admin;
  withRetry: WithRetry;
  logger: Logger;
  control: RunControl;
  states: PartitionStates;
  batcher: ChunkBatcher;
  lag: SinkLag;
  renames: RenameBarriers;
}

/** How long a leaving consumer waits for its last lag offsets to be committed, ms. */
const LAG_SETTLE_MS = 1000;

/** How long a partition held at a rename marker waits before it looks again, ms. */
const RENAME_HOLD_MS = 250;

export class SinkConsumer {
  private readonly d: SinkConsumerDeps;
  private consumer: Consumer | null = null;
  private lagCommits: LagCommits | null = null;
  private dead = false;
  private topics: string[] = [];

  constructor(deps: SinkConsumerDeps) {
    this.d = deps;
  }

  /**
   * Consumes `topics` until stop(), a failure, or a change of the set of data topics. Resolves
   * true when the consumer died instead (the caller waits a little and starts a new one).
   */
  async consume(topics: string[]): Promise<boolean> {
    const { d } = this;
    const { control, logger } = d;
    d.states.useTopics(topics);
    this.topics = topics;
    const meta = await d.withRetry('reading topic metadata', () => d.admin().fetchTopicMetadata({ topics }));
    let partitions = 0;
    for (const t of meta.topics) {
      d.states.setPartitionCount(t.name, t.partitions.length);
      partitions += t.partitions.length;
    }
    this.dead = false;
    const consumer = d.kafka.consumer({
      groupId: d.group,
      sessionTimeout: d.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: d.heartbeatIntervalMs ?? 3000,
      rebalanceTimeout: Math.max(60_000, d.sessionTimeoutMs ?? 30_000),
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: Math.max(10, d.lingerMs),
      minBytes: 1,
      maxBytesPerPartition: d.fetchMaxBytesPerPartition ?? 1024 * 1024,
      maxBytes: d.fetchMaxBytes ?? 8 * 1024 * 1024,
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10_000 },
    });
    this.consumer = consumer;
    const lagCommits = new LagCommits((offsets) => consumer.commitOffsets(offsets), logger);
    this.lagCommits = lagCommits;
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      this.onAssignment(e.payload.memberAssignment as Record<string, number[]>);
    });
    consumer.on(consumer.events.CRASH, (e) => {
      const payload = e.payload as { error: Error; restart: boolean };
      if (!payload.restart && !control.stopping()) {
        logger.warn('the Kafka consumer stopped; starting a new one', { error: payload.error?.message });
        this.dead = true;
        control.wake();
      }
    });
    const running = () => !control.stopping() && !control.failed() && !this.dead;
    try {
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: Math.max(1, Math.min(partitions, 64)),
        eachBatch: (payload) => this.eachBatch(payload),
      });
      logger.info('consuming', { topics: topics.length, partitions });
      while (running()) {
        await control.pause(d.topicRefreshMs ?? 30_000);
        if (!running() || d.fixedTopics) continue;
        const now = await d.resolveTopics().catch(() => topics);
        if (now.join('\n') !== topics.join('\n')) {
          logger.info('the set of data topics changed; re-subscribing', { topics: now.length });
          break;
        }
      }
    } catch (err) {
      if (!control.stopping()) {
        logger.warn('Kafka consumer error; starting a new consumer', { error: (err as Error).message });
        this.dead = true;
      }
    } finally {
      this.consumer = null;
      this.lagCommits = null;
      // The last lag offsets, if Kafka answers soon; a stop does not wait longer for them.
      await Promise.race([lagCommits.settle(), new Promise((resolve) => setTimeout(resolve, LAG_SETTLE_MS).unref())]);
      await consumer.disconnect().catch(() => undefined);
    }
    return this.dead;
  }

  async disconnect(): Promise<void> {
    const c = this.consumer;
    this.consumer = null;
    if (c) await c.disconnect().catch(() => undefined);
  }

  private onAssignment(assignment: Record<string, number[]>): void {
    const count = Object.values(assignment).reduce((n, ps) => n + ps.length, 0);
    this.d.logger.info('partitions assigned', { partitions: count });
    this.d.states.forget();
    this.lagCommits?.clear();
    this.d.lag.assign(assignment);
  }

  private async eachBatch(p: EachBatchPayload): Promise<void> {
    if (!(await this.applyBatch(p))) return;
    // Held at a rename marker: look again a little later (outside the batcher, which need not wait for it).
    await this.d.control.pause(RENAME_HOLD_MS);
    await p.heartbeat().catch(() => undefined);
  }

  /**
   * Applies a fetched batch of a partition; returns true when the partition is held at a rename
   * marker (rename-barrier.ts): the records before it are applied, the partition is sought back
   * to the marker.
   */
  private async applyBatch(p: EachBatchPayload): Promise<boolean> {
    const { batch } = p;
    const { control, states, batcher } = this.d;
    const done = () => control.stopping() || control.failed();
    // A batch fetched before a seek of its partition (a rename hold): fetched again from there.
    if (done() || p.isStale()) return false;
    batcher.enter();
    const tp = tpKey(batch.topic, batch.partition);
    try {
      try {
        await states.load();
      } catch (err) {
        if (!(err instanceof StoppedError)) control.fail(err);
        return false;
      }
      this.d.lag.observeHighWatermark(tp, batch.highWatermark);
      const seek = (topic: string, partition: number, offset: string) =>
        this.consumer?.seek({ topic, partition, offset });
      if (!states.isValidated(tp) && !states.validate(batch, tp, seek)) return false;
      const start = states.startOf(tp);
      const records: InRecord[] = [];
      let lastSkipped: string | null = null;
      for (const m of batch.messages) {
        if (BigInt(m.offset) < start) {
          lastSkipped = m.offset;
          continue;
        }
        records.push(inRecord(batch.topic, batch.partition, m));
      }
      if (lastSkipped !== null) p.resolveOffset(lastSkipped);
      let held: InRecord | undefined;
      try {
        held = await this.renameHold(records, p.heartbeat);
      } catch (err) {
        if (!(err instanceof StoppedError)) control.fail(err);
        return false;
      }
      if (held) records.length = records.indexOf(held);
      for (const chunk of cutChunks(records, this.d.batchSize, this.d.batchBytes)) {
        if (!p.isRunning() || p.isStale() || done()) return false;
        try {
          await batcher.submit(tp, chunk, p.heartbeat);
        } catch (err) {
          if (err instanceof StaleError) states.unvalidate(tp);
          else if (!(err instanceof FencedError || err instanceof StoppedError || control.failed())) {
            this.d.logger.warn('a batch was not applied; it will be fetched again', { error: (err as Error).message });
          }
          return false;
        }
        const last = chunk[chunk.length - 1]!.offset;
        p.resolveOffset(last);
        this.lagCommits?.note(batch.topic, batch.partition, (BigInt(last) + 1n).toString());
        await p.heartbeat();
      }
      if (!held || !p.isRunning() || p.isStale() || done()) return false;
      seek(batch.topic, batch.partition, held.offset);
      return true;
    } finally {
      batcher.leave();
    }
  }

  /** The first rename marker among the records whose old topic is not applied up to the rename yet. */
  private async renameHold(records: InRecord[], heartbeat: () => Promise<void>): Promise<InRecord | undefined> {
    for (const r of records) {
      const marker = parseRenameMarker(r.value);
      if (marker && !(await this.d.renames.passed(marker, this.topics, heartbeat))) return r;
    }
    return undefined;
  }
}
