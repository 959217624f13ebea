/**
 * Turns a Kafka record into a sink event (docs/sinks.md#decoding): the envelope is parsed
 * (ferry or Debezium), its table schema looked up (ferry: `<pipeline>.__schemas` by version;
 * Debezium: derived), the target namespace applied, and the key checked. A record that cannot be
 * decoded is `poison` (it goes to the dead-letter topic); a null value (tombstone) is `skip`.
 * Connection problems (reading the schemas topic) throw, so the batch is retried.
 */
import { createHash } from 'node:crypto';
import type { IHeaders } from 'kafkajs';
import { FerryError, type Row, type TableSchema, UNCHANGED } from '../../api/index.js';
import { parseEnvelope } from '../../event/envelope.js';
import { parseRenameMarker } from '../../event/rename-marker.js';
import { sourceKindOf, targetSchema } from '../target-schema.js';
import { DebeziumSchemas, debeziumTable } from './debezium.js';
import { headerEpoch } from './leader-epoch.js';
import type { SinkEvent } from './reduce.js';
import type { SchemaCache } from './schemas.js';

/** A consumed record, as the sink runtime keeps it through a batch. */
export interface InRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  /** Its `ferry-leader-epoch` header (source failover, leader-epoch.ts); null or absent: none. */
  epoch?: number | null;
  decoded?: Decoded;
  /** Already sent to the dead-letter topic. */
  dlqSent?: boolean;
}

/** A fetched Kafka message as an InRecord of its topic and partition. */
export function inRecord(
  topic: string,
  partition: number,
  m: { offset: string; key: Buffer | null; value: Buffer | null; headers?: IHeaders },
): InRecord {
  return { topic, partition, offset: m.offset, key: m.key, value: m.value, epoch: headerEpoch(m.headers) };
}

export type Decoded =
  | { kind: 'skip' }
  | {
      kind: 'event';
      event: SinkEvent;
      /** Source `db.table`, for metrics and dead-letter headers. */
      label: string;
      /** A ferry truncate copy: the truncate's id, the same in every partition (docs/sinks.md#truncate). */
      truncateId?: string;
      /** The envelope's transaction block (transaction mode, docs/transactions.md). */
      tx?: TxRef;
    }
  | { kind: 'poison'; error: FerryError; label?: string; tx?: TxRef };

/** Where an event belongs: its source transaction and place in it. `order`: TransactionInfo.commitOrder. */
export interface TxRef {
  id: string;
  totalOrder: number;
  order: bigint | null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface DecoderOptions {
  schemas: SchemaCache;
  /** Replaces the database/schema of every table (sink.targetNamespace). */
  targetNamespace?: string;
}

export class RecordDecoder {
  private readonly debezium = new DebeziumSchemas();
  private readonly resolved = new WeakMap<TableSchema, Map<string, TableSchema>>();

  constructor(private readonly opts: DecoderOptions) {}

  /** The schema as the target sees it: namespace override and source kind applied (cached per schema object). */
  private target(schema: TableSchema, connector: unknown): TableSchema {
    const kind = schema.sourceKind ?? sourceKindOf(connector);
    const cacheKey = String(kind);
    let byKind = this.resolved.get(schema);
    if (!byKind) {
      byKind = new Map();
      this.resolved.set(schema, byKind);
    }
    let out = byKind.get(cacheKey);
    if (!out) {
      out = targetSchema(schema, kind, this.opts.schemas.renames(), this.opts.targetNamespace);
      byKind.set(cacheKey, out);
    }
    return out;
  }

  async decode(record: InRecord): Promise<Decoded> {
    if (record.value === null) return { kind: 'skip' };
    // A rename marker (the consumer holds the partition at it until the old topic is applied).
    if (parseRenameMarker(record.value)) return { kind: 'skip' };
    let text: string;
    try {
      text = utf8.decode(record.value);
    } catch {
      return { kind: 'poison', error: new FerryError('FERRY_DECODE', 'the record value is not valid UTF-8') };
    }
    let env: ReturnType<typeof parseEnvelope>;
    try {
      env = parseEnvelope(text);
    } catch (err) {
      return { kind: 'poison', error: err instanceof FerryError ? err : new FerryError('FERRY_DECODE', String(err)) };
    }
    const source = env.source;
    let schema: TableSchema;
    let before = env.before;
    let after = env.after;
    let label: string;
    let truncateId: string | undefined;
    const version = source['schema_version'];
    if (typeof version === 'string') {
      const db = source['db'];
      const table = source['table'];
      if (typeof db !== 'string' || typeof table !== 'string') {
        return { kind: 'poison', error: new FerryError('FERRY_DECODE', 'the envelope source block has no db/table') };
      }
      label = `${db}.${table}`;
      const found = await this.opts.schemas.lookup(db, table, version);
      if (!found) {
        return {
          kind: 'poison',
          label,
          error: new FerryError(
            'FERRY_SCHEMA',
            `no schema version ${version} of ${label} in the schemas topic; the event cannot be interpreted`,
          ),
        };
      }
      schema = this.target(found, source['connector']);
      if (env.op === 't') truncateId = createHash('sha256').update(text).digest('hex').slice(0, 32);
    } else {
      let keyText: string | null = null;
      if (record.key) {
        try {
          keyText = utf8.decode(record.key);
        } catch {
          keyText = null;
        }
      }
      try {
        const t = debeziumTable(source);
        label = `${t.db}.${t.table}`;
        if (env.op === 't') {
          // Debezium publishes a truncate once, without a row: it applies to the table as last seen.
          const last = this.debezium.lastSchema(t);
          if (!last) return { kind: 'skip' };
          return {
            kind: 'event',
            label,
            event: {
              op: 't',
              schema: this.target(last, source['connector']),
              before: null,
              after: null,
              tsMs: env.ts_ms,
            },
          };
        }
        const d = this.debezium.decode(env, t, keyText);
        schema = this.target(d.schema, source['connector']);
        before = d.before;
        after = d.after;
      } catch (err) {
        return { kind: 'poison', error: err instanceof FerryError ? err : new FerryError('FERRY_DECODE', String(err)) };
      }
    }
    const tx = txRefOf(env.transaction);
    const problem = checkKey(schema, env.op === 'd' ? before : after, env.op);
    if (problem) {
      const poison = { kind: 'poison' as const, label, error: new FerryError('FERRY_DECODE', `${label}: ${problem}`) };
      return tx ? { ...poison, tx } : poison;
    }
    const tsMs = typeof source['ts_ms'] === 'number' ? source['ts_ms'] : env.ts_ms;
    const event: SinkEvent = { op: env.op, schema, before, after, tsMs };
    const decoded: Decoded = truncateId ? { kind: 'event', event, label, truncateId } : { kind: 'event', event, label };
    if (tx) decoded.tx = tx;
    return decoded;
  }
}

function txRefOf(t: unknown): TxRef | undefined {
  if (typeof t !== 'object' || t === null) return undefined;
  const { id, total_order: totalOrder, commit_order: order } = t as Record<string, unknown>;
  if (typeof id !== 'string' || typeof totalOrder !== 'number') return undefined;
  return { id, totalOrder, order: typeof order === 'string' && /^\d+$/.test(order) ? BigInt(order) : null };
}

function checkKey(schema: TableSchema, row: Row | null, op: string): string | undefined {
  if (op === 't') return undefined;
  if (!row) return `a "${op}" event without a row image`;
  for (const k of schema.primaryKey) {
    const v = row[k];
    if (v === undefined || v === null || v === UNCHANGED) return `key column "${k}" has no value in a "${op}" event`;
  }
  return undefined;
}
