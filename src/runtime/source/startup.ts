import type {
  CheckResult,
  Logger,
  SourceConnector,
  SourceContext,
  StoredSourceOffset,
  TableSchema,
} from '../../api/index.js';
import { FerryError } from '../../api/index.js';
import { dataTopic, offsetsTopic, schemasTopic, signalsTopic, transactionsTopic } from '../../kafka/topics.js';
import { latestSourceOffset, readStoredPosition, sourceOffsetTombstone } from '../../offsets/source-offsets.js';
import { abortable, everyMs, retry } from '../retry.js';
import type { SourcePublisher } from './publisher.js';
import type { SourceTransport } from './transport.js';

export interface SourceStartupOptions {
  pipeline: string;
  sourceId: string;
  connector: SourceConnector;
  transport: SourceTransport;
  logger: Logger;
  /** Kafka failed and is retried (true), or answered again after failing (false): readiness. */
  onKafkaWait?(waiting: boolean): void;
  partitions: number;
  replicationFactor: number;
  /** The runtime's stop: ends every attempt and wait. */
  signal: AbortSignal;
  ctx: () => SourceContext;
  /** Give up on a failing Kafka after this many ms. Default: wait as long as it takes. */
  kafkaRetryTimeoutMs?: number;
  /** Transaction metadata is published (`<pipeline>.__transactions` is made with the other topics). */
  transactions?: boolean;
}

/**
 * The source's start-up steps before it reads (docs/delivery.md): the stored position, the
 * connector's preflight, `--resnapshot`, the topics. Every Kafka call waits until the stop.
 */
export class SourceStartup {
  constructor(private readonly o: SourceStartupOptions) {}

  /** The position this source stored last (null: none). */
  async loadOffset(): Promise<StoredSourceOffset | null> {
    const topic = offsetsTopic(this.o.pipeline);
    const records = await this.kafkaUntilStopped(() => this.o.transport.readTopic(topic));
    const read = readStoredPosition(records, this.o.sourceId);
    for (const s of read.stale) {
      this.o.logger.warn('ignored a stored position of a former active instance (a lower leader epoch)', s);
    }
    if (read.shadowed) {
      throw new FerryError(
        'FERRY_POSITION_LOST',
        `the last position stored in ${topic} was sent by a former active instance (epoch ` +
          `${read.stale.at(-1)?.epoch}, below ${read.stale.at(-1)?.highest}) and compaction removed the positions ` +
          'before it, so where to resume is unknown; start the source once with --resnapshot',
      );
    }
    const stored = read.offset;
    if (stored) {
      this.o.logger.info('resuming from the stored position', {
        phase: stored.phase,
        position: this.o.connector.describePosition(stored.position),
      });
    }
    return stored;
  }

  /** `--resnapshot`, once the preflight passed: a tombstone for the stored position. */
  async forgetOffset(): Promise<void> {
    const topic = offsetsTopic(this.o.pipeline);
    const records = await this.kafkaUntilStopped(() => this.o.transport.readTopic(topic), 0);
    if (latestSourceOffset(records, this.o.sourceId)) {
      await this.kafkaUntilStopped(
        () => this.o.transport.send([sourceOffsetTombstone(this.o.pipeline, this.o.sourceId)]),
        0,
      );
    }
    this.o.logger.warn('forgot the stored source position (--resnapshot): taking a new snapshot');
  }

  async preflight(stored: StoredSourceOffset | null): Promise<void> {
    const results: CheckResult[] = await abortable(this.o.connector.preflight(this.o.ctx(), stored), [this.o.signal]);
    const failed = results.filter((r) => !r.ok);
    for (const r of results.filter((x) => x.ok)) this.o.logger.debug('preflight check passed', { check: r.name });
    if (failed.length === 0) return;
    const lines = failed.map((r) => `  - ${r.name}: ${r.detail ?? 'failed'}${r.fix ? `\n    fix: ${r.fix}` : ''}`);
    throw new FerryError(
      'FERRY_PREFLIGHT',
      `the source is not ready for change capture (${failed.length} failing check${failed.length > 1 ? 's' : ''}); ` +
        `nothing was published:\n${lines.join('\n')}`,
      { details: { checks: failed } },
    );
  }

  async createTopics(tables: TableSchema[], publisher: SourcePublisher): Promise<void> {
    const { pipeline, partitions, replicationFactor } = this.o;
    const specs = [
      { topic: offsetsTopic(pipeline), partitions: 1, replicationFactor, compacted: true },
      { topic: schemasTopic(pipeline), partitions: 1, replicationFactor, compacted: true },
      ...(this.o.connector.openChunkReader
        ? [{ topic: signalsTopic(pipeline), partitions: 1, replicationFactor }]
        : []),
      // Made now, not with the first transaction: creating a topic takes a Kafka round trip or
      // more (about 180 ms here), which the first change after the snapshot would wait for.
      ...(this.o.transactions ? [{ topic: transactionsTopic(pipeline), partitions: 1, replicationFactor }] : []),
      ...tables.map((t) => ({ topic: dataTopic(pipeline, t.db, t.table), partitions, replicationFactor })),
    ];
    await this.kafkaUntilStopped(() => this.o.transport.ensureTopics(specs));
    publisher.markTopicsKnown(specs.map((s) => s.topic));
  }

  /**
   * A Kafka operation of the start-up, retried as long as it takes (or until
   * `kafkaRetryTimeoutMs`; `retries` bounds the count), with a warning about once a minute, each
   * attempt and wait ended by the stop (the kafkajs client retries inside an attempt too, for
   * about 30 s when the broker is down).
   */
  private kafkaUntilStopped<T>(fn: () => Promise<T>, retries = Number.POSITIVE_INFINITY): Promise<T> {
    const signal = this.o.signal;
    const report = everyMs(60_000);
    const since = Date.now();
    let failed = false;
    return retry(() => abortable(fn(), [signal]), {
      retries,
      signal,
      ...(this.o.kafkaRetryTimeoutMs !== undefined ? { giveUpAfterMs: this.o.kafkaRetryTimeoutMs } : {}),
      onRetry: (err, attempt, delayMs) => {
        failed = true;
        this.o.onKafkaWait?.(true);
        if (!report()) return;
        this.o.logger.warn('Kafka is not answering; waiting for Kafka and retrying', {
          attempt,
          delayMs,
          waitingMs: Date.now() - since,
          error: err instanceof Error ? err.message : String(err),
        });
      },
    })
      .then((value) => {
        if (failed) this.o.onKafkaWait?.(false);
        return value;
      })
      .catch((err: unknown) => {
        // Cut short by the stop (in an attempt or a wait): the stop, not the last failure, ended it.
        throw signal.aborted ? signal.reason : err;
      });
  }
}
