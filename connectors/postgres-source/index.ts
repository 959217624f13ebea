/**
 * PostgreSQL source connector (docs/postgres-source.md): logical replication through a slot with
 * the pgoutput plugin, an initial snapshot exported by that slot, and acknowledgement of only
 * what Kafka holds. Runs on the generic SourceRuntime (src/runtime).
 */
import pg from 'pg';
import {
  type CheckResult,
  type ChunkReader,
  FerryError,
  type JsonValue,
  type SnapshotSession,
  type SourceConnector,
  type SourceContext,
  type SourceItem,
  type SourcePosition,
  type StoredSourceOffset,
  type TableSchema,
  tableName,
  withVersion,
} from '../../src/api/index.js';
import { catalogSchema, readTables } from './catalog.js';
import { openPgChunkReader } from './chunks.js';
import {
  clientConfig,
  objectNames,
  type PostgresSourceOptions,
  type ResolvedOptions,
  resolveOptions,
} from './config.js';
import { pgError } from './errors.js';
import { isLsn, parseLsn } from './lsn.js';
import { runPreflight } from './preflight.js';
import type { StartRename } from './renames.js';
import { dropSlot } from './slot.js';
import { firstKey, openPgSnapshot } from './snapshot.js';
import { columnsRenamedWhileStopped, type StartColumnRenames } from './stopped-renames.js';
import { AckState, streamChanges } from './stream.js';
import type { PgTypeInfo } from './types.js';

export type { PostgresConnection, PostgresSourceOptions } from './config.js';
export { defaultObjectName } from './config.js';
export { formatLsn, parseLsn } from './lsn.js';

/** The PostgreSQL source position: the end LSN of the last fully published transaction. */
export interface PostgresPosition {
  [key: string]: string;
  lsn: string;
}

export class PostgresSource implements SourceConnector {
  readonly kind = 'postgresql' as const;
  private readonly opts: ResolvedOptions;
  private readonly types = new Map<number, PgTypeInfo>();
  /** Schema versions handed to the runtime (discover, snapshot, stream), by `schema.table`. */
  private readonly known = new Map<string, string>();
  private readonly knownSchemas = new Map<string, TableSchema>();
  /** Tables renamed while the source was stopped (oid -> the name published last), found at start. */
  private readonly startRenames = new Map<number, StartRename>();
  /** Columns renamed while the source was stopped (by table oid), found at start. */
  private readonly startColumnRenames = new Map<number, StartColumnRenames>();
  /** Rows to read again at start (rowsToReadAtStart). */
  private readonly startReads: Array<{ table: string; keys: JsonValue[][] }> = [];
  private readonly ack = new AckState();
  private readonly closing = new AbortController();

  constructor(options: PostgresSourceOptions) {
    this.opts = resolveOptions(options);
  }

  /** Slot and publication names for a pipeline. */
  names(pipeline: string): { slot: string; publication: string } {
    return objectNames(this.opts, pipeline);
  }

  private async withClient<T>(purpose: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client(clientConfig(this.opts, purpose));
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => undefined);
      throw pgError(err, `connecting to PostgreSQL at ${this.opts.connection.host}`);
    }
    try {
      return await fn(client);
    } catch (err) {
      throw pgError(err, purpose);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async preflight(ctx: SourceContext, stored: StoredSourceOffset | null): Promise<CheckResult[]> {
    const { slot, publication } = this.names(ctx.pipeline);
    return this.withClient('preflight', async (client) => {
      const { checks } = await runPreflight({
        client,
        filter: ctx.filter,
        slot,
        publication,
        createPublication: this.opts.createPublication,
        stored,
        pipeline: ctx.pipeline,
      });
      return checks;
    });
  }

  async discover(ctx: SourceContext): Promise<TableSchema[]> {
    return this.withClient('discover', async (client) => {
      const schemas: TableSchema[] = [];
      this.startReads.length = 0;
      for (const t of await readTables(client, ctx.filter)) {
        const schema = await catalogSchema(client, t, ctx.filter, this.types);
        const moved = renamedWhileStopped(schema, t.oid, ctx.schemaHistory, this.startRenames);
        const marked = columnsRenamedWhileStopped(moved, t.oid, ctx.schemaHistory, this.startColumnRenames);
        schemas.push(marked);
        // A renamed table is read again anyway; otherwise one row carries the renames to the target.
        if (marked !== moved && !marked.renamedFrom) {
          const key = await firstKey(client, marked);
          if (key) this.startReads.push({ table: tableName(marked), keys: [key] });
        }
      }
      for (const s of schemas) {
        this.known.set(tableName(s), s.version);
        this.knownSchemas.set(tableName(s), s);
      }
      return schemas;
    });
  }

  rowsToReadAtStart(): Array<{ table: string; keys: JsonValue[][] }> {
    return [...this.startReads];
  }

  async openSnapshot(ctx: SourceContext): Promise<SnapshotSession> {
    const { slot } = this.names(ctx.pipeline);
    const session = await openPgSnapshot({
      opts: this.opts,
      slot,
      filter: ctx.filter,
      logger: ctx.logger,
      types: this.types,
    });
    for (const s of session.tables) {
      this.known.set(tableName(s), s.version);
      this.knownSchemas.set(tableName(s), s);
    }
    return session;
  }

  openChunkReader(ctx: SourceContext): Promise<ChunkReader> {
    return openPgChunkReader(this.opts, ctx.logger);
  }

  stream(ctx: SourceContext, from: SourcePosition): AsyncIterable<SourceItem> {
    const { slot, publication } = this.names(ctx.pipeline);
    const signal = AbortSignal.any([ctx.signal, this.closing.signal]);
    return streamChanges(
      {
        opts: this.opts,
        slot,
        publication,
        filter: ctx.filter,
        logger: ctx.logger,
        types: this.types,
        known: this.known,
        knownSchemas: this.knownSchemas,
        startRenames: this.startRenames,
        startColumnRenames: this.startColumnRenames,
        ack: this.ack,
        signal,
      },
      from,
    );
  }

  /** Kafka holds everything up to this position: confirm it to the slot. */
  async acknowledge(position: SourcePosition): Promise<void> {
    const lsn = position['lsn'];
    if (!isLsn(lsn)) throw new FerryError('FERRY_INTERNAL', `not a PostgreSQL position: ${JSON.stringify(position)}`);
    this.ack.advance(parseLsn(lsn));
  }

  describePosition(position: SourcePosition): string {
    const lsn = position['lsn'];
    return typeof lsn === 'string' ? lsn : JSON.stringify(position);
  }

  async close(): Promise<void> {
    this.closing.abort();
  }
}

export function createPostgresSource(options: PostgresSourceOptions): PostgresSource {
  return new PostgresSource(options);
}

/**
 * Drops the pipeline's replication slot (for a future `ferry` command that deletes a pipeline, or
 * a re-snapshot). ferry never drops it on its own: the slot holds the WAL not yet in Kafka.
 * Returns whether it existed. Fails while a process still reads it.
 */
export async function dropPostgresSlot(options: PostgresSourceOptions, pipeline: string): Promise<boolean> {
  const opts = resolveOptions(options);
  const { slot } = objectNames(opts, pipeline);
  const client = new pg.Client(clientConfig(opts, 'drop-slot'));
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await dropSlot(client, slot);
  } catch (err) {
    throw pgError(err, `dropping replication slot "${slot}"`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * A table renamed while the source was stopped (docs/schema-changes.md): the schema history has
 * its oid (the version's incarnation) under another name last. Its schema is marked renamed from
 * that name, so the target renames the table instead of creating a new one.
 */
export function renamedWhileStopped(
  schema: TableSchema,
  oid: number,
  history: readonly TableSchema[] | undefined,
  found: Map<number, StartRename>,
): TableSchema {
  let last: TableSchema | undefined;
  for (const h of history ?? []) if (h.incarnation === String(oid)) last = h;
  if (!last || (last.db === schema.db && last.table === schema.table)) return schema;
  const from = { db: last.db, table: last.table };
  found.set(oid, { from, to: { db: schema.db, table: schema.table } });
  const { version: _v, ...rest } = schema;
  return withVersion({ ...rest, renamedFrom: from });
}
