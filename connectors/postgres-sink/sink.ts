/**
 * PostgresSink: applies reduced change batches to PostgreSQL (docs/sinks.md). One connection;
 * each batch is one transaction holding its rows and its offsets (ferry_offsets). Tables are
 * created and evolved from the published schemas (docs/type-mapping.md). The flow shared by the
 * SQL sinks is SqlSinkCore (src/sql-sink/core.ts); what PostgreSQL does its own way is
 * PostgresSinkDialect (sink-dialect.ts).
 */
import pg from 'pg';
import { type Logger, type SinkContext, type TlsSettings, tlsConnectOptions, tlsFailure } from '../../src/api/index.js';
import {
  type SqlDriver,
  SqlSession,
  SqlSinkConnector,
  SqlSinkCore,
  type WantedType,
} from '../../src/sql-sink/index.js';
import { classifyPgError } from './errors.js';
import { DDL_LOCK_KEY, type PgSinkColumn, PostgresSinkDialect } from './sink-dialect.js';
import {
  createOffsetsTableStatement,
  createSchemaStatement,
  migrateOffsetsTableStatement,
  offsetsEpochColumnStatement,
  type PgStatement,
} from './sql.js';

/** Rows from which the sink loads through COPY by default (docs/sinks.md#copy). */
export const DEFAULT_COPY_THRESHOLD = 1000;

export interface PostgresSinkOptions {
  /** `postgres://user:password@host:port/database`; or the parts below (the parts win). */
  url?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  ssl?: boolean;
  /** TLS to the target (`sink.tls`); wins over `ssl`. */
  tls?: TlsSettings;
  /** Schema of the ferry_offsets table; default `public`. */
  metadataSchema?: string;
  /** Rows per INSERT/DELETE statement; default 5000. */
  maxRowsPerStatement?: number;
  /** Rows from which an upsert or delete of a table goes through COPY (docs/sinks.md#copy); 0 = never; default 1000. */
  copyThreshold?: number;
  /** Connect timeout, ms; default 10 000. */
  connectTimeoutMs?: number;
  /**
   * Create missing tables and evolve existing ones (add columns, widen types); default true.
   * false: ferry runs no DDL on target tables, and a missing table or column stops the sink.
   */
  createTables?: boolean;
}

export class PostgresSink extends SqlSinkConnector<pg.Client, PgSinkColumn, WantedType, string | null> {
  readonly kind = 'postgres' as const;
  private readonly opts: PostgresSinkOptions;
  private readonly metadataSchema: string;
  private readonly session: SqlSession<pg.Client>;
  protected readonly core: SqlSinkCore<pg.Client, PgSinkColumn, WantedType, string | null>;
  private logger: Logger | null = null;

  constructor(opts: PostgresSinkOptions) {
    super();
    this.opts = opts;
    this.metadataSchema = opts.metadataSchema ?? 'public';
    this.session = new SqlSession(this.driver(), () => this.logger);
    this.core = new SqlSinkCore({
      name: 'PostgresSink',
      session: this.session,
      dialect: new PostgresSinkDialect({
        session: this.session,
        metadataSchema: this.metadataSchema,
        maxRows: opts.maxRowsPerStatement ?? 5000,
        copyThreshold: opts.copyThreshold ?? DEFAULT_COPY_THRESHOLD,
      }),
      createTables: opts.createTables ?? true,
      logger: () => this.logger,
    });
  }

  async start(ctx: SinkContext): Promise<void> {
    this.core.start(ctx);
    this.logger = ctx.logger.child({ component: 'postgres-sink' });
    await this.session.transaction('creating the offsets table', async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [DDL_LOCK_KEY]);
      if (this.metadataSchema !== 'public') await exec(c, createSchemaStatement(this.metadataSchema));
      await exec(c, createOffsetsTableStatement(this.metadataSchema));
      const has = await exec(c, offsetsEpochColumnStatement(this.metadataSchema));
      if (Number(has.rows[0]?.n ?? 0) === 0) await exec(c, migrateOffsetsTableStatement(this.metadataSchema));
    });
  }

  private driver(): SqlDriver<pg.Client> {
    return {
      name: 'PostgreSQL',
      begin: 'BEGIN',
      open: (onError) => this.open(onError),
      discard: (c) => {
        c.end().catch(() => undefined);
      },
      end: (c) => c.end().catch(() => undefined),
      query: (c, sql) => c.query(sql),
      classify: classifyPgError,
    };
  }

  private async open(onError: (err: Error) => void): Promise<pg.Client> {
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
    const tls = tlsConnectOptions(o.tls, o.host ?? (o.url ? new URL(o.url).hostname : 'localhost'));
    if (tls) config.ssl = tls;
    else if (o.ssl) config.ssl = true;
    const client = new pg.Client(config);
    client.on('error', onError);
    try {
      await client.connect();
    } catch (err) {
      client.end().catch(() => undefined);
      const where = `target PostgreSQL ${config.host ?? ''}:${config.port ?? 5432}`;
      throw (
        tlsFailure(err, where, o.tls, 'sink.tls') ?? classifyPgError(err, 'cannot connect to the target PostgreSQL')
      );
    }
    return client;
  }
}

function exec(c: pg.Client, s: PgStatement): Promise<pg.QueryResult> {
  return c.query({ text: s.text, values: s.values });
}
