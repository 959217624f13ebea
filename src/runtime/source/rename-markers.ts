/**
 * The source side of rename barriers (docs/schema-changes.md#rename-table-and-a-lagging-sink):
 * which renames still need their markers, and the markers themselves (src/event/rename-marker.ts):
 * one into every partition of the new topic, with the old topic's end offsets once every event
 * before the rename is acknowledged. The publisher decides where in its sends they go.
 */
import type { Logger, TableSchema } from '../../api/index.js';
import { tableName } from '../../api/index.js';
import { encodeRenameMarker, renameMarkerKey } from '../../event/rename-marker.js';
import type { OutMessage } from '../../kafka/producer.js';
import { dataTopic } from '../../kafka/topics.js';
import type { QueueItem } from './items.js';
import type { SourceTransport } from './transport.js';

export interface RenameMarkersOptions {
  pipeline: string;
  transport: SourceTransport;
  logger: Logger;
  /** Runs a Kafka operation with the publisher's retries. */
  withRetry(fn: () => Promise<void>): Promise<void>;
}

export class RenameMarkers {
  /** Table renames (`from\u0000to`) this process published rename markers for. */
  private readonly renamesMarked = new Set<string>();
  /** Renamed tables (`db.table`) whose markers go out right before their next event. */
  private readonly markersDue = new Map<string, { schema: TableSchema; id: string }>();

  constructor(private readonly o: RenameMarkersOptions) {}

  /** A schema goes out (`key`: its `db.table@version`): a rename without markers yet gets them due. */
  noteSchema(schema: TableSchema, key: string): void {
    // The markers go out with the renamed table's first event, or with the schema itself when the
    // connector yields it at the rename (renamedHere): by then every event of the old table before
    // the rename is published (a PostgreSQL table renamed while the source was stopped is
    // announced at start, before the stream replays the old table's last events).
    if (this.renameWithoutMarkers(schema)) {
      this.renamesMarked.add(`${tableName(schema.renamedFrom!)}\u0000${tableName(schema)}`);
      this.markersDue.set(tableName(schema), { schema, id: key });
    }
    // A table that appears under a name renamed away from is another table: its own renames get markers again.
    for (const r of this.renamesMarked) if (r.startsWith(`${tableName(schema)}\u0000`)) this.renamesMarked.delete(r);
  }

  /** Whether the item's markers must go out first (everything before them must be in Kafka then). */
  dueBefore(item: QueueItem): boolean {
    if (item.kind === 'schema') return item.renamedHere === true && this.renameWithoutMarkers(item.schema);
    return item.kind === 'event' && this.markersDue.has(`${item.event.db}.${item.event.table}`);
  }

  /** The markers due before the next event of a table (taken: they go out once). */
  takeDue(db: string, table: string): { schema: TableSchema; id: string } | undefined {
    const due = this.markersDue.get(`${db}.${table}`);
    if (due) this.markersDue.delete(`${db}.${table}`);
    return due;
  }

  private renameWithoutMarkers(schema: TableSchema): boolean {
    if (!this.o.transport.partitionEnds) return false;
    const from = schema.renamedFrom;
    if (!from || (from.db === schema.db && from.table === schema.table)) return false;
    return !this.renamesMarked.has(`${tableName(from)}\u0000${tableName(schema)}`);
  }

  /**
   * The markers of a rename: one into every partition of the new topic, with the old topic's end
   * offsets as they are now (every event before the rename must be acknowledged by then).
   */
  async markers(schema: TableSchema, id: string): Promise<{ messages: OutMessage[]; bytes: number }> {
    const from = schema.renamedFrom!;
    const fromTopic = dataTopic(this.o.pipeline, from.db, from.table);
    const topic = dataTopic(this.o.pipeline, schema.db, schema.table);
    let ends = new Map<number, bigint>();
    await this.o.withRetry(async () => {
      ends = await this.o.transport.partitionEnds!(fromTopic);
    });
    if (ends.size === 0) return { messages: [], bytes: 0 };
    const value = encodeRenameMarker({
      id,
      fromTopic,
      ends: Object.fromEntries([...ends].map(([p, e]) => [String(p), e.toString()])),
    });
    const n = await this.o.transport.partitionCount(topic);
    const key = renameMarkerKey(id);
    const messages: OutMessage[] = [];
    for (let p = 0; p < n; p++) messages.push({ topic, key, value, partition: p });
    this.o.logger.debug('published rename markers', { from: tableName(from), to: tableName(schema) });
    return { messages, bytes: n * value.length };
  }
}
