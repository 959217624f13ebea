import {
  type ChangeEvent,
  FerryError,
  isTableCaptured,
  type JsonObject,
  type Row,
  type SourceItem,
  type TableFilter,
  type TableSchema,
} from '../../src/api/index.js';
import { classifyStatement } from './ddl.js';
import { GtidState } from './gtid.js';
import { comparePositions } from './placements.js';
import { type MysqlPosition, toSourcePosition } from './position.js';
import { encodeRow, keyOf, sameKey } from './rows.js';
import type { CapturedTable, TableRegistry } from './table-registry.js';

/** Binlog events as the decoder sees them: plain data, made from zongji's events by binlog.ts. */
export type BinlogEvent =
  | { type: 'rotate'; file: string; position: number }
  | { type: 'gtid'; gtid: string; timestamp: number }
  /** Any other event: only where it ends matters (the stream passed that position). */
  | { type: 'mark'; nextPosition: number }
  | {
      type: 'rows';
      op: 'write' | 'update' | 'delete';
      db: string;
      table: string;
      /** Column names and (approximate) types from the TableMap's FULL row metadata. */
      columns: Array<{ name: string; type: string }>;
      /** Primary-key column names from the TableMap's FULL metadata, when present. */
      primaryKey?: string[];
      rows: unknown[];
      timestamp: number;
    }
  | { type: 'xid'; timestamp: number; nextPosition: number }
  | { type: 'query'; query: string; db: string; timestamp: number; nextPosition: number };

export type DecodeResult =
  | { items: SourceItem[] }
  /** The statement changed table shapes: re-read the schemas, then call afterDdl(). */
  | { items: SourceItem[]; refreshSchemas: true };

export interface DecoderOptions {
  filter: TableFilter;
  /** Where the stream starts (a transaction boundary). */
  start: MysqlPosition;
  /** @@server_id of the source server. */
  serverId: number;
  /** Minimum interval between checkpoints of transactions that touch no captured table. */
  heartbeatMs: number;
  registry: TableRegistry;
  now?: () => number;
}

interface Txn {
  gtid: string | null;
  startPos: number;
  order: number;
  perTable: Map<string, number>;
  captured: boolean;
}

/**
 * Turns binlog events into SourceItems (pure, no I/O): row events into change events with
 * canonical values, commits into checkpoints, TRUNCATE into `t` events; DDL asks the caller to
 * re-read the schemas. Positions: `file` from rotates, `pos` = end of the last commit.
 */
export class BinlogDecoder {
  private readonly o: DecoderOptions;
  private readonly now: () => number;
  private file: string;
  private pos: number;
  private readonly gtids: GtidState;
  private txn: Txn | null = null;
  private lastCheckpoint = 0;
  private started = false;
  /** End of the last event seen in `file` (any type). */
  private seenEnd = 0;

  constructor(opts: DecoderOptions) {
    this.o = opts;
    this.now = opts.now ?? Date.now;
    this.file = opts.start.file;
    this.pos = opts.start.pos;
    this.gtids = GtidState.parse(opts.start.gtid);
  }

  position(): MysqlPosition {
    return { file: this.file, pos: this.pos, gtid: this.gtids.toString() || null, serverId: this.o.serverId };
  }

  /**
   * Whether the stream passed binlog position (file, pos): at a transaction boundary, with every
   * event before that position handled.
   */
  passed(file: string, pos: number): boolean {
    if (this.txn) return false;
    return comparePositions({ file: this.file, pos: Math.max(this.pos, this.seenEnd) }, { file, pos }) >= 0;
  }

  /** A checkpoint at the current transaction boundary. */
  boundaryCheckpoint(): SourceItem {
    return this.checkpoint(undefined);
  }

  handle(ev: BinlogEvent): DecodeResult {
    if ('nextPosition' in ev && ev.nextPosition > this.seenEnd) this.seenEnd = ev.nextPosition;
    switch (ev.type) {
      case 'mark':
        return { items: [] };
      case 'rotate':
        return { items: this.rotate(ev.file, ev.position) };
      case 'gtid':
        this.beginTxn(ev.gtid);
        return { items: [] };
      case 'rows':
        return { items: this.rows(ev) };
      case 'xid':
        return { items: this.commit(ev.nextPosition, ev.timestamp) };
      case 'query':
        return this.query(ev);
    }
  }

  /** After a DDL statement and the schema re-read: new schema versions, then its checkpoint. */
  afterDdl(ev: { nextPosition: number; timestamp: number }, changed: TableSchema[]): SourceItem[] {
    for (const schema of changed) this.o.registry.announce(schema);
    const items: SourceItem[] = changed.map((schema) => ({ type: 'schema', schema }));
    if (changed.length > 0 && this.txn) this.txn.captured = true;
    return [...items, ...this.commit(ev.nextPosition, ev.timestamp)];
  }

  private rotate(file: string, position: number): SourceItem[] {
    const first = !this.started;
    this.started = true;
    if (file === this.file && position === this.pos && !first) return [];
    this.file = file;
    this.pos = position > 0 ? position : 4;
    this.seenEnd = this.pos;
    this.txn = null;
    // The first rotate opens the stream: its checkpoint tells the runtime we are connected.
    return first || this.heartbeatDue() ? [this.checkpoint(undefined)] : [];
  }

  private beginTxn(gtid: string | null): void {
    if (gtid) this.gtids.begin(gtid);
    this.txn = { gtid, startPos: this.pos, order: 0, perTable: new Map(), captured: false };
  }

  private commit(nextPosition: number, timestamp: number): SourceItem[] {
    const captured = this.txn?.captured ?? false;
    this.gtids.commit();
    this.txn = null;
    if (nextPosition > 0) this.pos = nextPosition;
    if (!captured && !this.heartbeatDue()) return [];
    return [this.checkpoint(timestamp)];
  }

  private heartbeatDue(): boolean {
    return this.now() - this.lastCheckpoint >= this.o.heartbeatMs;
  }

  private checkpoint(commitTsMs: number | undefined): SourceItem {
    this.lastCheckpoint = this.now();
    const item: SourceItem = { type: 'checkpoint', position: toSourcePosition(this.position()) };
    if (commitTsMs) item.commitTsMs = commitTsMs;
    return item;
  }

  private query(ev: Extract<BinlogEvent, { type: 'query' }>): DecodeResult {
    const st = classifyStatement(ev.query, ev.db);
    switch (st.kind) {
      case 'begin':
        if (!this.txn) this.beginTxn(null);
        return { items: [] };
      case 'commit':
      case 'rollback':
        return { items: this.commit(ev.nextPosition, ev.timestamp) };
      case 'truncate': {
        if (!this.txn) this.beginTxn(null);
        const items: SourceItem[] = [];
        for (const t of st.tables) {
          const entry = this.o.registry.get(t.db, t.table);
          if (!entry) continue;
          if (this.o.registry.announce(entry.schema)) items.push({ type: 'schema', schema: entry.schema });
          items.push({ type: 'event', event: this.event(entry, 't', null, null, null, ev.timestamp, 0) });
        }
        return { items: [...items, ...this.commit(ev.nextPosition, ev.timestamp)] };
      }
      case 'ddl':
        if (!this.txn) this.beginTxn(null);
        return { items: [], refreshSchemas: true };
      case 'other':
        return { items: [] };
    }
  }

  private rows(ev: Extract<BinlogEvent, { type: 'rows' }>): SourceItem[] {
    if (!isTableCaptured(this.o.filter, ev)) return [];
    if (!this.txn) this.beginTxn(null);
    const resolved = this.o.registry.resolve(ev.db, ev.table, ev.columns, ev.primaryKey);
    const items: SourceItem[] = [];
    if (resolved.announce) items.push({ type: 'schema', schema: resolved.table.schema });
    const t = resolved.table;
    ev.rows.forEach((raw, i) => {
      if (ev.op === 'update') {
        const { before, after } = raw as { before: Record<string, unknown>; after: Record<string, unknown> };
        const b = encodeRow(t.schema, before);
        const a = encodeRow(t.schema, after);
        if (sameKey(keyOf(t.schema, b), keyOf(t.schema, a))) {
          items.push({ type: 'event', event: this.event(t, 'u', keyOf(t.schema, a), b, a, ev.timestamp, i) });
        } else {
          // A primary-key change: delete the old key, create the new one.
          items.push({ type: 'event', event: this.event(t, 'd', keyOf(t.schema, b), b, null, ev.timestamp, i) });
          items.push({ type: 'event', event: this.event(t, 'c', keyOf(t.schema, a), null, a, ev.timestamp, i) });
        }
        return;
      }
      const row = encodeRow(t.schema, raw as Record<string, unknown>);
      const event =
        ev.op === 'write'
          ? this.event(t, 'c', keyOf(t.schema, row), null, row, ev.timestamp, i)
          : this.event(t, 'd', keyOf(t.schema, row), row, null, ev.timestamp, i);
      items.push({ type: 'event', event });
    });
    return items;
  }

  private event(
    t: CapturedTable,
    op: ChangeEvent['op'],
    key: Row | null,
    before: Row | null,
    after: Row | null,
    timestamp: number,
    row: number,
  ): ChangeEvent {
    const txn = this.txn;
    if (!txn) throw new FerryError('FERRY_INTERNAL', 'binlog row event outside a transaction');
    txn.captured = true;
    txn.order++;
    const name = `${t.schema.db}.${t.schema.table}`;
    const perTable = (txn.perTable.get(name) ?? 0) + 1;
    txn.perTable.set(name, perTable);
    const source: JsonObject = {
      connector: 'mysql',
      server_id: this.o.serverId,
      gtid: txn.gtid,
      file: this.file,
      pos: txn.startPos,
      row,
    };
    return {
      op,
      db: t.schema.db,
      table: t.schema.table,
      key,
      before,
      after,
      tsMs: timestamp,
      schemaVersion: t.schema.version,
      snapshot: false,
      source,
      transaction: {
        id: txn.gtid ?? `${this.file}:${txn.startPos}`,
        totalOrder: txn.order,
        dataCollectionOrder: perTable,
      },
    };
  }
}
