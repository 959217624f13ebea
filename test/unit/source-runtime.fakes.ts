import {
  type ChangeEvent,
  type CheckResult,
  captureAll,
  FerryError,
  type JsonValue,
  type Logger,
  type Row,
  type SnapshotSession,
  type SourceConnector,
  type SourceContext,
  type SourceItem,
  type SourcePosition,
  type StoredSourceOffset,
  type TableSchema,
  withVersion,
} from '../../src/api/index.js';
import type { TopicSpec } from '../../src/kafka/admin.js';
import type { OutMessage } from '../../src/kafka/producer.js';
import type { ReadRecord } from '../../src/kafka/read-topic.js';
import { SourceRuntime, type SourceRuntimeOptions } from '../../src/runtime/source/runtime.js';
import type { SourceTransport } from '../../src/runtime/source/transport.js';

/** In-memory Kafka for the source runtime: topics, acknowledged records, injectable failures. */
export class FakeKafka implements SourceTransport {
  readonly topics = new Map<string, { partitions: number; records: ReadRecord[] }>();
  /** Every acknowledged send, in order. */
  readonly sends: OutMessage[][] = [];
  sendDelayMs = 0;
  /** While set, sends wait for it (simulates a slow or stuck broker). */
  gate: Promise<void> | null = null;
  /** Fail this many sends with a retriable error (Infinity: Kafka is down). */
  failRetriable = 0;
  /** While set, readTopic and ensureTopics wait for it (a broker kafkajs keeps retrying to reach). */
  adminGate: Promise<void> | null = null;
  /** After this many more acknowledged sends, every send fails with a non-retriable error ("crash"). */
  crashAfter: number | null = null;
  sendCalls = 0;

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    if (this.adminGate) await this.adminGate;
    for (const s of specs)
      if (!this.topics.has(s.topic)) this.topics.set(s.topic, { partitions: s.partitions, records: [] });
  }

  async partitionCount(topic: string): Promise<number> {
    return this.topics.get(topic)?.partitions ?? 1;
  }

  async send(messages: OutMessage[]): Promise<void> {
    this.sendCalls++;
    if (this.gate) await this.gate;
    if (this.sendDelayMs) await new Promise((r) => setTimeout(r, this.sendDelayMs));
    if (this.failRetriable > 0) {
      this.failRetriable--;
      throw new FerryError('FERRY_CONNECTION', 'fake broker unavailable', { retriable: true });
    }
    if (this.crashAfter !== null) {
      if (this.crashAfter <= 0) throw new FerryError('FERRY_INTERNAL', 'fake crash');
      this.crashAfter--;
    }
    for (const m of messages) {
      const t = this.topics.get(m.topic);
      if (!t) throw new FerryError('FERRY_CONNECTION', `unknown topic ${m.topic}`);
      const partition = m.partition ?? 0;
      t.records.push({ partition, offset: String(t.records.length), key: text(m.key), value: text(m.value) });
    }
    this.sends.push(messages);
  }

  /** Records per partition stand for its end offset. */
  async partitionEnds(topic: string): Promise<Map<number, bigint>> {
    const t = this.topics.get(topic);
    const ends = new Map<number, bigint>();
    if (!t) return ends;
    for (let p = 0; p < t.partitions; p++) ends.set(p, BigInt(t.records.filter((r) => r.partition === p).length));
    return ends;
  }

  async readTopic(topic: string): Promise<ReadRecord[]> {
    if (this.adminGate) await this.adminGate;
    return [...(this.topics.get(topic)?.records ?? [])];
  }

  async close(): Promise<void> {}

  /** Parsed envelopes of a data topic (tombstones skipped). */
  envelopes(topic: string): Array<{ key: string | null; value: Record<string, unknown> }> {
    return (this.topics.get(topic)?.records ?? [])
      .filter((r) => r.value !== null)
      .map((r) => ({ key: r.key, value: JSON.parse(r.value!) as Record<string, unknown> }));
  }
}

function text(v: string | Buffer | null): string | null {
  return v === null ? null : v.toString();
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};

export function table(name: string): TableSchema {
  return withVersion({
    db: 'app',
    table: name,
    primaryKey: ['id'],
    columns: [
      { name: 'id', kind: 'int32', sourceType: 'int', nullable: false },
      { name: 'v', kind: 'string', sourceType: 'varchar(10)', nullable: true },
    ],
  });
}

/** A log entry of the fake source: an item at a position (its index). */
export type LogEntry = SourceItem;

/**
 * A fake source: tables with rows (for snapshots) and an append-only change log (for streams).
 * Position = `{ i }`, the index in the log to read next; every checkpoint carries the index
 * after it. stream() follows the log live until the signal aborts.
 */
export class FakeConnector implements SourceConnector {
  readonly kind = 'mysql' as const;
  readonly tables: TableSchema[];
  readonly rows = new Map<string, Row[]>();
  readonly log: LogEntry[] = [];
  preflightResults: CheckResult[] = [{ name: 'binlog', ok: true }];
  readonly streamCalls: SourcePosition[] = [];
  readonly acknowledged: SourcePosition[] = [];
  readonly chunkCalls: Array<{ table: string; afterKey: JsonValue[] | null }> = [];
  /** Items yielded by stream() so far (for backpressure checks). */
  yielded = 0;
  /** Throw this from stream() once, after yielding `failAfter` items. */
  failWith: unknown = null;
  failAfter = 0;
  closed = false;
  /** Position of the next snapshot view (default: the end of the log). */
  viewAt: number | null = null;
  /**
   * While set, stream() first waits for it, whatever its signal says (a connection attempt to a
   * database that does not answer).
   */
  connectGate: Promise<void> | null = null;
  /** stream() fails right after connecting with this error, every time (a source that keeps failing). */
  failAlways: unknown = null;
  /**
   * While set, snapshot chunk reads from the `chunkGateFrom`-th on (1-based) wait for it (a query
   * on a database that stopped answering).
   */
  chunkGate: Promise<void> | null = null;
  chunkGateFrom = 1;
  /** What happened, in order: `ack:<i>` for acknowledge(), `stream-closed` when a stream ended. */
  readonly trace: string[] = [];
  private wake: (() => void) | null = null;

  constructor(tables: TableSchema[]) {
    this.tables = tables;
    for (const t of tables) this.rows.set(t.table, []);
  }

  /** Appends a transaction (events, then a checkpoint) to the log. */
  commit(...events: ChangeEvent[]): void {
    for (const event of events) this.log.push({ type: 'event', event });
    this.log.push({ type: 'checkpoint', position: { i: this.log.length + 1 } });
    this.wake?.();
  }

  append(item: LogEntry): void {
    this.log.push(item);
    this.wake?.();
  }

  async preflight(_ctx: SourceContext, _stored: StoredSourceOffset | null): Promise<CheckResult[]> {
    return this.preflightResults;
  }

  async discover(): Promise<TableSchema[]> {
    return this.tables;
  }

  async openSnapshot(): Promise<SnapshotSession> {
    const position = { i: this.viewAt ?? this.log.length };
    const copy = new Map([...this.rows].map(([k, v]) => [k, [...v]]));
    return {
      position,
      tables: this.tables,
      source: { file: 'fake', pos: position.i },
      estimateRows: async (t) => copy.get(t.table)?.length ?? 0,
      readChunk: async (t, afterKey, limit) => {
        this.chunkCalls.push({ table: t.table, afterKey });
        if (this.chunkGate && this.chunkCalls.length >= this.chunkGateFrom) await this.chunkGate;
        const after = afterKey ? (afterKey[0] as number) : Number.NEGATIVE_INFINITY;
        return (copy.get(t.table) ?? []).filter((r) => (r['id'] as number) > after).slice(0, limit);
      },
      close: async () => {},
    };
  }

  async *stream(ctx: SourceContext, from: SourcePosition): AsyncIterable<SourceItem> {
    this.streamCalls.push(from);
    if (this.connectGate) await this.connectGate;
    if (this.failAlways) throw this.failAlways;
    let i = from['i'] as number;
    let n = 0;
    try {
      while (!ctx.signal.aborted) {
        if (i < this.log.length) {
          if (this.failWith && n >= this.failAfter) {
            const err = this.failWith;
            this.failWith = null;
            throw err;
          }
          const item = this.log[i++]!;
          n++;
          this.yielded++;
          yield item;
          continue;
        }
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          ctx.signal.addEventListener('abort', () => resolve(), { once: true });
        });
      }
    } finally {
      this.trace.push('stream-closed');
    }
  }

  async acknowledge(position: SourcePosition): Promise<void> {
    this.acknowledged.push(position);
    this.trace.push(`ack:${position['i']}`);
  }

  describePosition(position: SourcePosition): string {
    return `fake:${position['i']}`;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

export function change(schema: TableSchema, op: 'c' | 'u' | 'd', id: number, v: string | null = null): ChangeEvent {
  const row: Row = { id, v };
  return {
    op,
    db: schema.db,
    table: schema.table,
    key: { id },
    before: op === 'c' ? null : row,
    after: op === 'd' ? null : row,
    tsMs: 1_700_000_000_000,
    schemaVersion: schema.version,
    snapshot: false,
    source: { connector: 'mysql' },
  };
}

export async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error('waitFor timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A source runtime over the fakes with fast retries; the connector streams from the start of its log. */
export function fakeSourceRuntime(
  kafka: FakeKafka,
  connector: FakeConnector,
  extra: Partial<SourceRuntimeOptions> = {},
): SourceRuntime {
  connector.viewAt = 0; // snapshot 'never' streams from the start of the fake log
  return new SourceRuntime({
    pipeline: 'p',
    connector,
    transport: kafka,
    filter: captureAll(),
    logger: silentLogger,
    reconnectMinMs: 5,
    reconnectMaxMs: 20,
    offsetDelayMs: 5,
    ...extra,
  });
}
