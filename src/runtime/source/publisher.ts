import type { ChangeEvent, Logger, SourcePosition, StoredSourceOffset, TableId, TableSchema } from '../../api/index.js';
import { FerryError, tableName } from '../../api/index.js';
import type { BoundedQueue } from '../../api/queue.js';
import { encodeEnvelope, keyJson } from '../../event/envelope.js';
import { encodeRenameMarker, renameMarkerKey } from '../../event/rename-marker.js';
import type { OutMessage } from '../../kafka/producer.js';
import { dataTopic, schemasTopic, transactionsTopic } from '../../kafka/topics.js';
import type { FerryMetrics } from '../../metrics/metrics.js';
import { sourceOffsetMessage } from '../../offsets/source-offsets.js';
import { abortable, everyMs, isRetriable, retry } from '../retry.js';
import type { QueueItem } from './items.js';
import type { SourceTransport } from './transport.js';

export interface PublisherOptions {
  pipeline: string;
  /** Offset record key. */
  sourceId: string;
  connectorKind: string;
  describePosition(position: SourcePosition): string;
  transport: SourceTransport;
  queue: BoundedQueue<QueueItem>;
  logger: Logger;
  metrics?: FerryMetrics;
  /** Kafka failed and is retried (true), or answered again after failing (false): readiness. */
  onKafkaWait?(waiting: boolean): void;
  tombstones: boolean;
  partitions: number;
  replicationFactor: number;
  maxBatchEvents: number;
  maxBatchBytes: number;
  /** How long an acknowledged position may wait for the next batch to ride along with. */
  offsetDelayMs: number;
  /**
   * Hard stop: gives up at once, even on a send under way (stopTimeoutMs passed, or a fatal
   * error). What was not acknowledged is read again on the next start.
   */
  signal: AbortSignal;
  /**
   * Graceful stop requested: what is queued is still sent, but a failing send is no longer
   * retried, and a retry under way (Kafka is known to be failing) is given up at once.
   */
  stopSignal: AbortSignal;
  /** Give up on a failing Kafka after this many ms (then the source stops with the error). Default: wait as long as it takes. */
  kafkaRetryTimeoutMs?: number;
  /** Longest wait between two attempts, ms. Default 30 000. */
  kafkaRetryMaxDelayMs?: number;
  /** After an offset was stored (and before connector.acknowledge). */
  onStored(offset: StoredSourceOffset): void;
  /** After Kafka acknowledged events. */
  onPublished(events: ChangeEvent[]): void;
  /** A table schema goes out with the next send (for the schema history a reconnecting stream reads). */
  onSchemaPublished?(schema: TableSchema): void;
  acknowledge?(position: SourcePosition): Promise<void>;
}

interface Pending {
  offset: StoredSourceOffset;
  acknowledge?: SourcePosition;
}

/** A run of items sent in one request; ends after a schema (it must be in Kafka first) or a barrier. */
interface Segment {
  messages: OutMessage[];
  events: ChangeEvent[];
  checkpoint: Pending | null;
  barrier: (() => void) | null;
  bytes: number;
  /** A schema is in it: later events must wait until it is acknowledged. */
  cut: boolean;
}

/**
 * The publishing half of the source runtime: takes items from the queue in order, sends them
 * to Kafka in batches, one send at a time (so order holds), and stores a position in the offsets
 * topic only once Kafka acknowledged every event before it. The stored position rides along with
 * the next batch (it is already safe then) or, when nothing follows, is written on its own after
 * `offsetDelayMs`.
 */
export class SourcePublisher {
  private readonly o: PublisherOptions;
  private pending: Pending | null = null;
  private readonly schemaVersions = new Set<string>();
  private readonly knownTopics = new Set<string>();
  private readonly topics = new Map<string, Map<string, string>>();
  /** Table renames (`from\u0000to`) this process published rename markers for. */
  private readonly renamesMarked = new Set<string>();
  /** Versions (`db.table@version`) with column renames this process published markers for. */
  private readonly columnRenamesMarked = new Set<string>();
  /** Renamed tables (`db.table`) whose markers go out right before their next event. */
  private readonly markersDue = new Map<string, { schema: TableSchema; id: string; from: TableId }>();

  constructor(opts: PublisherOptions) {
    this.o = opts;
  }

  /** Topics that exist already (created by the runtime at start). */
  markTopicsKnown(topics: string[]): void {
    for (const t of topics) this.knownTopics.add(t);
  }

  async run(): Promise<void> {
    const { queue } = this.o;
    for (;;) {
      const items = await queue.take(this.o.maxBatchEvents, this.pending ? this.o.offsetDelayMs : undefined);
      this.setDepth();
      if (items === null) break;
      if (items.length === 0) {
        await this.flushOffset();
        continue;
      }
      let segment = this.newSegment();
      for (const item of items) {
        if (item.kind === 'gate') {
          // A chunk the direct lane is writing: what came before goes now, nothing after it until
          // the write settled; the chunk's events, if it went to Kafka after all, go in its place.
          await this.send(segment);
          segment = this.newSegment();
          const events = await abortable(item.until, [this.o.signal]);
          for (const event of events) {
            await this.add(segment, { kind: 'event', event });
            if (segment.cut || segment.bytes >= this.o.maxBatchBytes) {
              await this.send(segment);
              segment = this.newSegment();
            }
          }
          continue;
        }
        // Rename markers carry the old topic's end offsets: everything before them must be in Kafka first.
        if (this.needsRenameMarkers(item) && segment.messages.length > 0) {
          await this.send(segment);
          segment = this.newSegment();
        }
        await this.add(segment, item);
        if (segment.cut || segment.barrier || segment.bytes >= this.o.maxBatchBytes) {
          await this.send(segment);
          segment = this.newSegment();
        }
      }
      await this.send(segment);
    }
    await this.flushOffset();
  }

  private newSegment(): Segment {
    return { messages: [], events: [], checkpoint: null, barrier: null, bytes: 0, cut: false };
  }

  private setDepth(): void {
    if (this.o.metrics) this.o.metrics.queueDepth = this.o.queue.size;
  }

  private async add(seg: Segment, item: QueueItem): Promise<void> {
    switch (item.kind) {
      case 'event':
        await this.addEvent(seg, item.event);
        return;
      case 'schema':
        await this.addSchema(seg, item.schema);
        return;
      case 'offset':
        seg.checkpoint = item.acknowledge
          ? { offset: item.offset, acknowledge: item.acknowledge }
          : { offset: item.offset };
        return;
      case 'barrier':
        seg.barrier = item.done;
        return;
      case 'gate':
        throw new FerryError('FERRY_INTERNAL', 'a direct-lane gate must be waited for by run(), not added to a batch');
      case 'transaction': {
        const topic = transactionsTopic(this.o.pipeline);
        await this.ensureTopic(topic, 1);
        const key = JSON.stringify({ id: item.record.id });
        const value = JSON.stringify(item.record);
        seg.messages.push({ topic, key, value, partition: 0 });
        seg.bytes += key.length + value.length;
        return;
      }
    }
  }

  /** A schema of a renamed table whose rename has no markers from this process yet. */
  private needsRenameMarkers(item: QueueItem): boolean {
    return (
      item.kind === 'event' && this.markersDue.size > 0 && this.markersDue.has(`${item.event.db}.${item.event.table}`)
    );
  }

  private renameWithoutMarkers(schema: TableSchema): boolean {
    if (!this.o.transport.partitionEnds) return false;
    const from = schema.renamedFrom;
    if (!from || (from.db === schema.db && from.table === schema.table)) return false;
    return !this.renamesMarked.has(`${tableName(from)}\u0000${tableName(schema)}`);
  }

  /**
   * A version that renames columns of a table that keeps its name: the events of the versions
   * before it, in every partition of the topic, must be applied before the sink renames the target
   * columns, or a late one would be applied by name to the renamed columns (a chain or an exchange
   * of names). Its markers name the table's own topic (docs/schema-changes.md#rename-column-and-a-lagging-sink).
   */
  private columnRenamesWithoutMarkers(schema: TableSchema, key: string): boolean {
    if (!this.o.transport.partitionEnds || this.columnRenamesMarked.has(key)) return false;
    return schema.columns.some((c) => c.renamedFrom !== undefined && c.renamedFrom !== c.name);
  }

  /**
   * Rename markers (src/event/rename-marker.ts): one into every partition of the new topic, with
   * the old topic's end offsets now that every event before the rename is acknowledged (for
   * renamed columns, the table's own topic and its ends).
   */
  private async addRenameMarkers(seg: Segment, schema: TableSchema, id: string, from: TableId): Promise<void> {
    const fromTopic = dataTopic(this.o.pipeline, from.db, from.table);
    const topic = this.topicOf(schema.db, schema.table);
    let ends = new Map<number, bigint>();
    await this.withRetry(async () => {
      ends = await this.o.transport.partitionEnds!(fromTopic);
    });
    if (ends.size === 0) return;
    const value = encodeRenameMarker({
      id,
      fromTopic,
      ends: Object.fromEntries([...ends].map(([p, e]) => [String(p), e.toString()])),
    });
    const n = await this.o.transport.partitionCount(topic);
    const key = renameMarkerKey(id);
    for (let p = 0; p < n; p++) seg.messages.push({ topic, key, value, partition: p });
    seg.bytes += n * value.length;
    this.o.logger.debug('published rename markers', { from: tableName(from), to: tableName(schema) });
  }

  private async addSchema(seg: Segment, schema: TableSchema): Promise<void> {
    await this.ensureTopic(this.topicOf(schema.db, schema.table));
    const key = `${schema.db}.${schema.table}@${schema.version}`;
    // The markers go out with the renamed table's first event: by then every event of the old
    // table before the rename is published (a PostgreSQL table renamed while the source was
    // stopped is announced at start, before the stream replays the old table's last events).
    if (this.renameWithoutMarkers(schema)) {
      this.renamesMarked.add(`${tableName(schema.renamedFrom!)}\u0000${tableName(schema)}`);
      this.markersDue.set(tableName(schema), { schema, id: key, from: schema.renamedFrom! });
    } else if (this.columnRenamesWithoutMarkers(schema, key)) {
      this.columnRenamesMarked.add(key);
      this.markersDue.set(tableName(schema), { schema, id: key, from: schema });
    }
    // A table that appears under a name renamed away from is another table: its own renames get markers again.
    for (const r of this.renamesMarked) if (r.startsWith(`${tableName(schema)}\u0000`)) this.renamesMarked.delete(r);
    // Published by this process already (a version that needs a backfill is published again with
    // it, so that a restart still finds the decision: backfill-history.ts).
    const seen = schema.backfill && schema.backfill.length > 0 ? `${key}#backfill` : key;
    if (this.schemaVersions.has(seen)) return;
    this.schemaVersions.add(seen);
    this.schemaVersions.add(key);
    const value = JSON.stringify(schema);
    seg.messages.push({ topic: schemasTopic(this.o.pipeline), key, value, partition: 0 });
    this.o.onSchemaPublished?.(schema);
    seg.cut = true;
    seg.bytes += key.length + value.length;
  }

  private async addEvent(seg: Segment, event: ChangeEvent): Promise<void> {
    const versionKey = `${event.db}.${event.table}@${event.schemaVersion}`;
    if (!this.schemaVersions.has(versionKey)) {
      throw new FerryError(
        'FERRY_INTERNAL',
        `the source connector emitted an event of ${event.db}.${event.table} under schema version ` +
          `${event.schemaVersion} before that schema; a connector must yield a 'schema' item first`,
      );
    }
    const topic = this.topicOf(event.db, event.table);
    const due = this.markersDue.size > 0 ? this.markersDue.get(`${event.db}.${event.table}`) : undefined;
    if (due) {
      this.markersDue.delete(`${event.db}.${event.table}`);
      await this.addRenameMarkers(seg, due.schema, due.id, due.from);
    }
    const key = keyJson(event);
    const value = encodeEnvelope(event, this.o.pipeline);
    seg.events.push(event);
    seg.bytes += (key?.length ?? 0) + value.length;
    if (event.op === 't') {
      // A truncate concerns every key, so every partition gets it, in its place in that partition.
      const n = await this.o.transport.partitionCount(topic);
      for (let p = 0; p < n; p++) seg.messages.push({ topic, key, value, partition: p });
      return;
    }
    seg.messages.push({ topic, key, value });
    if (event.op === 'd' && this.o.tombstones && key !== null) {
      seg.messages.push({ topic, key, value: null });
    }
  }

  /** dataTopic() of a table, worked out once per table (db -> table -> topic). */
  private topicOf(db: string, table: string): string {
    let tables = this.topics.get(db);
    if (!tables) {
      tables = new Map();
      this.topics.set(db, tables);
    }
    let topic = tables.get(table);
    if (topic === undefined) {
      topic = dataTopic(this.o.pipeline, db, table);
      tables.set(table, topic);
    }
    return topic;
  }

  private async ensureTopic(topic: string, partitions = this.o.partitions): Promise<void> {
    if (this.knownTopics.has(topic)) return;
    await this.withRetry(() =>
      this.o.transport.ensureTopics([{ topic, partitions, replicationFactor: this.o.replicationFactor }]),
    );
    this.knownTopics.add(topic);
  }

  private async send(seg: Segment): Promise<void> {
    const storing = seg.messages.length > 0 ? this.stamp(this.pending) : null;
    if (storing) seg.messages.push(this.offsetMessage(storing.offset));
    if (seg.messages.length > 0) {
      const started = process.hrtime.bigint();
      await this.withRetry(() => this.o.transport.send(seg.messages));
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.o.metrics?.kafkaProduceSeconds.observe(seconds);
      if (seg.events.length > 0) this.o.onPublished(seg.events);
    }
    if (storing) {
      await this.stored(storing);
      this.pending = null;
    }
    if (seg.checkpoint) this.pending = seg.checkpoint;
    if (seg.barrier) {
      await this.flushOffset();
      seg.barrier();
    }
  }

  /** Stores the acknowledged position that is waiting, on its own. */
  private async flushOffset(): Promise<void> {
    const p = this.stamp(this.pending);
    if (!p) return;
    await this.withRetry(() => this.o.transport.send([this.offsetMessage(p.offset)]));
    await this.stored(p);
    this.pending = null;
  }

  /** The position with `writtenAt` set to now, the moment it is written. */
  private stamp(p: Pending | null): Pending | null {
    return p ? { ...p, offset: { ...p.offset, writtenAt: Date.now() } } : null;
  }

  private offsetMessage(offset: StoredSourceOffset): OutMessage {
    const o = this.o;
    return sourceOffsetMessage(o.pipeline, o.sourceId, offset, o.connectorKind, o.describePosition(offset.position));
  }

  private async stored(p: Pending): Promise<void> {
    this.o.onStored(p.offset);
    if (p.acknowledge && this.o.acknowledge) {
      try {
        await this.o.acknowledge(p.acknowledge);
      } catch (err) {
        this.o.logger.warn('the source connector could not acknowledge a stored position', {
          position: this.o.describePosition(p.acknowledge),
          error: (err as Error).message,
        });
      }
    }
  }

  /**
   * Runs a Kafka operation with retries, with backoff up to 30 s, as long as it takes (or until
   * `kafkaRetryTimeoutMs`); a warning about once a minute while Kafka fails. Every attempt is given up
   * on a hard stop. Once a graceful stop is requested, a failing operation is not retried any
   * more, and a retry under way is given up at once: Kafka failed already, and waiting for it
   * would only hold the stop up (the unacknowledged tail is read again on the next start). A
   * first attempt under way or started during the stop may take until the hard stop.
   */
  private async withRetry(fn: () => Promise<void>): Promise<void> {
    const { signal, stopSignal } = this.o;
    let failure: unknown = null;
    const report = everyMs(60_000);
    let firstFailureAt: number | undefined;
    try {
      await retry(
        async (attempt) => {
          try {
            await abortable(fn(), [signal, attempt > 0 ? stopSignal : undefined]);
          } catch (err) {
            if (err !== signal.reason && err !== stopSignal.reason) failure = err;
            throw err;
          }
        },
        {
          retries: Number.POSITIVE_INFINITY,
          minMs: 500,
          maxMs: this.o.kafkaRetryMaxDelayMs ?? 30_000,
          ...(this.o.kafkaRetryTimeoutMs !== undefined ? { giveUpAfterMs: this.o.kafkaRetryTimeoutMs } : {}),
          signal,
          stopSignal,
          onRetry: (err, attempt, delayMs) => {
            this.o.metrics?.errors.inc({
              component: 'source',
              code: (err as FerryError).code ?? 'FERRY_CONNECTION',
            });
            firstFailureAt ??= Date.now();
            this.o.onKafkaWait?.(true);
            const fields = {
              attempt,
              delayMs,
              waitingMs: Date.now() - firstFailureAt,
              error: (err as Error).message,
            };
            if (report()) this.o.logger.warn('Kafka did not acknowledge; waiting for Kafka and retrying', fields);
            else this.o.logger.debug('Kafka did not acknowledge; retrying', fields);
          },
        },
      );
      if (firstFailureAt !== undefined) this.o.onKafkaWait?.(false);
    } catch (err) {
      const cutShort = err === signal.reason || err === stopSignal.reason;
      if (cutShort || (stopSignal.aborted && isRetriable(err))) throw stoppedBeforeKafka(failure);
      throw err;
    }
  }
}

/** A graceful stop gave up on Kafka: nothing is lost, the unacknowledged tail is read again. */
function stoppedBeforeKafka(failure: unknown): FerryError {
  const why = failure === null ? 'in time' : `(${(failure as Error).message ?? String(failure)})`;
  return new FerryError(
    'FERRY_CONNECTION',
    `the source stopped before Kafka acknowledged everything ${why}; ` +
      'what was not acknowledged is read again from the last stored position on the next start',
    { cause: failure ?? undefined, retriable: true },
  );
}
