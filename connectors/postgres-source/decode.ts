/**
 * PgoutputDecoder: pgoutput messages -> ferry source items, in log order. Pure apart from the
 * injected `resolveRelation` (which reads the catalog): no sockets, no timers.
 *
 * - Begin/Commit frame a transaction; every Commit yields a checkpoint at the commit's end LSN.
 * - Transactions whose commit record lies before `startLsn` were already published (PostgreSQL
 *   may send them again after a restart) and are skipped.
 * - Relation messages describe the shape of the rows that follow; a shape ferry has not
 *   published yet becomes a `schema` item before those rows.
 * - A primary-key change is a delete of the old key followed by a create of the new key; TOASTed
 *   columns it left unchanged are read from the table (`fetchRow`), as a create must be whole.
 * - An unchanged TOASTed column of an update is UNCHANGED, never null.
 */
import {
  type ChangeEvent,
  type ColumnSchema,
  encodeValue,
  FerryError,
  type JsonValue,
  type Op,
  type Row,
  type SourceItem,
  type TableSchema,
  tableName,
  UNCHANGED,
} from '../../src/api/index.js';
import { formatLsn, lsnNumber } from './lsn.js';
import { type PgMessage, type PgRelation, type TupleValue, UNCHANGED_TOAST } from './pgoutput.js';

/** Prefix of the logical messages that place snapshot chunks in the stream. */
export const WATERMARK_PREFIX = 'ferry_watermark';

/** Resolves a Relation message to the schema of a captured table, or null when the table is not captured. */
export type RelationResolver = (rel: PgRelation) => Promise<TableSchema | null>;

/**
 * Reads the current values (server text, in the order of `columns`) of the row whose key columns
 * equal the given texts (as pgoutput sent them), or null when there is no such row.
 */
export type RowFetcher = (
  table: TableSchema,
  key: Array<{ column: string; text: string }>,
  columns: string[],
) => Promise<(string | null)[] | null>;

export interface DecoderOptions {
  resolveRelation: RelationResolver;
  /** Transactions whose commit record starts before this LSN are skipped (already published). */
  startLsn: bigint;
  /** Schema versions already published, by `schema.table`; a Relation with another shape yields a schema item. */
  knownVersions?: Map<string, string>;
  /** The last schema published of each table; a Relation that adds columns is compared with it. */
  knownSchemas?: Map<string, TableSchema>;
  /**
   * The columns of the Relation just resolved that have a default or a missing value in the
   * catalog: old rows hold a value there, and if the schema states none, the table is read again.
   */
  withDefault?: () => ReadonlySet<string>;
  /** Prefix of ferry's own heartbeat messages (ignored like any other logical message). */
  heartbeatPrefix?: string;
  /**
   * Reads TOASTed values a primary-key change left unchanged: the WAL does not carry them (unless
   * REPLICA IDENTITY FULL), and the create of the new key has no earlier row to keep them from.
   * Without it, such a change is a decode error rather than a silent loss.
   */
  fetchRow?: RowFetcher;
}

interface RelationEntry {
  rel: PgRelation;
  schema: TableSchema | null;
  /** For each relation column: its schema column, or null when excluded. */
  columns: (ColumnSchema | null)[];
}

interface TxState {
  xid: number;
  finalLsn: bigint;
  commitTimeMs: number;
  skip: boolean;
  order: number;
  perTable: Map<string, number>;
}

export class PgoutputDecoder {
  private readonly relations = new Map<number, RelationEntry>();
  private readonly known: Map<string, string>;
  private tx: TxState | null = null;
  private startLsn: bigint;
  /** Commit time of the last transaction seen (for lag). */
  lastCommitMs: number | null = null;

  constructor(private readonly opts: DecoderOptions) {
    this.known = opts.knownVersions ?? new Map();
    this.startLsn = opts.startLsn;
  }

  /** True while inside a transaction (between Begin and Commit). */
  get inTransaction(): boolean {
    return this.tx !== null;
  }

  /**
   * Turns one message into source items. `walLsn` is the WAL position of the message from the
   * XLogData header (for row changes: the LSN of the change).
   */
  async decode(msg: PgMessage, walLsn: bigint): Promise<SourceItem[]> {
    switch (msg.tag) {
      case 'begin':
        this.tx = {
          xid: msg.xid,
          finalLsn: msg.finalLsn,
          commitTimeMs: msg.commitTimeMs,
          skip: msg.finalLsn < this.startLsn,
          order: 0,
          perTable: new Map(),
        };
        return [];
      case 'commit': {
        const tx = this.tx;
        this.tx = null;
        this.lastCommitMs = msg.commitTimeMs;
        if (tx?.skip || msg.commitLsn < this.startLsn) return [];
        return [{ type: 'checkpoint', position: { lsn: formatLsn(msg.endLsn) }, commitTsMs: msg.commitTimeMs }];
      }
      case 'relation':
        return this.relation(msg);
      case 'insert':
      case 'update':
      case 'delete': {
        const tx = this.requireTx(msg.tag);
        if (tx.skip) return [];
        const entry = this.entry(msg.relationOid);
        if (!entry.schema) return [];
        if (msg.tag === 'insert') {
          const after = this.row(entry, msg.newTuple, null);
          return [this.event(tx, entry.schema, 'c', this.key(entry.schema, after), null, after, walLsn)];
        }
        if (msg.tag === 'delete') return [this.deleteEvent(tx, entry, msg.keyTuple, msg.oldTuple, walLsn)];
        return await this.update(tx, entry, msg.keyTuple, msg.oldTuple, msg.newTuple, walLsn);
      }
      case 'truncate': {
        const tx = this.requireTx('truncate');
        if (tx.skip) return [];
        const items: SourceItem[] = [];
        for (const oid of msg.relationOids) {
          const schema = this.entry(oid).schema;
          if (schema) items.push(this.event(tx, schema, 't', null, null, null, walLsn));
        }
        return items;
      }
      case 'message':
        // A snapshot chunk's watermark (chunks.ts): transactional, so it sits in commit order.
        if (msg.prefix === WATERMARK_PREFIX && msg.transactional && !this.tx?.skip) {
          return [{ type: 'watermark', id: msg.content.toString('utf8') }];
        }
        return [];
      case 'type':
      case 'origin':
        return [];
    }
  }

  private requireTx(what: string): TxState {
    if (!this.tx) throw new FerryError('FERRY_DECODE', `pgoutput ${what} outside a transaction`);
    return this.tx;
  }

  private entry(oid: number): RelationEntry {
    const entry = this.relations.get(oid);
    if (!entry) {
      throw new FerryError('FERRY_DECODE', `pgoutput change for relation ${oid} before its Relation message`);
    }
    return entry;
  }

  private async relation(rel: PgRelation): Promise<SourceItem[]> {
    const schema = await this.opts.resolveRelation(rel);
    const columns = rel.columns.map((c) => schema?.columns.find((s) => s.name === c.name) ?? null);
    this.relations.set(rel.oid, { rel, schema, columns });
    if (!schema) return [];
    const name = tableName(schema);
    if (this.known.get(name) === schema.version) return [];
    this.known.set(name, schema.version);
    // The old name is free: a table created under it later is a new table (new-tables.ts).
    if (schema.renamedFrom && tableName(schema.renamedFrom) !== name) this.known.delete(tableName(schema.renamedFrom));
    const schemas = this.opts.knownSchemas;
    const prev = schemas?.get(name) ?? (schema.renamedFrom ? schemas?.get(tableName(schema.renamedFrom)) : undefined);
    schemas?.set(name, schema);
    const backfill = prev ? addedWithoutValue(prev, schema, this.opts.withDefault?.() ?? new Set()) : [];
    return [backfill.length > 0 ? { type: 'schema', schema, backfill } : { type: 'schema', schema }];
  }

  /** Row image of a tuple; `fallback` (REPLICA IDENTITY FULL old row) fills unchanged TOAST values. */
  private row(entry: RelationEntry, tuple: TupleValue[], fallback: TupleValue[] | null): Row {
    const row: Row = {};
    entry.columns.forEach((column, i) => {
      if (!column) return;
      let raw = tuple[i];
      if (raw === undefined) {
        throw new FerryError(
          'FERRY_DECODE',
          `pgoutput tuple for ${entry.rel.schema}.${entry.rel.name} has ${tuple.length} columns, the relation ${entry.columns.length}`,
        );
      }
      if (raw === UNCHANGED_TOAST && fallback && fallback[i] !== undefined && fallback[i] !== UNCHANGED_TOAST) {
        raw = fallback[i]!;
      }
      row[column.name] = raw === UNCHANGED_TOAST ? UNCHANGED : encodeValue(column, raw);
    });
    return row;
  }

  /** Only the replica-identity key columns of a 'K' tuple (the others are sent as NULL placeholders). */
  private keyRow(entry: RelationEntry, tuple: TupleValue[]): Row {
    const row: Row = {};
    entry.columns.forEach((column, i) => {
      if (!column || !entry.rel.columns[i]?.isKey) return;
      const raw = tuple[i];
      row[column.name] = raw === undefined || raw === UNCHANGED_TOAST ? UNCHANGED : encodeValue(column, raw);
    });
    return row;
  }

  private key(schema: TableSchema, row: Row): Row {
    const key: Row = {};
    for (const k of schema.primaryKey) {
      const v = row[k];
      if (v === undefined || v === UNCHANGED) {
        throw new FerryError('FERRY_DECODE', `${tableName(schema)}: key column "${k}" has no value in the change`);
      }
      key[k] = v;
    }
    return key;
  }

  /** The key of an old image when it holds every key column, else null. */
  private oldKey(schema: TableSchema, row: Row | null): Row | null {
    if (!row) return null;
    const key: Row = {};
    for (const k of schema.primaryKey) {
      const v: JsonValue | undefined = row[k];
      if (v === undefined || v === UNCHANGED) return null;
      key[k] = v;
    }
    return key;
  }

  private deleteEvent(
    tx: TxState,
    entry: RelationEntry,
    keyTuple: TupleValue[] | null,
    oldTuple: TupleValue[] | null,
    walLsn: bigint,
  ): SourceItem {
    const schema = entry.schema!;
    const before = oldTuple ? this.row(entry, oldTuple, null) : keyTuple ? this.keyRow(entry, keyTuple) : null;
    const key = this.oldKey(schema, before);
    if (!before || !key) {
      throw new FerryError(
        'FERRY_DECODE',
        `${tableName(schema)}: a DELETE arrived without the old key; give the table a primary key or REPLICA IDENTITY FULL`,
      );
    }
    return this.event(tx, schema, 'd', key, before, null, walLsn);
  }

  private async update(
    tx: TxState,
    entry: RelationEntry,
    keyTuple: TupleValue[] | null,
    oldTuple: TupleValue[] | null,
    newTuple: TupleValue[],
    walLsn: bigint,
  ): Promise<SourceItem[]> {
    const schema = entry.schema!;
    const after = this.row(entry, newTuple, oldTuple);
    const key = this.key(schema, after);
    const before = oldTuple ? this.row(entry, oldTuple, null) : keyTuple ? this.keyRow(entry, keyTuple) : null;
    const oldKey = this.oldKey(schema, before);
    if (oldKey && JSON.stringify(oldKey) !== JSON.stringify(key)) {
      const items = [this.event(tx, schema, 'd', oldKey, before, null, walLsn)];
      if (await this.fillUnchanged(entry, newTuple, after))
        items.push(this.event(tx, schema, 'c', key, null, after, walLsn));
      return items;
    }
    return [this.event(tx, schema, 'u', key, oldTuple ? before : null, after, walLsn)];
  }

  /**
   * The create of a new key must be a whole row: unchanged TOASTed columns are read from the
   * table. The value read may be newer than this change; the later changes that made it so come
   * after it in the log, so the target still ends at the source's state. False when the row is
   * gone by now: a later change in the log deletes the new key, so its create can be left out.
   */
  private async fillUnchanged(entry: RelationEntry, newTuple: TupleValue[], after: Row): Promise<boolean> {
    const schema = entry.schema!;
    const missing = schema.columns.filter((c) => after[c.name] === UNCHANGED);
    if (missing.length === 0) return true;
    const names = missing.map((c) => c.name);
    if (!this.opts.fetchRow) {
      throw new FerryError(
        'FERRY_DECODE',
        `${tableName(schema)}: a primary-key change left TOASTed column(s) ${names.join(', ')} unchanged and their ` +
          'values are not in the WAL; give the table REPLICA IDENTITY FULL',
      );
    }
    const key = schema.primaryKey.map((k) => {
      const text = newTuple[entry.columns.findIndex((c) => c?.name === k)];
      if (typeof text !== 'string') {
        throw new FerryError('FERRY_DECODE', `${tableName(schema)}: key column "${k}" has no value in the change`);
      }
      return { column: k, text };
    });
    const values = await this.opts.fetchRow(schema, key, names);
    if (!values) return false;
    missing.forEach((c, i) => {
      after[c.name] = encodeValue(c, values[i] ?? null);
    });
    return true;
  }

  private event(
    tx: TxState,
    schema: TableSchema,
    op: Op,
    key: Row | null,
    before: Row | null,
    after: Row | null,
    walLsn: bigint,
  ): SourceItem {
    const name = tableName(schema);
    tx.order++;
    const perTable = (tx.perTable.get(name) ?? 0) + 1;
    tx.perTable.set(name, perTable);
    const event: ChangeEvent = {
      op,
      db: schema.db,
      table: schema.table,
      key,
      before,
      after,
      tsMs: tx.commitTimeMs,
      schemaVersion: schema.version,
      snapshot: false,
      source: {
        connector: 'postgresql',
        schema: schema.db,
        txId: tx.xid,
        lsn: lsnNumber(walLsn),
        commit_lsn: formatLsn(tx.finalLsn),
      },
      transaction: {
        id: String(tx.xid),
        totalOrder: tx.order,
        dataCollectionOrder: perTable,
        commitOrder: tx.finalLsn.toString(),
      },
    };
    return { type: 'event', event };
  }
}

/**
 * Columns `now` adds to `prev` (not renamed) that old rows hold a value of which the schema
 * states none: an expression default (a volatile one rewrote the table without row changes in
 * the WAL; `now()` and the like are kept as attmissingval) or a value ferry does not encode.
 */
export function addedWithoutValue(prev: TableSchema, now: TableSchema, defaulted: ReadonlySet<string>): string[] {
  const had = new Set(prev.columns.map((c) => c.name));
  return now.columns
    .filter((c) => !had.has(c.name) && c.renamedFrom === undefined && c.default === undefined && defaulted.has(c.name))
    .map((c) => c.name);
}
