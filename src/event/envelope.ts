import { FerryError } from '../api/errors.js';
import type { ChangeEvent, JsonObject, Op, Row } from '../api/index.js';

/** Version written in every envelope's source.version. */
export const FERRY_VERSION = '0.1.0';

export interface Envelope {
  before: Row | null;
  after: Row | null;
  source: JsonObject;
  op: Op;
  ts_ms: number;
  transaction?: { id: string; total_order: number; data_collection_order: number; commit_order?: string } | null;
}

/**
 * The Kafka value of an event: the Debezium envelope shape (docs/events.md). ferry's own
 * source fields: `schema_version` (TableSchema.version the row images follow).
 */
export function toEnvelope(event: ChangeEvent, pipeline: string, now = Date.now()): Envelope {
  const source: JsonObject = {
    version: FERRY_VERSION,
    connector: event.source['connector'] ?? 'ferry',
    name: pipeline,
    ts_ms: event.tsMs,
    snapshot: event.snapshot,
    db: event.db,
    table: event.table,
    ...event.source,
    schema_version: event.schemaVersion,
  };
  const env: Envelope = { before: event.before, after: event.after, source, op: event.op, ts_ms: now };
  if (event.transaction) {
    env.transaction = {
      id: event.transaction.id,
      total_order: event.transaction.totalOrder,
      data_collection_order: event.transaction.dataCollectionOrder,
    };
    if (event.transaction.commitOrder !== undefined) env.transaction.commit_order = event.transaction.commitOrder;
  }
  return env;
}

/** Source fields ferry writes itself; an event whose own source block repeats one takes the general path. */
const OWN_SOURCE_FIELDS = new Set(['version', 'name', 'ts_ms', 'snapshot', 'db', 'table', 'schema_version']);

/** `,"name":value` as JSON.stringify writes an object member; nothing for values it leaves out (undefined). */
function member(name: string, value: unknown): string {
  const json = JSON.stringify(value) as string | undefined;
  return json === undefined ? '' : `,${JSON.stringify(name)}:${json}`;
}

/** member() for a name fixed in the code: `prefix` is its `,"name":`, written once. */
function fixed(prefix: string, value: unknown): string {
  const json = JSON.stringify(value) as string | undefined;
  return json === undefined ? '' : prefix + json;
}

/**
 * The Kafka value of an event as JSON text: byte for byte `JSON.stringify(toEnvelope(...))`,
 * written in one pass without building the envelope and source objects first.
 */
export function encodeEnvelope(event: ChangeEvent, pipeline: string, now = Date.now()): string {
  const src = event.source;
  const tx = event.transaction;
  let general = event.before === undefined || (tx && tx.id === undefined);
  if (!general) for (const k in src) if (OWN_SOURCE_FIELDS.has(k)) general = true;
  if (general) return JSON.stringify(toEnvelope(event, pipeline, now));
  let out = `{"before":${JSON.stringify(event.before)}${fixed(',"after":', event.after)}`;
  out += `,"source":{"version":"${FERRY_VERSION}"${fixed(',"connector":', src['connector'] ?? 'ferry')}${fixed(',"name":', pipeline)}`;
  out += `${fixed(',"ts_ms":', event.tsMs)}${fixed(',"snapshot":', event.snapshot)}${fixed(',"db":', event.db)}${fixed(',"table":', event.table)}`;
  for (const k in src) if (k !== 'connector') out += member(k, src[k]);
  out += `${fixed(',"schema_version":', event.schemaVersion)}}${fixed(',"op":', event.op)},"ts_ms":${JSON.stringify(now)}`;
  if (tx) {
    out += `,"transaction":{"id":${JSON.stringify(tx.id)}${fixed(',"total_order":', tx.totalOrder)}${fixed(',"data_collection_order":', tx.dataCollectionOrder)}}`;
  }
  return `${out}}`;
}

/** Kafka key: JSON object of the primary-key columns, in key order. Truncates carry no key. */
export function keyJson(event: ChangeEvent): string | null {
  return event.key === null ? null : JSON.stringify(event.key);
}

const OPS = new Set(['r', 'c', 'u', 'd', 't']);

/**
 * Parses a Kafka value into an envelope. Accepts ferry's envelope and Debezium's JSON envelope,
 * with or without `schemas.enable` (a `{schema, payload}` wrapper). Throws FERRY_DECODE with the
 * reason; the sink routes such records to the dead-letter topic.
 */
export function parseEnvelope(value: string): Envelope & { debeziumSchema?: JsonObject } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    throw new FerryError('FERRY_DECODE', `value is not JSON: ${(err as Error).message}`, { cause: err });
  }
  let debeziumSchema: JsonObject | undefined;
  if (isObject(parsed) && 'payload' in parsed && 'schema' in parsed && !('op' in parsed)) {
    debeziumSchema = isObject(parsed['schema']) ? (parsed['schema'] as JsonObject) : undefined;
    parsed = parsed['payload'];
  }
  if (!isObject(parsed)) throw new FerryError('FERRY_DECODE', 'value is not a JSON object with an envelope');
  const op = parsed['op'];
  if (typeof op !== 'string' || !OPS.has(op)) {
    throw new FerryError('FERRY_DECODE', `envelope field "op" must be one of r, c, u, d, t; got ${JSON.stringify(op)}`);
  }
  const before = parsed['before'] ?? null;
  const after = parsed['after'] ?? null;
  if (before !== null && !isObject(before))
    throw new FerryError('FERRY_DECODE', 'envelope field "before" is not an object');
  if (after !== null && !isObject(after))
    throw new FerryError('FERRY_DECODE', 'envelope field "after" is not an object');
  const source = parsed['source'];
  if (!isObject(source)) throw new FerryError('FERRY_DECODE', 'envelope field "source" is missing or not an object');
  if ((op === 'c' || op === 'r' || op === 'u') && after === null) {
    throw new FerryError('FERRY_DECODE', `a "${op}" event must carry "after"`);
  }
  if (op === 'd' && before === null) throw new FerryError('FERRY_DECODE', 'a "d" event must carry "before"');
  const tx = parsed['transaction'];
  const env: Envelope & { debeziumSchema?: JsonObject } = {
    before: before as Row | null,
    after: after as Row | null,
    source: source as JsonObject,
    op: op as Op,
    ts_ms: typeof parsed['ts_ms'] === 'number' ? parsed['ts_ms'] : 0,
  };
  if (isObject(tx)) env.transaction = tx as unknown as Envelope['transaction'];
  if (debeziumSchema) env.debeziumSchema = debeziumSchema;
  return env;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
