/**
 * MySqlSink: applies reduced change batches to MySQL or MariaDB (docs/sinks.md). One connection
 * (mysql2 >= 3.23.1), server-side prepared statements; each batch is one InnoDB transaction
 * holding its rows and its offsets (ferry_offsets in the metadata database).
 *
 * The session runs with sql_mode STRICT_ALL_TABLES (bad values are errors, not warnings),
 * NO_AUTO_VALUE_ON_ZERO (an id of 0 stays 0), without NO_ZERO_DATE (MySQL zero dates replicate
 * as they are) and with time_zone '+00:00'.
 */
import mysql from 'mysql2/promise';
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
import { classifyMySqlError } from './errors.js';
import {
  addColumnStatement,
  createDatabaseStatement,
  createOffsetsTableStatement,
  createTableStatement,
  deleteStatement,
  describeTableStatement,
  lockOffsetsStatement,
  MAX_PLACEHOLDERS,
  type MySqlStatement,
  modifyColumnStatement,
  primaryKeyStatement,
  readOffsetsStatement,
  truncateStatement,
  upsertStatement,
  writeBarriersStatement,
  writeOffsetsStatement,
} from './sql.js';
import { compareMysqlTypes, ddlOf, type MySqlTypeOptions, mysqlColumnType, normalizeMysqlType } from './types.js';
import { type MySqlParam, type MySqlTargetColumn, toMySqlParam } from './values.js';

export interface MySqlSinkOptions {
  /** `mysql://user:password@host:port/database`; or the parts below (the parts win). */
  url?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  /** Database holding ferry_offsets; default: the URL's database. Required one way or the other. */
  database?: string;
  ssl?: boolean;
  /** Rows per INSERT/DELETE statement; default 1000 (fewer when the row has many columns). */
  maxRowsPerStatement?: number;
  /** Approximate byte budget of one statement's parameters; default 4 MiB (below max_allowed_packet). */
  maxStatementBytes?: number;
  connectTimeoutMs?: number;
  /**
   * Create missing tables and evolve existing ones (add columns, widen types); default true.
   * false: ferry runs no DDL on target tables, and a missing table or column stops the sink.
   */
  createTables?: boolean;
}

interface TargetTable {
  columns: Map<string, MySqlTargetColumn>;
  primaryKey: string[];
}

const tableKey = (db: string, table: string): string => `${db}\u0000${table}`;
const SESSION_SQL_MODE = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION,NO_AUTO_VALUE_ON_ZERO';

export class MySqlSink implements SinkConnector {
  readonly kind = 'mysql' as const;
  private readonly opts: MySqlSinkOptions;
  private readonly metadataDb: string;
  private readonly maxRows: number;
  private readonly createTables: boolean;
  private readonly maxBytes: number;
  private conn: mysql.Connection | null = null;
  private broken = false;
  private ctx: SinkContext | null = null;
  private logger: Logger | null = null;
  private typeOpts: MySqlTypeOptions = { binCollation: 'utf8mb4_bin', mariadb: false };
  private readonly tables = new Map<string, TargetTable>();
  private readonly ensured = new Set<string>();

  constructor(opts: MySqlSinkOptions) {
    this.opts = opts;
    const fromUrl = opts.url ? decodeURIComponent(new URL(opts.url).pathname.replace(/^\//, '')) : '';
    const db = opts.database ?? fromUrl;
    if (!db) {
      throw new FerryError(
        'FERRY_CONFIG_INVALID',
        'the MySQL sink needs a database (sink.url path or database) to keep ferry_offsets in',
      );
    }
    this.metadataDb = db;
    this.createTables = opts.createTables ?? true;
    this.maxRows = opts.maxRowsPerStatement ?? 1000;
    this.maxBytes = opts.maxStatementBytes ?? 4 * 1024 * 1024;
  }

  async start(ctx: SinkContext): Promise<void> {
    this.ctx = ctx;
    this.logger = ctx.logger.child({ component: 'mysql-sink' });
    await this.run('creating the offsets table', async (c) => {
      await c.query(createDatabaseStatement(this.metadataDb).sql);
      await c.query(createOffsetsTableStatement(this.metadataDb).sql);
    });
  }

  async close(): Promise<void> {
    const c = this.conn;
    this.conn = null;
    if (c) await c.end().catch(() => c.destroy());
  }

  private async connection(): Promise<mysql.Connection> {
    if (this.conn && !this.broken) return this.conn;
    if (this.conn) {
      const old = this.conn;
      this.conn = null;
      old.destroy();
    }
    const o = this.opts;
    const config: mysql.ConnectionOptions = {
      charset: 'utf8mb4_unicode_ci',
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      decimalNumbers: false,
      maxPreparedStatements: 64,
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      enableKeepAlive: true,
      multipleStatements: false,
    };
    if (o.url) {
      const u = new URL(o.url);
      config.host = u.hostname;
      config.port = u.port ? Number(u.port) : 3306;
      config.user = decodeURIComponent(u.username);
      config.password = decodeURIComponent(u.password);
    }
    if (o.host !== undefined) config.host = o.host;
    if (o.port !== undefined) config.port = o.port;
    if (o.user !== undefined) config.user = o.user;
    if (o.password !== undefined) config.password = o.password;
    if (o.ssl) config.ssl = {};
    let conn: mysql.Connection;
    try {
      conn = await mysql.createConnection(config);
    } catch (err) {
      throw classifyMySqlError(err, 'cannot connect to the target MySQL');
    }
    conn.on('error', (err: Error) => {
      this.broken = true;
      this.logger?.warn('MySQL connection error', { error: err.message });
    });
    try {
      await conn.query(`SET SESSION sql_mode = '${SESSION_SQL_MODE}', time_zone = '+00:00'`);
      const [rows] = await conn.query('SELECT VERSION() AS v');
      const version = String((rows as Array<{ v: string }>)[0]?.v ?? '');
      const mariadb = /mariadb/i.test(version);
      const major = Number(/^(\d+)/.exec(version)?.[1] ?? 0);
      this.typeOpts = {
        mariadb,
        binCollation: mariadb ? 'utf8mb4_nopad_bin' : major >= 8 ? 'utf8mb4_0900_bin' : 'utf8mb4_bin',
      };
    } catch (err) {
      conn.destroy();
      throw classifyMySqlError(err, 'cannot prepare the MySQL session');
    }
    this.conn = conn;
    this.broken = false;
    return conn;
  }

  private async run<T>(what: string, fn: (c: mysql.Connection) => Promise<T>): Promise<T> {
    const c = await this.connection();
    try {
      return await fn(c);
    } catch (err) {
      const e = classifyMySqlError(err, what);
      if (e.code === 'FERRY_CONNECTION') this.broken = true;
      throw e;
    }
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
    const table = await this.run(`preparing table ${schema.db}.${schema.table}`, async (c) => {
      await c.query('SELECT GET_LOCK(?, 60)', ['ferry_ddl']);
      try {
        let current = await describe(c, schema.db, schema.table);
        if (!current && !this.createTables) throw noDdl(schema, 'the target table does not exist');
        if (!current) {
          await c.query(createDatabaseStatement(schema.db).sql);
          const pk = new Set(schema.primaryKey);
          const columns = schema.columns.map((col) => ({
            name: col.name,
            ddl: mysqlColumnType(col, schema.sourceKind, pk.has(col.name), this.typeOpts).ddl,
            notNull: !col.nullable || pk.has(col.name),
          }));
          await c.query(createTableStatement(schema.db, schema.table, columns, schema.primaryKey).sql);
          this.logger?.info('created target table', { table: `${schema.db}.${schema.table}`, columns: columns.length });
        } else {
          await this.evolve(c, schema, current);
        }
        current = await describe(c, schema.db, schema.table);
        if (!current)
          throw new FerryError('FERRY_INTERNAL', `table ${schema.db}.${schema.table} vanished while being prepared`);
        return current;
      } finally {
        await c.query('SELECT RELEASE_LOCK(?)', ['ferry_ddl']).catch(() => undefined);
      }
    });
    this.tables.set(key, table);
    this.ensured.add(versionKey);
  }

  private async evolve(c: mysql.Connection, schema: TableSchema, current: TargetTable): Promise<void> {
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
      const wanted = mysqlColumnType(col, schema.sourceKind, pk.has(col.name), this.typeOpts);
      const existing = current.columns.get(col.name);
      if (!existing && !this.createTables) throw noDdl(schema, `the target table has no column "${col.name}"`);
      if (!existing) {
        try {
          await c.query(
            addColumnStatement(schema.db, schema.table, { name: col.name, ddl: wanted.ddl, notNull: false }).sql,
          );
        } catch (err) {
          if ((err as { errno?: number }).errno !== 1060) throw err; // added concurrently
        }
        this.logger?.info('added a column to the target table', { table: name, column: col.name, type: wanted.type });
        continue;
      }
      const cmp = compareMysqlTypes(existing.type, wanted.type);
      const keepNotNull = existing.notNull && (!col.nullable || pk.has(col.name));
      if (cmp.result === 'widen' && !this.createTables) {
        throw noDdl(schema, `column "${col.name}" is ${existing.type} but must hold ${wanted.type}`);
      }
      if (cmp.result === 'widen') {
        const ddl = cmp.widenTo ? ddlOf(cmp.widenTo, this.typeOpts) : wanted.ddl;
        await c.query(
          modifyColumnStatement(schema.db, schema.table, { name: col.name, ddl, notNull: keepNotNull }).sql,
        );
        this.logger?.warn('widened a target column', { table: name, column: col.name, from: existing.type, to: ddl });
      } else if (cmp.result === 'conflict') {
        throw new FerryError(
          'FERRY_SCHEMA',
          `column "${col.name}" of the target table ${name} is ${existing.type}, but the source now sends ${col.sourceType} ` +
            `(mapped to ${wanted.type}); changing it could lose data, so ferry stops. ALTER the target column to a type that ` +
            `holds both (or to ${wanted.type}) and restart the sink.`,
          { details: { table: name, column: col.name, existing: existing.type, wanted: wanted.type } },
        );
      } else if (existing.notNull && !keepNotNull && this.createTables) {
        await c.query(
          modifyColumnStatement(schema.db, schema.table, {
            name: col.name,
            ddl: ddlOf(existing.type, this.typeOpts),
            notNull: false,
          }).sql,
        );
      }
    }
    const known = new Set(schema.columns.map((col) => col.name));
    for (const [colName, existing] of current.columns) {
      if (!known.has(colName) && existing.notNull && !pk.has(colName) && this.createTables) {
        await c.query(
          modifyColumnStatement(schema.db, schema.table, {
            name: colName,
            ddl: ddlOf(existing.type, this.typeOpts),
            notNull: false,
          }).sql,
        );
        this.logger?.warn('a target column is no longer in the source; it is kept, now nullable', {
          table: name,
          column: colName,
        });
      }
    }
  }

  async readOffsets(topics: string[]): Promise<PartitionOffset[]> {
    const ctx = this.requireStarted();
    if (topics.length === 0) return [];
    return this.run('reading ferry_offsets', async (c) => {
      const s = readOffsetsStatement(this.metadataDb, ctx.pipeline, ctx.group, topics);
      const [rows] = await c.execute(s.sql, s.params);
      return (
        rows as Array<{ topic: string; partition: number; next_offset: string; truncate_barrier: string | null }>
      ).map((r) => ({
        topic: r.topic,
        partition: Number(r.partition),
        nextOffset: String(r.next_offset),
        truncateBarrier: r.truncate_barrier,
      }));
    });
  }

  async apply(batch: SinkBatch): Promise<void> {
    const ctx = this.requireStarted();
    await this.run('applying a batch', async (c) => {
      await c.query('START TRANSACTION');
      try {
        if (batch.expected && batch.expected.length > 0) await this.fence(c, ctx, batch.expected);
        for (const t of batch.tables) await this.applyTable(c, t);
        if (batch.barriers && batch.barriers.length > 0) {
          await exec(c, writeBarriersStatement(this.metadataDb, ctx.pipeline, ctx.group, batch.barriers));
        }
        if (batch.offsets.length > 0) {
          const rows = batch.offsets.map((o) => ({ ...o, truncateBarrier: o.truncateBarrier ?? null }));
          await exec(c, writeOffsetsStatement(this.metadataDb, ctx.pipeline, ctx.group, rows));
        }
        await c.query('COMMIT');
      } catch (err) {
        await c.query('ROLLBACK').catch(() => {
          this.broken = true;
        });
        throw err;
      }
    });
  }

  private async fence(
    c: mysql.Connection,
    ctx: SinkContext,
    expected: NonNullable<SinkBatch['expected']>,
  ): Promise<void> {
    const s = lockOffsetsStatement(this.metadataDb, ctx.pipeline, ctx.group, expected);
    const [rows] = await c.execute(s.sql, s.params);
    const stored = new Map<string, { next: string; barrier: string | null }>();
    for (const r of rows as Array<{
      topic: string;
      partition: number;
      next_offset: string;
      truncate_barrier: string | null;
    }>) {
      stored.set(`${r.topic}\u0000${Number(r.partition)}`, {
        next: String(r.next_offset),
        barrier: r.truncate_barrier,
      });
    }
    for (const e of expected) {
      const st = stored.get(`${e.topic}\u0000${e.partition}`);
      const same = st
        ? st.next === e.nextOffset && st.barrier === e.truncateBarrier
        : e.nextOffset === null && e.truncateBarrier === null;
      if (!same) {
        throw new FerryError(
          'FERRY_APPLY',
          `the stored offset of ${e.topic}[${e.partition}] is ${st ? st.next : 'absent'}, not ${e.nextOffset ?? 'absent'} as expected: ` +
            'another sink process of the group applied it meanwhile; re-reading offsets',
          { retriable: true, details: { fenced: true, topic: e.topic, partition: e.partition } },
        );
      }
    }
  }

  private async applyTable(c: mysql.Connection, t: TableChanges): Promise<void> {
    const { schema } = t;
    const table = this.tables.get(tableKey(schema.db, schema.table));
    if (!table) throw new FerryError('FERRY_INTERNAL', `apply() before ensureTable() for ${schema.db}.${schema.table}`);
    if (t.truncate) await exec(c, truncateStatement(schema.db, schema.table));
    const byName = new Map(schema.columns.map((col) => [col.name, col]));
    const target = (name: string): MySqlTargetColumn => {
      const col = table.columns.get(name);
      if (!col)
        throw new FerryError('FERRY_SCHEMA', `the target table ${schema.db}.${schema.table} has no column "${name}"`);
      return col;
    };
    if (t.deletes.length > 0) {
      const keys = t.deletes.map((row) =>
        schema.primaryKey.map((k) => {
          const col = byName.get(k);
          const v = row[k];
          const p = col && v !== undefined ? toMySqlParam(col, v, target(k)) : null;
          if (p === null) throw new FerryError('FERRY_APPLY', `key column "${k}" has no value in a delete`);
          return p;
        }),
      );
      for (const chunk of this.chunks(keys, schema.primaryKey.length)) {
        await exec(c, deleteStatement(schema.db, schema.table, schema.primaryKey, chunk));
      }
    }
    for (const group of groupByColumns(t.upserts, schema.columns)) {
      const names = group.columns.map((col) => col.name);
      const rows = group.rows.map((row) =>
        group.columns.map((col) => toMySqlParam(col, row[col.name]!, target(col.name))),
      );
      for (const chunk of this.chunks(rows, names.length)) {
        await exec(c, upsertStatement(schema.db, schema.table, names, schema.primaryKey, chunk));
      }
    }
  }

  /** Splits rows so that one statement stays under the row, placeholder and byte budgets. */
  private *chunks(rows: MySqlParam[][], width: number): Generator<MySqlParam[][]> {
    const maxRows = Math.max(1, Math.min(this.maxRows, Math.floor(MAX_PLACEHOLDERS / Math.max(1, width))));
    let chunk: MySqlParam[][] = [];
    let bytes = 0;
    for (const row of rows) {
      const size = row.reduce<number>((n, v) => n + (v === null ? 1 : typeof v === 'number' ? 8 : v.length), 0);
      if (chunk.length > 0 && (chunk.length >= maxRows || bytes + size > this.maxBytes)) {
        yield chunk;
        chunk = [];
        bytes = 0;
      }
      chunk.push(row);
      bytes += size;
    }
    if (chunk.length > 0) yield chunk;
  }

  private requireStarted(): SinkContext {
    if (!this.ctx) throw new FerryError('FERRY_INTERNAL', 'MySqlSink used before start()');
    return this.ctx;
  }
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

async function exec(c: mysql.Connection, s: MySqlStatement): Promise<void> {
  await c.execute(s.sql, s.params);
}

async function describe(c: mysql.Connection, db: string, table: string): Promise<TargetTable | null> {
  const d = describeTableStatement(db, table);
  const [rows] = await c.execute(d.sql, d.params);
  const list = rows as Array<{ name: string; type: string; nullable: string }>;
  if (list.length === 0) return null;
  const columns = new Map<string, MySqlTargetColumn>();
  for (const r of list) {
    columns.set(r.name, { name: r.name, type: normalizeMysqlType(String(r.type)), notNull: r.nullable === 'NO' });
  }
  const p = primaryKeyStatement(db, table);
  const [pkRows] = await c.execute(p.sql, p.params);
  return { columns, primaryKey: (pkRows as Array<{ name: string }>).map((r) => r.name) };
}

function noDdl(schema: TableSchema, problem: string): FerryError {
  return new FerryError(
    'FERRY_SCHEMA',
    `${problem} (${schema.db}.${schema.table}) and createTables is false, so ferry changes no target tables. ` +
      'Create or alter the table yourself (docs/type-mapping.md) or set createTables: true, then restart the sink.',
    { details: { table: `${schema.db}.${schema.table}` } },
  );
}
