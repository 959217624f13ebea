/**
 * PostgresSink: applies reduced change batches to PostgreSQL (docs/sinks.md). One connection;
 * each batch is one transaction holding its rows and its offsets (ferry_offsets). Tables are
 * created and evolved from the published schemas (docs/type-mapping.md).
 */
import pg from 'pg';
import {
  type ColumnSchema,
  FerryError,
  type Logger,
  type PartitionOffset,
  type Row,
  type SinkBatch,
  type SinkConnector,
  type SinkContext,
  type TableChanges,
  type TableSchema,
  UNCHANGED,
} from '../../src/api/index.js';
import { classifyPgError } from './errors.js';
import {
  addColumnStatement,
  alterTypeStatement,
  createOffsetsTableStatement,
  createSchemaStatement,
  createTableStatement,
  deleteStatement,
  describeTableStatement,
  dropNotNullStatement,
  lockOffsetsStatement,
  type PgCastColumn,
  type PgStatement,
  primaryKeyStatement,
  readOffsetsStatement,
  truncateStatement,
  upsertStatement,
  writeBarriersStatement,
  writeOffsetsStatement,
} from './sql.js';
import { compareTypes, parsePgType, pgColumnType } from './types.js';
import { type PgTargetColumn, toPgParam } from './values.js';

export interface PostgresSinkOptions {
  /** `postgres://user:password@host:port/database`; or the parts below (the parts win). */
  url?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  ssl?: boolean;
  /** Schema of the ferry_offsets table; default `public`. */
  metadataSchema?: string;
  /** Rows per INSERT/DELETE statement; default 5000. */
  maxRowsPerStatement?: number;
  /** Connect timeout, ms; default 10 000. */
  connectTimeoutMs?: number;
  /**
   * Create missing tables and evolve existing ones (add columns, widen types); default true.
   * false: ferry runs no DDL on target tables, and a missing table or column stops the sink.
   */
  createTables?: boolean;
}

interface TargetTable {
  columns: Map<string, PgTargetColumn & { castType: string }>;
  primaryKey: string[];
}

/** Advisory lock taken around DDL so that sink processes of one group never race on CREATE/ALTER. */
const DDL_LOCK_KEY = 7_233_004_771;

const tableKey = (db: string, table: string): string => `${db}\u0000${table}`;

export class PostgresSink implements SinkConnector {
  readonly kind = 'postgres' as const;
  private readonly opts: PostgresSinkOptions;
  private readonly metadataSchema: string;
  private readonly maxRows: number;
  private readonly createTables: boolean;
  private client: pg.Client | null = null;
  private broken = false;
  private ctx: SinkContext | null = null;
  private logger: Logger | null = null;
  private readonly tables = new Map<string, TargetTable>();
  private readonly ensured = new Set<string>();

  constructor(opts: PostgresSinkOptions) {
    this.opts = opts;
    this.metadataSchema = opts.metadataSchema ?? 'public';
    this.createTables = opts.createTables ?? true;
    this.maxRows = opts.maxRowsPerStatement ?? 5000;
  }

  async start(ctx: SinkContext): Promise<void> {
    this.ctx = ctx;
    this.logger = ctx.logger.child({ component: 'postgres-sink' });
    await this.transaction('creating the offsets table', async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [DDL_LOCK_KEY]);
      if (this.metadataSchema !== 'public') await exec(c, createSchemaStatement(this.metadataSchema));
      await exec(c, createOffsetsTableStatement(this.metadataSchema));
    });
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = null;
    if (c) await c.end().catch(() => undefined);
  }

  private async connection(): Promise<pg.Client> {
    if (this.client && !this.broken) return this.client;
    if (this.client) {
      const old = this.client;
      this.client = null;
      old.end().catch(() => undefined);
    }
    const o = this.opts;
    const config: pg.ClientConfig = {
      application_name: 'ferry-sink',
      connectionTimeoutMillis: o.connectTimeoutMs ?? 10_000,
      keepAlive: true,
    };
    if (o.url) config.connectionString = o.url;
    if (o.host !== undefined) config.host = o.host;
    if (o.port !== undefined) config.port = o.port;
    if (o.user !== undefined) config.user = o.user;
    if (o.password !== undefined) config.password = o.password;
    if (o.database !== undefined) config.database = o.database;
    if (o.ssl) config.ssl = true;
    const client = new pg.Client(config);
    client.on('error', (err) => {
      this.broken = true;
      this.logger?.warn('PostgreSQL connection error', { error: err.message });
    });
    try {
      await client.connect();
    } catch (err) {
      client.end().catch(() => undefined);
      throw classifyPgError(err, 'cannot connect to the target PostgreSQL');
    }
    this.client = client;
    this.broken = false;
    return client;
  }

  /** Runs `fn` on the connection, classifying errors; a broken connection is replaced next time. */
  private async run<T>(what: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
    const c = await this.connection();
    try {
      return await fn(c);
    } catch (err) {
      const e = classifyPgError(err, what);
      if (e.code === 'FERRY_CONNECTION') this.broken = true;
      throw e;
    }
  }

  /** Runs `fn` inside BEGIN … COMMIT; rolls back on any error. */
  private async transaction<T>(what: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
    return this.run(what, async (c) => {
      await c.query('BEGIN');
      try {
        const out = await fn(c);
        await c.query('COMMIT');
        return out;
      } catch (err) {
        await c.query('ROLLBACK').catch(() => {
          this.broken = true;
        });
        throw err;
      }
    });
  }

  async ensureTable(schema: TableSchema): Promise<void> {
    const key = tableKey(schema.db, schema.table);
    const versionKey = `${key}\u0000${schema.version}`;
    if (this.ensured.has(versionKey)) return;
    if (schema.primaryKey.length === 0) {
      throw new FerryError(
        'FERRY_SCHEMA',
        `table ${schema.db}.${schema.table} has no primary key; ferry applies changes by key. Configure key columns for it at the source.`,
      );
    }
    const table = await this.transaction(`preparing table ${schema.db}.${schema.table}`, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [DDL_LOCK_KEY]);
      let current = await describe(c, schema.db, schema.table);
      if (!current && !this.createTables) throw noDdl(schema, 'the target table does not exist');
      if (!current) {
        await exec(c, createSchemaStatement(schema.db));
        const columns = schema.columns.map((col) => ({
          name: col.name,
          type: pgColumnType(col, schema.sourceKind),
          notNull: !col.nullable || schema.primaryKey.includes(col.name),
        }));
        await exec(c, createTableStatement(schema.db, schema.table, columns, schema.primaryKey));
        this.logger?.info('created target table', { table: `${schema.db}.${schema.table}`, columns: columns.length });
      } else {
        await this.evolve(c, schema, current);
      }
      current = await describe(c, schema.db, schema.table);
      if (!current)
        throw new FerryError('FERRY_INTERNAL', `table ${schema.db}.${schema.table} vanished while being prepared`);
      return current;
    });
    this.tables.set(key, table);
    this.ensured.add(versionKey);
  }

  private async evolve(c: pg.Client, schema: TableSchema, current: TargetTable): Promise<void> {
    const name = `${schema.db}.${schema.table}`;
    const pk = new Set(schema.primaryKey);
    const targetPk = new Set(current.primaryKey);
    if (targetPk.size !== pk.size || [...pk].some((k) => !targetPk.has(k))) {
      throw new FerryError(
        'FERRY_SCHEMA',
        `the target table ${name} has primary key (${current.primaryKey.join(', ') || 'none'}) but the source key is ` +
          `(${schema.primaryKey.join(', ')}); ferry cannot apply changes by key. Change the target key to match, or drop the target table to let ferry recreate it.`,
        { details: { table: name } },
      );
    }
    for (const col of schema.columns) {
      const wanted = pgColumnType(col, schema.sourceKind);
      const existing = current.columns.get(col.name);
      if (!existing && !this.createTables) throw noDdl(schema, `the target table has no column "${col.name}"`);
      if (!existing) {
        await exec(c, addColumnStatement(schema.db, schema.table, { name: col.name, type: wanted, notNull: false }));
        this.logger?.info('added a column to the target table', { table: name, column: col.name, type: wanted });
        continue;
      }
      const cmp = compareTypes(existing.type, wanted);
      if (cmp === 'widen' && !this.createTables) {
        throw noDdl(schema, `column "${col.name}" is ${existing.type} but must hold ${wanted}`);
      }
      if (cmp === 'widen') {
        await exec(c, alterTypeStatement(schema.db, schema.table, col.name, wanted));
        this.logger?.warn('widened a target column (the table may be rewritten)', {
          table: name,
          column: col.name,
          from: existing.type,
          to: wanted,
        });
      } else if (cmp === 'conflict') {
        throw new FerryError(
          'FERRY_SCHEMA',
          `column "${col.name}" of the target table ${name} is ${existing.type}, but the source now sends ${col.sourceType} ` +
            `(mapped to ${wanted}); changing it could lose data, so ferry stops. ALTER the target column to a type that ` +
            `holds both (or to ${wanted}) and restart the sink.`,
          { details: { table: name, column: col.name, existing: existing.type, wanted } },
        );
      }
      if (existing.notNull && col.nullable && !pk.has(col.name) && this.createTables) {
        await exec(c, dropNotNullStatement(schema.db, schema.table, col.name));
      }
    }
    const known = new Set(schema.columns.map((col) => col.name));
    for (const [colName, existing] of current.columns) {
      if (!known.has(colName) && existing.notNull && !pk.has(colName) && this.createTables) {
        // The column is gone at the source; new rows would violate NOT NULL.
        await exec(c, dropNotNullStatement(schema.db, schema.table, colName));
        this.logger?.warn('a target column is no longer in the source; it is kept, now nullable', {
          table: name,
          column: colName,
        });
      }
    }
  }

  async readOffsets(topics: string[]): Promise<PartitionOffset[]> {
    const ctx = this.requireStarted();
    return this.run('reading ferry_offsets', async (c) => {
      const res = await exec(c, readOffsetsStatement(this.metadataSchema, ctx.pipeline, ctx.group, topics));
      return res.rows.map(
        (r: { topic: string; partition: number; next_offset: string; truncate_barrier: string | null }) => ({
          topic: r.topic,
          partition: r.partition,
          nextOffset: r.next_offset,
          truncateBarrier: r.truncate_barrier,
        }),
      );
    });
  }

  async apply(batch: SinkBatch): Promise<void> {
    const ctx = this.requireStarted();
    await this.transaction('applying a batch', async (c) => {
      if (batch.expected && batch.expected.length > 0) await this.fence(c, ctx, batch.expected);
      for (const t of batch.tables) await this.applyTable(c, t);
      if (batch.barriers && batch.barriers.length > 0) {
        await exec(c, writeBarriersStatement(this.metadataSchema, ctx.pipeline, ctx.group, batch.barriers));
      }
      if (batch.offsets.length > 0) {
        const rows = batch.offsets.map((o) => ({ ...o, truncateBarrier: o.truncateBarrier ?? null }));
        await exec(c, writeOffsetsStatement(this.metadataSchema, ctx.pipeline, ctx.group, rows));
      }
    });
  }

  private async fence(c: pg.Client, ctx: SinkContext, expected: NonNullable<SinkBatch['expected']>): Promise<void> {
    const res = await exec(c, lockOffsetsStatement(this.metadataSchema, ctx.pipeline, ctx.group, expected));
    const stored = new Map<string, { next: string; barrier: string | null }>();
    for (const r of res.rows as Array<{
      topic: string;
      partition: number;
      next_offset: string;
      truncate_barrier: string | null;
    }>) {
      stored.set(`${r.topic}\u0000${r.partition}`, { next: r.next_offset, barrier: r.truncate_barrier });
    }
    for (const e of expected) {
      const s = stored.get(`${e.topic}\u0000${e.partition}`);
      const same = s
        ? s.next === e.nextOffset && s.barrier === e.truncateBarrier
        : e.nextOffset === null && e.truncateBarrier === null;
      if (!same) {
        throw new FerryError(
          'FERRY_APPLY',
          `the stored offset of ${e.topic}[${e.partition}] is ${s ? s.next : 'absent'}, not ${e.nextOffset ?? 'absent'} as expected: ` +
            'another sink process of the group applied it meanwhile; re-reading offsets',
          { retriable: true, details: { fenced: true, topic: e.topic, partition: e.partition } },
        );
      }
    }
  }

  private async applyTable(c: pg.Client, t: TableChanges): Promise<void> {
    const { schema } = t;
    const table = this.tables.get(tableKey(schema.db, schema.table));
    if (!table) {
      throw new FerryError('FERRY_INTERNAL', `apply() before ensureTable() for ${schema.db}.${schema.table}`);
    }
    if (t.truncate) await exec(c, truncateStatement(schema.db, schema.table));
    const byName = new Map(schema.columns.map((col) => [col.name, col]));
    const target = (name: string): PgTargetColumn & { castType: string } => {
      const col = table.columns.get(name);
      if (!col) {
        throw new FerryError('FERRY_SCHEMA', `the target table ${schema.db}.${schema.table} has no column "${name}"`);
      }
      return col;
    };
    if (t.deletes.length > 0) {
      const keyCols = schema.primaryKey.map((k) => ({ name: k, castType: target(k).castType }));
      for (const chunk of chunks(t.deletes, this.maxRows)) {
        const values = schema.primaryKey.map((k) => chunk.map((row) => keyParam(byName.get(k), k, row, target(k))));
        await exec(c, deleteStatement(schema.db, schema.table, keyCols, values));
      }
    }
    if (t.upserts.length === 0) return;
    for (const group of groupByColumns(t.upserts, schema.columns)) {
      const cols: PgCastColumn[] = group.columns.map((col) => ({
        name: col.name,
        castType: target(col.name).castType,
      }));
      for (const chunk of chunks(group.rows, this.maxRows)) {
        const values = group.columns.map((col) => chunk.map((row) => toPgParam(col, row[col.name]!, target(col.name))));
        await exec(c, upsertStatement(schema.db, schema.table, cols, schema.primaryKey, values));
      }
    }
  }

  private requireStarted(): SinkContext {
    if (!this.ctx) throw new FerryError('FERRY_INTERNAL', 'PostgresSink used before start()');
    return this.ctx;
  }
}

function keyParam(col: ColumnSchema | undefined, name: string, row: Row, target: PgTargetColumn): string {
  const value = row[name];
  const text = col && value !== undefined ? toPgParam(col, value, target) : null;
  if (text === null) throw new FerryError('FERRY_APPLY', `key column "${name}" has no value in a delete`);
  return text;
}

/** Rows grouped by the set of columns they carry (UNCHANGED and absent columns left out), in first-seen order. */
export function groupByColumns(rows: Row[], columns: ColumnSchema[]): Array<{ columns: ColumnSchema[]; rows: Row[] }> {
  const groups = new Map<string, { columns: ColumnSchema[]; rows: Row[] }>();
  for (const row of rows) {
    const present = columns.filter((col) => Object.hasOwn(row, col.name) && row[col.name] !== UNCHANGED);
    const signature = present.map((col) => col.name).join('\u0000');
    let g = groups.get(signature);
    if (!g) {
      g = { columns: present, rows: [] };
      groups.set(signature, g);
    }
    g.rows.push(row);
  }
  return [...groups.values()];
}

function* chunks<T>(items: T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

function exec(c: pg.Client, s: PgStatement): Promise<pg.QueryResult> {
  return c.query({ text: s.text, values: s.values });
}

async function describe(c: pg.Client, db: string, table: string): Promise<TargetTable | null> {
  const res = await exec(c, describeTableStatement(db, table));
  if (res.rows.length === 0) return null;
  const columns = new Map<string, PgTargetColumn & { castType: string }>();
  for (const r of res.rows as Array<{ name: string; type: string; cast_type: string; not_null: boolean }>) {
    const parsed = parsePgType(r.type);
    columns.set(r.name, {
      name: r.name,
      type: r.type,
      castType: r.cast_type,
      notNull: r.not_null,
      ...(parsed ? { parsed } : {}),
    });
  }
  const pk = await exec(c, primaryKeyStatement(db, table));
  return { columns, primaryKey: pk.rows.map((r: { name: string }) => r.name) };
}

function noDdl(schema: TableSchema, problem: string): FerryError {
  return new FerryError(
    'FERRY_SCHEMA',
    `${problem} (${schema.db}.${schema.table}) and createTables is false, so ferry changes no target tables. ` +
      'Create or alter the table yourself (docs/type-mapping.md) or set createTables: true, then restart the sink.',
    { details: { table: `${schema.db}.${schema.table}` } },
  );
}
