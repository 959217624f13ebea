/**
 * The sink's cache of table schemas, read from the compacted topic `<pipeline>.__schemas`
 * (key `db.table@version`, value the TableSchema JSON, written by the source runtime before any
 * event of that version). Looked up by (db, table, version); an unknown version re-reads the
 * topic once (concurrent lookups share the read) before the event is declared undecodable.
 */
import type { Kafka } from 'kafkajs';
import { FerryError, type KnownRenames, type Logger, renamesOf, type TableSchema } from '../../api/index.js';
import { readTopicToEnd } from '../../kafka/read-topic.js';
import { schemasTopic } from '../../kafka/topics.js';

const versionKey = (db: string, table: string, version: string): string => `${db}\u0000${table}\u0000${version}`;

/** Parses one record of the schemas topic; undefined when it is not a table schema. */
export function parseSchemaRecord(value: string): TableSchema | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return undefined;
  }
  const s = (
    typeof parsed === 'object' && parsed !== null && 'schema' in parsed && !('columns' in parsed)
      ? (parsed as { schema: unknown }).schema
      : parsed
  ) as Partial<TableSchema> | null;
  if (
    !s ||
    typeof s.db !== 'string' ||
    typeof s.table !== 'string' ||
    typeof s.version !== 'string' ||
    !Array.isArray(s.columns) ||
    !Array.isArray(s.primaryKey) ||
    !s.columns.every((c) => c && typeof c.name === 'string' && typeof c.kind === 'string')
  ) {
    return undefined;
  }
  return s as TableSchema;
}

export class SchemaCache {
  private readonly schemas = new Map<string, TableSchema>();
  private knownRenames: KnownRenames | null = null;
  private reading: Promise<void> | null = null;
  private lastReadAt = 0;
  private readingStartedAt = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly pipeline: string,
    private readonly logger: Logger,
    /** Minimum time between two reads caused by unknown versions, ms. */
    private readonly minRereadMs = 1000,
  ) {}

  get size(): number {
    return this.schemas.size;
  }

  add(schema: TableSchema): void {
    // Table renames take the versions published before them: any new schema may change the answer.
    this.knownRenames = null;
    this.schemas.set(versionKey(schema.db, schema.table, schema.version), schema);
  }

  /** Every column and table rename the cached versions announce (docs/schema-changes.md). */
  renames(): KnownRenames {
    if (!this.knownRenames) this.knownRenames = renamesOf(this.schemas.values());
    return this.knownRenames;
  }

  get(db: string, table: string, version: string): TableSchema | undefined {
    return this.schemas.get(versionKey(db, table, version));
  }

  /** Reads the schemas topic to its end and adds every schema in it. */
  refresh(): Promise<void> {
    if (this.reading) return this.reading;
    this.readingStartedAt = performance.now();
    this.reading = (async () => {
      try {
        let records: Awaited<ReturnType<typeof readTopicToEnd>>;
        try {
          records = await readTopicToEnd(this.kafka, schemasTopic(this.pipeline));
        } catch (err) {
          throw new FerryError(
            'FERRY_CONNECTION',
            `cannot read ${schemasTopic(this.pipeline)}: ${(err as Error).message}`,
            {
              cause: err,
              retriable: true,
            },
          );
        }
        let bad = 0;
        for (const r of records) {
          if (r.value === null) continue;
          const schema = parseSchemaRecord(r.value);
          if (schema) this.add(schema);
          else bad++;
        }
        if (bad > 0)
          this.logger.warn('ignored records of the schemas topic that are not table schemas', { count: bad });
        this.logger.debug('read the schemas topic', { records: records.length, schemas: this.schemas.size });
      } finally {
        this.lastReadAt = Date.now();
        this.reading = null;
      }
    })();
    return this.reading;
  }

  /**
   * The schema of a version. When it is unknown, waits for a read of the topic that started after
   * this call (so a schema Kafka acknowledged before the event is found), at most one read per
   * minRereadMs for all callers together.
   */
  async lookup(db: string, table: string, version: string): Promise<TableSchema | undefined> {
    const since = performance.now();
    for (let attempt = 0; attempt < 3; attempt++) {
      const hit = this.get(db, table, version);
      if (hit) return hit;
      const current = this.reading as Promise<void> | null;
      if (current) {
        const fresh = this.readingStartedAt >= since;
        await current;
        if (fresh) return this.get(db, table, version);
        continue;
      }
      const wait = this.lastReadAt + this.minRereadMs - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      // Any read running now started after `since`, so it sees every schema acknowledged before the event.
      await this.refresh();
      return this.get(db, table, version);
    }
    return this.get(db, table, version);
  }
}
