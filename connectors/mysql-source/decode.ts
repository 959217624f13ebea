import {
  type ChangeEvent,
  type ErrorCode,
  FerryError,
  isTableCaptured,
  type JsonObject,
  type Row,
  type SourceItem,
  type TableFilter,
  type TableSchema,
} from '../../src/api/index.js';
import { classifyStatement, type StatementKind } from './ddl.js';
import { GtidState } from './gtid.js';
import { comparePositions } from './placements.js';
import { type MysqlPosition, toSourcePosition } from './position.js';
import { encodeRow, keyOf, sameKey } from './rows.js';
import type { CapturedTable, TableRegistry } from './table-registry.js';
import { PreparedXa, type XidKey } from './xa.js';

/** Binlog events as the decoder sees them: plain data, made from zongji's events by binlog.ts. */
export type BinlogEvent =
  | { type: 'rotate'; file: string; position: number }
  /** `xa`: the group is a prepared XA transaction (MariaDB flags its GTID event). */
  | { type: 'gtid'; gtid: string; timestamp: number; xa?: boolean }
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
  /** Ends a prepared XA group (`onePhase`: MySQL's XA COMMIT … ONE PHASE, committed at once). */
  | { type: 'xaprepare'; xid: XidKey; onePhase: boolean; timestamp: number; nextPosition: number }
  | { type: 'query'; query: string; db: string; timestamp: number; nextPosition: number };

export interface DecodeResult {
  items: SourceItem[];
  /** The statement changed table shapes: re-read the schemas, then call afterDdl(). */
  refreshSchemas?: true;
  /** Something the user must hear about (logged and counted by the caller). */
  warnings?: DecodeWarning[];
}

export interface DecodeWarning {
  code: ErrorCode;
  message: string;
  fields: Record<string, unknown>;
}

export interface DecoderOptions {
  filter: TableFilter;
  /** Where the stream starts (a transaction boundary). */
  start: MysqlPosition;
  /** @@server_id of the source server. */
  serverId: number;
  /** Minimum interval between checkpoints of transactions that touch no captured table. */
  heartbeatMs: number;
  registry: TableRegistry;
  /**
   * DML written as a statement on a captured table: `fail` (default) stops the stream with
   * FERRY_STATEMENT_DML; `warn` reports it and goes on (its row changes are not captured).
   */
  statementDml?: 'fail' | 'warn';
  now?: () => number;
}

interface Txn {
  gtid: string | null;
  startPos: number;
  order: number;
  perTable: Map<string, number>;
  captured: boolean;
  /** A prepared XA transaction: its events wait in `held` for the outcome (xa.ts). */
  xa: { start: MysqlPosition; held: SourceItem[] } | null;
}

/**
 * Turns binlog events into SourceItems (pure, no I/O): row events into change events with
 * canonical values, commits into checkpoints, TRUNCATE into `t` events; DDL asks the caller to
 * re-read the schemas. Positions: `file` from rotates, `pos` = end of the last commit (held before
 * an open prepared XA transaction, xa.ts). DML written as a statement on a captured table stops
 * the stream (FERRY_STATEMENT_DML) or, with `statementDml: warn`, comes back as a warning.
 */
export class BinlogDecoder {
  private readonly o: DecoderOptions;
  private readonly now: () => number;
  private file: string;
  private pos: number;
  private readonly gtids: GtidState;
  private txn: Txn | null = null;
  private lastCheckpoint = 0;
  private readonly prepared = new PreparedXa();
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
        this.beginTxn(ev.gtid, ev.xa === true);
        return { items: [] };
      case 'rows':
        return { items: this.hold(this.rows(ev)) };
      case 'xaprepare':
        return this.xaPrepare(ev);
      case 'xid':
        return { items: this.commit(ev.nextPosition, ev.timestamp) };
      case 'query':
        return this.query(ev);
    }
  }

  /** After a DDL statement and the schema re-read: new schema versions, then its checkpoint. */
  afterDdl(
    ev: { nextPosition: number; timestamp: number },
    changed: TableSchema[],
    backfills?: Map<TableSchema, string[]>,
  ): SourceItem[] {
    for (const schema of changed) this.o.registry.announce(schema);
    const items: SourceItem[] = changed.map((schema) => {
      const backfill = backfills?.get(schema);
      return backfill ? { type: 'schema', schema, backfill } : { type: 'schema', schema };
    });
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

  private beginTxn(gtid: string | null, xa = false): void {
    const start = xa ? this.position() : null;
    if (gtid) this.gtids.begin(gtid);
    this.txn = { gtid, startPos: this.pos, order: 0, perTable: new Map(), captured: false, xa: null };
    if (start) this.txn.xa = { start, held: [] };
  }

  /** The events of a prepared XA transaction wait for its outcome; schemas go out at once. */
  private hold(items: SourceItem[]): SourceItem[] {
    const xa = this.txn?.xa;
    if (!xa) return items;
    const now: SourceItem[] = [];
    for (const item of items) (item.type === 'event' ? xa.held : now).push(item);
    return now;
  }

  private xaPrepare(ev: Extract<BinlogEvent, { type: 'xaprepare' }>): DecodeResult {
    const xa = this.txn?.xa;
    if (ev.onePhase || !xa) return { items: [...(xa?.held ?? []), ...this.commit(ev.nextPosition, ev.timestamp)] };
    this.prepared.prepare(ev.xid, xa.start, xa.held);
    return { items: this.commit(ev.nextPosition, ev.timestamp) };
  }

  /** XA COMMIT / XA ROLLBACK of a prepared transaction: its events now, or never. */
  private xaOutcome(ev: Extract<BinlogEvent, { type: 'query' }>, xid: XidKey | null, commit: boolean): DecodeResult {
    if (!this.txn) this.beginTxn(null);
    const held = xid === null ? null : this.prepared.finish(xid);
    // The held events take the place of the XA COMMIT in the commit order.
    const at = this.txn ? commitOrderOf(this.file, this.txn.startPos) : undefined;
    const items = commit && held ? held.map((item) => atCommit(item, at)) : [];
    if (items.length > 0 && this.txn) this.txn.captured = true;
    const res: DecodeResult = { items: [...items, ...this.commit(ev.nextPosition, ev.timestamp)] };
    if (held === null && commit) {
      res.warnings = [
        {
          code: 'FERRY_DECODE',
          message:
            'XA COMMIT of a transaction prepared before the position the stream started from: its row changes ' +
            'were not read. If it changed captured tables, take a new snapshot (docs/mysql-source.md#xa-transactions).',
          fields: { xid, position: this.where() },
        },
      ];
    }
    return res;
  }

  /** DML written as a statement: refused (or reported) when it may write to a captured table. */
  private statementDml(st: Extract<StatementKind, { kind: 'dml' }>) {
    const captured = st.tables.filter((t) => isTableCaptured(this.o.filter, t));
    if (st.tables.length > 0 && captured.length === 0) return;
    const table = captured[0] ? `${captured[0].db}.${captured[0].table}` : null;
    const what = table ? `the captured table ${table}` : 'a table ferry could not read from the statement';
    const position = this.where();
    const message =
      `${st.verb} on ${what} was written to the binlog as a statement, not as rows (a session with ` +
      `binlog_format STATEMENT or MIXED), at ${position}: its row changes cannot be captured, and the target ` +
      'would differ from the source. Make every session log rows (SET GLOBAL binlog_format = ROW, reconnect ' +
      'the clients, and do not grant them SUPER or BINLOG ADMIN, which allow SET SESSION binlog_format), then ' +
      'take a new snapshot (`ferry run -c <config> --resnapshot`), or set source.statementDml: warn to go on ' +
      'without these changes; see docs/mysql-source.md#statement-format-dml.';
    // The statement's text is left out: it may hold values that do not belong in logs.
    const fields = { table, verb: st.verb, position };
    if ((this.o.statementDml ?? 'fail') === 'fail') {
      throw new FerryError('FERRY_STATEMENT_DML', message, { details: fields });
    }
    return { code: 'FERRY_STATEMENT_DML' as const, message, fields };
  }

  private where(): string {
    const pos = this.txn?.startPos ?? this.pos;
    const gtid = this.txn?.gtid ? ` (GTID ${this.txn.gtid})` : '';
    return `${this.file}:${pos}${gtid}`;
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
    // While prepared XA transactions wait for their outcome, a restart must read them again.
    const position = this.prepared.held() ?? this.position();
    const item: SourceItem = { type: 'checkpoint', position: toSourcePosition(position) };
    if (commitTsMs) item.commitTsMs = commitTsMs;
    return item;
  }

  private query(ev: Extract<BinlogEvent, { type: 'query' }>): DecodeResult {
    const st = classifyStatement(ev.query, ev.db);
    switch (st.kind) {
      case 'begin':
        if (!this.txn) this.beginTxn(null);
        return { items: [] };
      case 'xa-start':
        // MySQL opens a prepared XA group with this statement (its GTID event carries no flag).
        if (!this.txn) this.beginTxn(null);
        this.txn!.xa ??= { start: { ...this.position(), pos: this.txn!.startPos }, held: [] };
        return { items: [] };
      case 'xa-commit':
      case 'xa-rollback':
        return this.xaOutcome(ev, st.xid, st.kind === 'xa-commit');
      case 'dml': {
        const warning = this.statementDml(st);
        return warning ? { items: [], warnings: [warning] } : { items: [] };
      }
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
        commitOrder: commitOrderOf(this.file, txn.startPos),
      },
    };
  }
}

/**
 * A transaction's place in the binlog's commit order: file number × 2^32 + position of its
 * group, as a decimal string (docs/transactions.md). Binlog groups are written in commit order.
 */
export function commitOrderOf(file: string, pos: number): string {
  const m = /(\d+)$/.exec(file);
  const n = m ? BigInt(m[1]!) : 0n;
  return ((n << 32n) + BigInt(pos)).toString();
}

/** A held XA event, placed at its XA COMMIT in the commit order. */
function atCommit(item: SourceItem, order: string | undefined): SourceItem {
  if (item.type !== 'event' || !item.event.transaction || order === undefined) return item;
  return { ...item, event: { ...item.event, transaction: { ...item.event.transaction, commitOrder: order } } };
}
