/**
 * Applying records to the target (docs/sinks.md#errors): decode them, copy poison records to
 * the dead-letter topic, plan truncate barriers, reduce per key, and apply the batch with its
 * offsets and fence in one target transaction, retrying systemic failures. A record the target
 * rejects for a data reason is isolated by splitting the batch in halves and dead-lettered.
 */
import {
  FerryError,
  type Logger,
  type Row,
  type SinkBatch,
  type SinkConnector,
  type TableSchema,
  tableName,
} from '../../api/index.js';
import type { RecordProducer } from '../../kafka/producer.js';
import { signalsTopic } from '../../kafka/topics.js';
import type { FerryMetrics } from '../../metrics/metrics.js';
import { encodeSignal } from '../../signals/signals.js';
import { type DeadLetter, sendDeadLetters } from './dead-letter.js';
import type { InRecord, RecordDecoder } from './decode.js';
import { isDataError } from './errors.js';
import { judgeEpochs, reportStale } from './leader-epoch.js';
import { observeApplied } from './metrics.js';
import { tpKey } from './partition-state.js';
import type { PartitionStates } from './partitions.js';
import { reduceEvents, schemasOf } from './reduce.js';
import type { WithRetry } from './retry.js';
import { isRoutedSink, routedRecords } from './shards/routed.js';
import { planBarriers } from './truncate-barrier.js';

export interface SinkApplierDeps {
  pipeline: string;
  connector: SinkConnector;
  decoder: RecordDecoder;
  states: PartitionStates;
  withRetry: WithRetry;
  logger: Logger;
  metrics?: FerryMetrics | undefined;
  /** Poison records go to the dead-letter topic (else the first one stops the sink). */
  dlq: boolean;
  /** The dead-letter producer, once connected. */
  producer: () => RecordProducer | null;
}

type Heartbeat = () => Promise<void>;

export class SinkApplier {
  private readonly d: SinkApplierDeps;

  constructor(deps: SinkApplierDeps) {
    this.d = deps;
  }

  /** Decodes the records, dead-letters the poison ones, and applies the rest with every offset. */
  async process(records: InRecord[], heartbeat: Heartbeat): Promise<void> {
    const letters: DeadLetter[] = [];
    const { stale } = judgeEpochs(records, (tp) => this.d.states.epochOf(tp));
    for (const r of records) {
      if (!r.decoded) r.decoded = await this.d.withRetry('decoding records', () => this.d.decoder.decode(r), heartbeat);
      // A stale record (leader-epoch.ts) is skipped, never dead-lettered.
      if (r.decoded.kind === 'poison' && !r.dlqSent && !stale.has(r)) {
        letters.push(
          r.decoded.label
            ? { record: r, error: r.decoded.error, table: r.decoded.label }
            : { record: r, error: r.decoded.error },
        );
      }
    }
    await this.deadLetter(letters, heartbeat);
    await this.applyRecords(records, heartbeat);
  }

  private async deadLetter(letters: DeadLetter[], heartbeat: Heartbeat): Promise<void> {
    if (letters.length === 0) return;
    const first = letters[0]!;
    const producer = this.d.producer();
    if (!this.d.dlq || !producer) {
      throw new FerryError(
        'FERRY_APPLY',
        `${first.record.topic}[${first.record.partition}]@${first.record.offset} cannot be applied and the dead-letter ` +
          `topic is disabled: ${first.error.message}`,
        { cause: first.error },
      );
    }
    await this.d.withRetry(
      'sending to the dead-letter topic',
      () => sendDeadLetters(producer, this.d.pipeline, letters),
      heartbeat,
    );
    for (const d of letters) {
      d.record.dlqSent = true;
      this.d.metrics?.dlqEvents.inc({ table: d.table ?? d.record.topic });
      this.d.logger.warn('sent a record to the dead-letter topic', {
        topic: d.record.topic,
        partition: d.record.partition,
        offset: d.record.offset,
        code: d.error.code,
        reason: d.error.message,
      });
    }
  }

  /**
   * Asks the source to read rows again (a partial update for rows the target does not hold):
   * a keyed snapshot request on `<pipeline>.__signals`, sent before the batch commits.
   */
  private async requestRepair(schema: TableSchema, keys: Row[]): Promise<void> {
    const producer = this.d.producer();
    if (!producer) throw new FerryError('FERRY_CONNECTION', 'the producer is not connected yet', { retriable: true });
    const values = keys.map((k) => schema.primaryKey.map((c) => k[c] ?? null));
    await producer.send([
      {
        topic: signalsTopic(this.d.pipeline),
        key: `repair-${tableName(schema.origin ?? schema)}`,
        value: encodeSignal({
          type: 'snapshot',
          tables: [tableName(schema.origin ?? schema)],
          keys: values,
          requestedAt: Date.now(),
        }),
        partition: 0,
      },
    ]);
  }

  /**
   * Applies records (ordered per partition) and their offsets in one transaction. On a data
   * error the records are split in halves, each applied on its own, down to the single record
   * the target rejects, which goes to the dead-letter topic.
   */
  private async applyRecords(records: InRecord[], heartbeat: Heartbeat): Promise<void> {
    if (records.length === 0) return;
    const { states, connector, withRetry } = this.d;
    // Records of a former active source instance (a lower leader epoch than one before them) are
    // skipped; their offsets still move on, with the highest epoch (leader-epoch.ts).
    const { stale, highest } = judgeEpochs(records, (tp) => states.epochOf(tp));
    const plan = planBarriers(
      records.map((r) => ({
        topic: r.topic,
        partition: r.partition,
        ...(r.decoded?.kind === 'event' && r.decoded.truncateId && !stale.has(r)
          ? { truncateId: r.decoded.truncateId }
          : {}),
      })),
      (topic, partition) => states.stateOf(tpKey(topic, partition)),
      (topic) => states.partitionCount(topic),
    );
    const kept = records.filter((r, i) => plan.keep[i] && !stale.has(r) && r.decoded?.kind === 'event');
    const events = kept.map((r) => (r.decoded as Extract<InRecord['decoded'], { kind: 'event' }>).event);
    const routed = isRoutedSink(connector) ? connector : null;
    const tables = routed ? [] : reduceEvents(events, { changes: connector.keepsChanges === true });
    const batch: SinkBatch = states.batchFor(records, tables, plan.barrierAfter, plan.barriers);
    batch.repair = (schema, keys) => this.requestRepair(schema, keys);
    const started = process.hrtime.bigint();
    try {
      await withRetry(
        'applying a batch',
        async () => {
          if (routed) return routed.applyRouted(routedRecords(kept), batch);
          for (const schema of schemasOf(tables)) await connector.ensureTable(schema);
          await connector.apply(batch);
        },
        heartbeat,
      );
    } catch (err) {
      if (!isDataError(err) || !this.d.dlq) throw err;
      if (records.length === 1) {
        const r = records[0]!;
        const label = r.decoded?.kind === 'event' ? r.decoded.label : undefined;
        await this.deadLetter([label ? { record: r, error: err, table: label } : { record: r, error: err }], heartbeat);
        const skip = states.batchFor(records, [], new Map(), []);
        await withRetry('storing offsets', () => connector.apply(skip), heartbeat);
        states.committedAfter(skip);
        return;
      }
      const mid = Math.ceil(records.length / 2);
      this.d.logger.debug('a batch has a rejected row; splitting it', { records: records.length, error: err.message });
      await this.applyRecords(records.slice(0, mid), heartbeat);
      await this.applyRecords(records.slice(mid), heartbeat);
      return;
    }
    states.committedAfter(batch);
    if (stale.size > 0) reportStale(stale, (tp) => highest.get(tp) ?? null, this.d.logger, this.d.metrics);
    if (this.d.metrics) observeApplied(this.d.metrics, kept, Number(process.hrtime.bigint() - started) / 1e9);
  }
}
