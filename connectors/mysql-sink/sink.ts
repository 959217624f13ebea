/**
 * MySqlSink: applies reduced change batches to MySQL or MariaDB (docs/sinks.md). One connection
 * (mysql2 >= 3.23.1), server-side prepared statements; each batch is one InnoDB transaction
 * holding its rows and its offsets (ferry_offsets in the metadata database). The flow shared by
 * the SQL sinks is SqlSinkCore (src/sql-sink/core.ts); what MySQL does its own way is
 * MySqlSinkDialect (sink-dialect.ts).
 *
 * The session runs with sql_mode STRICT_ALL_TABLES (bad values are errors, not warnings),
 * NO_AUTO_VALUE_ON_ZERO (an id of 0 stays 0), without NO_ZERO_DATE (MySQL zero dates replicate
 * as they are) and with time_zone '+00:00'.
 */
import type mysql from 'mysql2/promise';
import {
  FerryError,
  type Logger,
  mysqlSslOptions,
  type SinkContext,
  type TlsSettings,
  tlsFailure,
} from '../../src/api/index.js';
import { type SqlDriver, SqlSession, SqlSinkConnector, SqlSinkCore } from '../../src/sql-sink/index.js';
import { classifyMySqlError } from './errors.js';
import { MySqlSinkDialect } from './sink-dialect.js';
import {
  createDatabaseStatement,
  createOffsetsTableStatement,
  migrateOffsetsTableStatement,
  offsetsEpochColumnStatement,
} from './sql.js';
import type { MySqlColumnType, MySqlTypeOptions } from './types.js';
import type { MySqlParam, MySqlTargetColumn } from './values.js';

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
  /** TLS to the target (`sink.tls`); wins over `ssl`. */
  tls?: TlsSettings;
  /** Rows per INSERT/DELETE statement; default 1000 (fewer when the row has many columns). */
  maxRowsPerStatement?: number;
  /** Approximate byte budget of one statement's parameters; default 4 MiB (below max_allowed_packet). */
  maxStatementBytes?: number;
  /**
   * Send multi-row statements with a few bucketed row counts (docs/sinks.md#mysql-statement-sizes),
   * so that the prepared statements are reused; default true. false: every statement with its exact row count.
   */
  statementBuckets?: boolean;
  connectTimeoutMs?: number;
  /**
   * Create missing tables and evolve existing ones (add columns, widen types); default true.
   * false: ferry runs no DDL on target tables, and a missing table or column stops the sink.
   */
  createTables?: boolean;
}

type Conn = mysql.Connection;
/**
 * Prepared statements kept per connection (mysql2 closes the least recently used beyond it): with
 * bucketed row counts about 20 sizes per table for upserts and as many for deletes. The server
 * limits them per instance (max_prepared_stmt_count, 16,382 by default).
 */
const MAX_PREPARED_STATEMENTS = 256;
const SESSION_SQL_MODE = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION,NO_AUTO_VALUE_ON_ZERO';

export class MySqlSink extends SqlSinkConnector<Conn, MySqlTargetColumn, MySqlColumnType, MySqlParam> {
  readonly kind = 'mysql' as const;
  private readonly opts: MySqlSinkOptions;
  private readonly metadataDb: string;
  private readonly session: SqlSession<Conn>;
  private readonly dialect: MySqlSinkDialect;
  protected readonly core: SqlSinkCore<Conn, MySqlTargetColumn, MySqlColumnType, MySqlParam>;
  private logger: Logger | null = null;

  constructor(opts: MySqlSinkOptions) {
    super();
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
    this.session = new SqlSession(this.driver(), () => this.logger);
    this.dialect = new MySqlSinkDialect({
      session: this.session,
      metadataDb: db,
      maxRows: opts.maxRowsPerStatement ?? 1000,
      maxBytes: opts.maxStatementBytes ?? 4 * 1024 * 1024,
      buckets: opts.statementBuckets ?? true,
    });
    this.core = new SqlSinkCore({
      name: 'MySqlSink',
      session: this.session,
      dialect: this.dialect,
      createTables: opts.createTables ?? true,
      logger: () => this.logger,
    });
  }

  async start(ctx: SinkContext): Promise<void> {
    this.core.start(ctx);
    this.logger = ctx.logger.child({ component: 'mysql-sink' });
    await this.session.run('creating the offsets table', async (c) => {
      await c.query(createDatabaseStatement(this.metadataDb).sql);
      await c.query(createOffsetsTableStatement(this.metadataDb).sql);
      await addEpochColumn(c, this.metadataDb);
    });
  }

  private driver(): SqlDriver<Conn> {
    return {
      name: 'MySQL',
      begin: 'START TRANSACTION',
      open: (onError) => this.open(onError),
      discard: (c) => c.destroy(),
      end: (c) => c.end().catch(() => c.destroy()),
      query: (c, sql) => c.query(sql),
      classify: classifyMySqlError,
    };
  }

  /** A connection with ferry's session settings; learns from the server version how to write types. */
  private async open(onError: (err: Error) => void): Promise<Conn> {
    const o = this.opts;
    const config: mysql.ConnectionOptions = {
      charset: 'utf8mb4_unicode_ci',
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      decimalNumbers: false,
      maxPreparedStatements: MAX_PREPARED_STATEMENTS,
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
    const ssl = mysqlSslOptions(o.tls);
    if (ssl) config.ssl = ssl;
    else if (o.ssl) config.ssl = {};
    let conn: Conn;
    try {
      // mysql2 is loaded on first use: a thread without a MySQL endpoint does not hold it.
      const { default: driver } = await import('mysql2/promise');
      conn = await driver.createConnection(config);
    } catch (err) {
      const where = `target MySQL ${config.host ?? ''}:${config.port ?? 3306}`;
      throw tlsFailure(err, where, o.tls, 'sink.tls') ?? classifyMySqlError(err, 'cannot connect to the target MySQL');
    }
    conn.on('error', onError);
    try {
      await conn.query(`SET SESSION sql_mode = '${SESSION_SQL_MODE}', time_zone = '+00:00'`);
      const [rows] = await conn.query('SELECT VERSION() AS v, @@max_allowed_packet AS p');
      const row = (rows as Array<{ v: string; p: string | number }>)[0];
      this.dialect.typeOpts = typeOptions(String(row?.v ?? ''));
      if (Number(row?.p) > 0) this.dialect.maxPacket = Number(row?.p);
    } catch (err) {
      conn.destroy();
      throw classifyMySqlError(err, 'cannot prepare the MySQL session');
    }
    return conn;
  }
}

/** MariaDB and MySQL 8 each have their own exact binary collation. */
function typeOptions(version: string): MySqlTypeOptions {
  const mariadb = /mariadb/i.test(version);
  const major = Number(/^(\d+)/.exec(version)?.[1] ?? 0);
  return { mariadb, binCollation: mariadb ? 'utf8mb4_nopad_bin' : major >= 8 ? 'utf8mb4_0900_bin' : 'utf8mb4_bin' };
}

/**
 * Adds leader_epoch to a ferry_offsets table created by an older ferry. Idempotent: it checks the
 * column first, and a concurrent sink process that added it meanwhile (duplicate column) is fine.
 */
async function addEpochColumn(c: Conn, db: string): Promise<void> {
  const check = offsetsEpochColumnStatement(db);
  const [rows] = await c.query(check.sql, check.params);
  if (Number((rows as Array<{ n: number | string }>)[0]?.n ?? 0) > 0) return;
  try {
    await c.query(migrateOffsetsTableStatement(db).sql);
  } catch (err) {
    if ((err as { errno?: number }).errno !== 1060) throw err; // ER_DUP_FIELDNAME
  }
}
