/**
 * Synthetic ferry events for sink tests, faithful to what the source runtime publishes
 * (src/runtime/source/publisher.ts): schemas to `<pipeline>.__schemas` (key `db.table@version`,
 * partition 0) before the events of that version; events as toEnvelope()/keyJson() to
 * `<pipeline>.<db>.<table>`, keyed by primary key; a truncate to every partition of the topic.
 *
 * SourceTable runs a workload against a real source table and records the matching events, with
 * row images read back from the source and canonicalised (test/helpers/compare.ts).
 */
import type { Kafka } from 'kafkajs';
import { qualify as myQualify, quoteIdent as myQuote } from '../../connectors/mysql-sink/dialect.js';
import { qualify as pgQualify, quoteIdent as pgQuote } from '../../connectors/postgres-sink/dialect.js';
import {
  type ChangeEvent,
  type ColumnKind,
  type ColumnSchema,
  type JsonObject,
  type Op,
  type Row,
  type TableSchema,
  withVersion,
} from '../../src/api/index.js';
import { keyJson, toEnvelope } from '../../src/event/envelope.js';
import { ensureTopics, withAdmin } from '../../src/kafka/admin.js';
import { createRecordProducer, type OutMessage } from '../../src/kafka/producer.js';
import { dataTopic, schemasTopic } from '../../src/kafka/topics.js';
import { type DbConn, readRow } from './compare.js';

process.env['KAFKAJS_NO_PARTITIONER_WARNING'] = '1';

export type Engine = 'mysql' | 'postgresql';

/** A column for a hand-made schema: name, source type and kind, plus any ColumnSchema detail. */
export function col(
  name: string,
  sourceType: string,
  kind: ColumnKind,
  extra: Partial<ColumnSchema> = {},
): ColumnSchema {
  return { name, sourceType, kind, nullable: true, ...extra };
}

export function tableSchema(db: string, table: string, columns: ColumnSchema[], primaryKey: string[]): TableSchema {
  const pk = new Set(primaryKey);
  return withVersion({
    db,
    table,
    columns: columns.map((c) => (pk.has(c.name) ? { ...c, nullable: false } : c)),
    primaryKey,
  });
}

/** Builds change events of one table the way a source connector of `engine` would. */
export class TableEvents {
  private pos = 1000;
  constructor(
    public schema: TableSchema,
    readonly engine: Engine,
  ) {}

  private source(): JsonObject {
    this.pos += 1;
    return this.engine === 'mysql'
      ? { connector: 'mysql', server_id: 1, gtid: `0-1-${this.pos}`, file: 'mariadb-bin.000001', pos: this.pos, row: 0 }
      : {
          connector: 'postgresql',
          schema: this.schema.db,
          txId: this.pos,
          lsn: `0/${this.pos.toString(16).toUpperCase()}`,
        };
  }

  private key(row: Row): Row {
    const key: Row = {};
    for (const k of this.schema.primaryKey) key[k] = row[k] ?? null;
    return key;
  }

  event(op: Op, before: Row | null, after: Row | null, tsMs = Date.now()): ChangeEvent {
    const image = after ?? before;
    return {
      op,
      db: this.schema.db,
      table: this.schema.table,
      key: op === 't' || !image ? null : this.key(image),
      before,
      after,
      tsMs,
      schemaVersion: this.schema.version,
      snapshot: op === 'r',
      source: this.source(),
    };
  }

  insert(after: Row): ChangeEvent {
    return this.event('c', null, after);
  }
  read(after: Row): ChangeEvent {
    return this.event('r', null, after);
  }
  update(before: Row | null, after: Row): ChangeEvent {
    return this.event('u', before, after);
  }
  delete(before: Row): ChangeEvent {
    return this.event('d', before, null);
  }
  truncate(): ChangeEvent {
    return this.event('t', null, null);
  }
}

/** Produces schemas and events into Kafka, in order (one send at a time). */
export class EventWriter {
  private producer: Awaited<ReturnType<typeof createRecordProducer>> | null = null;
  private readonly topics = new Map<string, number>();

  constructor(
    private readonly kafka: Kafka,
    readonly pipeline: string,
    private readonly partitions = 3,
  ) {}

  private async send(messages: OutMessage[]): Promise<void> {
    this.producer ??= await createRecordProducer(this.kafka);
    for (let i = 0; i < messages.length; i += 2000) await this.producer.send(messages.slice(i, i + 2000));
  }

  async ensureTopic(topic: string, partitions = this.partitions, compacted = false): Promise<number> {
    const known = this.topics.get(topic);
    if (known !== undefined) return known;
    await withAdmin(this.kafka, (admin) =>
      ensureTopics(admin, [{ topic, partitions, replicationFactor: 1, compacted }]),
    );
    const n = await withAdmin(this.kafka, async (admin) => {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      return meta.topics[0]?.partitions.length ?? partitions;
    });
    this.topics.set(topic, n);
    return n;
  }

  async schema(schema: TableSchema): Promise<void> {
    const topic = schemasTopic(this.pipeline);
    await this.ensureTopic(topic, 1, true);
    await this.ensureTopic(dataTopic(this.pipeline, schema.db, schema.table));
    await this.send([
      { topic, key: `${schema.db}.${schema.table}@${schema.version}`, value: JSON.stringify(schema), partition: 0 },
    ]);
  }

  /** The Kafka messages of events: a truncate becomes one copy per partition. */
  async messages(events: ChangeEvent[]): Promise<OutMessage[]> {
    const out: OutMessage[] = [];
    for (const e of events) {
      const topic = dataTopic(this.pipeline, e.db, e.table);
      const n = await this.ensureTopic(topic);
      const value = JSON.stringify(toEnvelope(e, this.pipeline));
      const key = keyJson(e);
      if (e.op === 't') for (let p = 0; p < n; p++) out.push({ topic, key, value, partition: p });
      else out.push({ topic, key, value });
    }
    return out;
  }

  async events(events: ChangeEvent[]): Promise<void> {
    await this.send(await this.messages(events));
  }

  /** Any raw record (poison tests). */
  async raw(topic: string, key: string | null, value: string | Buffer | null): Promise<void> {
    await this.ensureTopic(topic);
    await this.send([{ topic, key, value }]);
  }

  async close(): Promise<void> {
    await this.producer?.disconnect();
    this.producer = null;
  }
}

type Param = string | number | boolean | Buffer | null;

/**
 * A real source table plus the events its changes produce. Every change is made in the source
 * database; the row images in the events are read back from it and canonicalised.
 */
export class SourceTable {
  readonly events: ChangeEvent[] = [];
  readonly tableEvents: TableEvents;

  constructor(
    readonly db: DbConn,
    schema: TableSchema,
  ) {
    this.tableEvents = new TableEvents(schema, db.engine);
  }

  get schema(): TableSchema {
    return this.tableEvents.schema;
  }

  private qualified(): string {
    return this.db.engine === 'mysql'
      ? myQualify(this.schema.db, this.schema.table)
      : pgQualify(this.schema.db, this.schema.table);
  }

  private quote(name: string): string {
    return this.db.engine === 'mysql' ? myQuote(name) : pgQuote(name);
  }

  async exec(sql: string, params: Param[] = []): Promise<void> {
    if (this.db.engine === 'mysql') await this.db.conn.query(sql, params);
    else await this.db.conn.query(sql, params);
  }

  private placeholders(n: number, from = 1): string[] {
    return Array.from({ length: n }, (_, i) => (this.db.engine === 'mysql' ? '?' : `$${from + i}`));
  }

  private async read(key: Row): Promise<Row> {
    const row = await readRow(this.db, this.schema.db, this.schema.table, this.schema, key);
    if (!row) throw new Error(`row ${JSON.stringify(key)} not found in ${this.schema.db}.${this.schema.table}`);
    return row;
  }

  private keyOf(row: Record<string, Param>): Row {
    const key: Row = {};
    for (const k of this.schema.primaryKey) key[k] = row[k] as Row[string];
    return key;
  }

  /** INSERTs rows (driver values) and records `c` events (or `r` for snapshot reads). */
  async insert(rows: Array<Record<string, Param>>, op: 'c' | 'r' = 'c'): Promise<void> {
    for (const row of rows) {
      const names = Object.keys(row);
      await this.exec(
        `INSERT INTO ${this.qualified()} (${names.map((n) => this.quote(n)).join(', ')}) VALUES (${this.placeholders(names.length).join(', ')})`,
        names.map((n) => row[n] ?? null),
      );
      const after = await this.read(this.keyOf(row));
      this.events.push(op === 'r' ? this.tableEvents.read(after) : this.tableEvents.insert(after));
    }
  }

  /** Many rows in one multi-row INSERT, events read back in one SELECT (large workloads). */
  async insertMany(rows: Array<Record<string, Param>>): Promise<void> {
    if (rows.length === 0) return;
    const names = Object.keys(rows[0]!);
    for (let i = 0; i < rows.length; i += 1000) {
      const chunk = rows.slice(i, i + 1000);
      const tuples = chunk.map((_, r) => `(${this.placeholders(names.length, r * names.length + 1).join(', ')})`);
      await this.exec(
        `INSERT INTO ${this.qualified()} (${names.map((n) => this.quote(n)).join(', ')}) VALUES ${tuples.join(', ')}`,
        chunk.flatMap((row) => names.map((n) => row[n] ?? null)),
      );
    }
    for (const row of rows) {
      const after: Row = {};
      for (const c of this.schema.columns) if (Object.hasOwn(row, c.name)) after[c.name] = row[c.name] as Row[string];
      this.events.push(this.tableEvents.insert(after));
    }
  }

  async update(key: Record<string, Param>, changes: Record<string, Param>): Promise<void> {
    const before = await this.read(this.keyOf(key));
    const sets = Object.keys(changes);
    const where = this.schema.primaryKey;
    const ph = this.placeholders(sets.length + where.length);
    await this.exec(
      `UPDATE ${this.qualified()} SET ${sets.map((c, i) => `${this.quote(c)} = ${ph[i]}`).join(', ')} WHERE ${where
        .map((k, i) => `${this.quote(k)} = ${ph[sets.length + i]}`)
        .join(' AND ')}`,
      [...sets.map((c) => changes[c] ?? null), ...where.map((k) => key[k] ?? null)],
    );
    const newKey = { ...key };
    for (const k of where) if (Object.hasOwn(changes, k)) newKey[k] = changes[k] ?? null;
    const after = await this.read(this.keyOf(newKey));
    if (where.some((k) => Object.hasOwn(changes, k))) {
      // A primary-key change is published as a delete of the old key and a create of the new one.
      this.events.push(this.tableEvents.delete(before));
      this.events.push(this.tableEvents.insert(after));
    } else {
      this.events.push(this.tableEvents.update(before, after));
    }
  }

  async delete(key: Record<string, Param>): Promise<void> {
    const before = await this.read(this.keyOf(key));
    const where = this.schema.primaryKey;
    const ph = this.placeholders(where.length);
    await this.exec(
      `DELETE FROM ${this.qualified()} WHERE ${where.map((k, i) => `${this.quote(k)} = ${ph[i]}`).join(' AND ')}`,
      where.map((k) => key[k] ?? null),
    );
    this.events.push(this.tableEvents.delete(before));
  }

  async truncate(): Promise<void> {
    await this.exec(`${this.db.engine === 'mysql' ? 'TRUNCATE TABLE' : 'TRUNCATE'} ${this.qualified()}`);
    this.events.push(this.tableEvents.truncate());
  }

  /** ALTER TABLE ADD COLUMN at the source; returns the new schema version (publish it before the next events). */
  async addColumn(definition: string, column: ColumnSchema): Promise<TableSchema> {
    await this.exec(`ALTER TABLE ${this.qualified()} ADD COLUMN ${this.quote(column.name)} ${definition}`);
    const s = this.schema;
    this.tableEvents.schema = withVersion({
      db: s.db,
      table: s.table,
      columns: [...s.columns, column],
      primaryKey: s.primaryKey,
    });
    return this.tableEvents.schema;
  }

  /** Events recorded so far, emptied. */
  take(): ChangeEvent[] {
    return this.events.splice(0, this.events.length);
  }
}
