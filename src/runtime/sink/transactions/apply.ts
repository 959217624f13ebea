/**
 * Applying one unit of the transaction assembler (docs/transactions.md): its records reduced
 * per key in order, in ONE target transaction with the offsets it covers, the commit order of
 * its last transaction and the progress of a split transaction. Poison records go to the
 * dead-letter topic first. A data error stops the sink: a transaction is never applied in part.
 */
import {
  FerryError,
  type Logger,
  type PartitionOffset,
  type SinkBatch,
  type SinkConnector,
} from '../../../api/index.js';
import type { RecordProducer } from '../../../kafka/producer.js';
import type { FerryMetrics } from '../../../metrics/metrics.js';
import { type DeadLetter, sendDeadLetters } from '../dead-letter.js';
import type { InRecord } from '../decode.js';
import { isDataError } from '../errors.js';
import { observeApplied } from '../metrics.js';
import { reduceEvents, type SinkEvent, schemasOf } from '../reduce.js';
import type { WithRetry } from '../retry.js';
import type { Unit } from './assembler.js';

/** Rows of ferry_offsets that are not Kafka partitions: the applied commit order and split progress. */
export const appliedTopic = (txTopic: string): string => `${txTopic}.applied`;
export const splitTopic = (txTopic: string): string => `${txTopic}.split`;

export interface UnitApplierDeps {
  pipeline: string;
  transactionsTopic: string;
  connector: SinkConnector;
  withRetry: WithRetry;
  logger: Logger;
  metrics?: FerryMetrics | undefined;
  dlq: boolean;
  producer: () => RecordProducer | null;
  /** The highest source leader epoch before a next offset, stored with it (../leader-epoch.ts). */
  epochAt?: (topic: string, partition: number, nextOffset: string) => number | null;
}

/** A unit with its target batch, ready to apply. */
export interface PreparedUnit {
  unit: Unit;
  batch: SinkBatch;
  /** Its records that are events (not sent to the dead-letter topic). */
  kept: InRecord[];
  started: bigint;
}

export class UnitApplier {
  private readonly d: UnitApplierDeps;
  /** What the target holds for the two extra rows once the units prepared so far are committed (the fence). */
  private storedApplied: string | null;
  private storedSplit: { count: string; id: string | null } | null;

  constructor(deps: UnitApplierDeps, stored: PartitionOffset[]) {
    this.d = deps;
    const a = stored.find((o) => o.topic === appliedTopic(deps.transactionsTopic));
    const s = stored.find((o) => o.topic === splitTopic(deps.transactionsTopic));
    this.storedApplied = a ? a.nextOffset : null;
    this.storedSplit = s ? { count: s.nextOffset, id: s.truncateBarrier ?? null } : null;
  }

  /** Applies the unit serially (retrying systemic failures) in one target transaction. */
  async apply(unit: Unit): Promise<void> {
    await this.applyPrepared(await this.prepare(unit));
  }

  /**
   * Sends its poison records to the dead-letter topic and builds the unit's target batch. Units
   * are prepared in the order they are committed: each one's fence expects what the one before
   * it stores (the applied commit order and the progress of a split transaction).
   */
  async prepare(unit: Unit): Promise<PreparedUnit> {
    const started = process.hrtime.bigint();
    const records = unit.items.map((i) => i.record);
    await this.deadLetter(records);
    const kept = records.filter((r) => r.decoded?.kind === 'event');
    const events = kept.map((r) => (r.decoded as { event: SinkEvent }).event);
    const tables = reduceEvents(events, { changes: this.d.connector.keepsChanges === true });
    const offsets: PartitionOffset[] = unit.offsets.map((o) => ({
      ...o,
      truncateBarrier: null,
      leaderEpoch: this.d.epochAt?.(o.topic, o.partition, o.nextOffset) ?? null,
    }));
    const expected: NonNullable<SinkBatch['expected']> = [...unit.expected];
    const txTopic = this.d.transactionsTopic;
    const applied = unit.applied?.toString() ?? null;
    if (applied !== null && applied !== this.storedApplied) {
      offsets.push({ topic: appliedTopic(txTopic), partition: 0, nextOffset: applied, truncateBarrier: null });
      expected.push({
        topic: appliedTopic(txTopic),
        partition: 0,
        nextOffset: this.storedApplied,
        truncateBarrier: null,
      });
    }
    if (unit.splitProgress !== undefined) {
      const p = unit.splitProgress;
      offsets.push({
        topic: splitTopic(txTopic),
        partition: 0,
        nextOffset: String(p?.count ?? 0),
        truncateBarrier: p?.id ?? null,
      });
      expected.push({
        topic: splitTopic(txTopic),
        partition: 0,
        nextOffset: this.storedSplit?.count ?? null,
        truncateBarrier: this.storedSplit?.id ?? null,
      });
    }
    if (applied !== null) this.storedApplied = applied;
    if (unit.splitProgress !== undefined) {
      const p = unit.splitProgress;
      this.storedSplit = { count: String(p?.count ?? 0), id: p?.id ?? null };
    }
    return { unit, batch: { tables, offsets, expected }, kept, started };
  }

  /**
   * Applies a prepared unit. Serially (no `parallel`): retrying systemic failures, a data error
   * stops the sink. In parallel: once, on its own connection, waiting for `beforeCommit` between
   * its writes and its offsets; any failure is the caller's to handle.
   */
  async applyPrepared(
    prepared: PreparedUnit,
    parallel?: { beforeCommit: () => Promise<void>; lockWaitMs: number },
  ): Promise<void> {
    const { batch, kept, started } = prepared;
    const { connector } = this.d;
    if (parallel) {
      for (const schema of schemasOf(batch.tables)) await connector.ensureTable(schema);
      await connector.apply({ ...batch, beforeCommit: parallel.beforeCommit, lockWaitMs: parallel.lockWaitMs });
    } else {
      try {
        await this.d.withRetry('applying transactions', async () => {
          for (const schema of schemasOf(batch.tables)) await connector.ensureTable(schema);
          await connector.apply(batch);
        });
      } catch (err) {
        if (!isDataError(err)) throw err;
        throw new FerryError(
          'FERRY_APPLY',
          `the target rejected a change of a source transaction (${err.message}); in transaction mode a ` +
            'transaction is applied whole or not at all, so the sink stops. Fix the target (or the row at the ' +
            'source), or run this pipeline with sink.consistency: row, which sends such rows to the dead-letter topic',
          { cause: err },
        );
      }
    }
    if (this.d.metrics) observeApplied(this.d.metrics, kept, Number(process.hrtime.bigint() - started) / 1e9);
  }

  private async deadLetter(records: InRecord[]): Promise<void> {
    const letters: DeadLetter[] = [];
    for (const r of records) {
      if (r.decoded?.kind !== 'poison' || r.dlqSent) continue;
      letters.push(
        r.decoded.label
          ? { record: r, error: r.decoded.error, table: r.decoded.label }
          : { record: r, error: r.decoded.error },
      );
    }
    if (letters.length === 0) return;
    const producer = this.d.producer();
    if (!this.d.dlq || !producer) {
      const first = letters[0]!;
      throw new FerryError(
        'FERRY_APPLY',
        `${first.record.topic}[${first.record.partition}]@${first.record.offset} cannot be applied and the ` +
          `dead-letter topic is disabled: ${first.error.message}`,
        { cause: first.error },
      );
    }
    await this.d.withRetry('sending to the dead-letter topic', () =>
      sendDeadLetters(producer, this.d.pipeline, letters),
    );
    for (const l of letters) {
      l.record.dlqSent = true;
      this.d.metrics?.dlqEvents.inc({ table: l.table ?? l.record.topic });
      this.d.logger.warn('sent a record to the dead-letter topic', {
        topic: l.record.topic,
        partition: l.record.partition,
        offset: l.record.offset,
        code: l.error.code,
        reason: l.error.message,
      });
    }
  }
}
