/**
 * Streaming from the slot with pg-logical-replication's LogicalReplicationService and a pgoutput
 * plugin that hands over raw message bytes to our own decoder (pgoutput.ts, decode.ts).
 *
 * Acknowledgement is ferry's alone: the library's automatic acknowledgement and its periodic
 * timer are off (`acknowledge: { auto: false, timeoutSeconds: 0 }`), because that timer confirms
 * whatever it merely received. Standby status updates (answers to keepalives, plus one every
 * `statusIntervalMs` so wal_sender_timeout never fires while Kafka is slow) always carry the
 * last LSN the runtime acknowledged through connector.acknowledge(): the end of a transaction
 * whose every event Kafka holds. confirmed_flush_lsn therefore never passes what Kafka holds.
 */

import pg from 'pg';
import type { LogicalReplicationService, PgoutputPlugin } from 'pg-logical-replication';
import {
  BoundedQueue,
  FerryError,
  isTableCaptured,
  type Logger,
  type SourceItem,
  type SourcePosition,
  type TableFilter,
  type TableSchema,
} from '../../src/api/index.js';
import { forgetEnums, relationSchema } from './catalog.js';
import { clientConfig, type ResolvedOptions } from './config.js';
import { PgoutputDecoder } from './decode.js';
import { pgError } from './errors.js';
import { Heartbeat } from './heartbeat.js';

import { formatLsn, isLsn, parseLsn } from './lsn.js';
import { TableWatch } from './new-tables.js';
import { decodePgoutput, type PgMessage } from './pgoutput.js';
import { RelationHistory, type StartRename } from './renames.js';
import { connectReplication, createSlot, readSlot } from './slot.js';
import { qualified, quoteIdent } from './sql.js';
import type { StartColumnRenames } from './stopped-renames.js';
import type { PgTypeInfo } from './types.js';

type ReplicationPlugin = Parameters<LogicalReplicationService['subscribe']>[0];

/** A decoding failure travels through the library as a message, so it never throws inside the socket handler. */
type ParsedMessage = PgMessage | { tag: 'decode-error'; error: unknown };

/**
 * The library's pgoutput plugin starts replication (START_REPLICATION … (proto_version,
 * publication_names, messages)); parsing is ours, so values stay exact text and nothing goes
 * through pg.types.
 */
export class TextPgoutputPlugin {
  private readonly inner: PgoutputPlugin;
  readonly options: { protoVersion: 1 | 2; publicationNames: string[]; messages: boolean };

  constructor(
    lib: typeof import('pg-logical-replication'),
    options: { protoVersion: 1 | 2; publicationNames: string[]; messages: boolean },
  ) {
    this.options = options;
    this.inner = new lib.PgoutputPlugin(options);
  }

  get name(): string {
    return 'pgoutput';
  }

  start(client: pg.Client, slotName: string, lastLsn: string): Promise<unknown> {
    return this.inner.start(client, slotName, lastLsn);
  }

  parse(buffer: Buffer): ParsedMessage {
    try {
      return decodePgoutput(buffer);
    } catch (error) {
      return { tag: 'decode-error', error };
    }
  }
}

/** Acknowledgement state shared by the connector and its current replication session. */
export class AckState {
  /** Highest LSN the runtime acknowledged (Kafka holds everything before it). 0 = nothing yet. */
  acked = 0n;
  /** Sends a standby status update on the live session, if any. */
  send: (() => void) | null = null;

  advance(lsn: bigint): void {
    if (lsn > this.acked) this.acked = lsn;
    this.send?.();
  }
}

export interface StreamEnv {
  opts: ResolvedOptions;
  slot: string;
  publication: string;
  filter: TableFilter;
  logger: Logger;
  types: Map<number, PgTypeInfo>;
  known: Map<string, string>;
  /** The last schema published of each table (`schema.table`), to find the columns a change added. */
  knownSchemas?: Map<string, TableSchema>;
  /** Tables renamed while the source was stopped (oid -> previous name), found at start. */
  startRenames?: ReadonlyMap<number, StartRename>;
  /** Columns renamed while the source was stopped (by table oid), found at start. */
  startColumnRenames?: ReadonlyMap<number, StartColumnRenames>;
  ack: AckState;
  signal: AbortSignal;
}

/** Where to start: the stored LSN, or (nothing stored yet) the slot's own position; creates a missing slot only then. */
async function startPosition(env: StreamEnv, catalog: pg.Client, from: SourcePosition): Promise<bigint> {
  const stored = isLsn(from['lsn']) ? parseLsn(from['lsn']) : null;
  const slot = await readSlot(catalog, env.slot);
  if (!slot) {
    if (stored !== null) {
      throw new FerryError(
        'FERRY_POSITION_LOST',
        `replication slot "${env.slot}" does not exist, but ferry resumes from ${formatLsn(stored)}: the changes since ` +
          'then are gone. Re-snapshot: start the pipeline with --resnapshot (docs/postgres-source.md#re-snapshot).',
      );
    }
    const replication = await connectReplication(env.opts, 'create-slot');
    try {
      const created = await createSlot(replication, env.slot, false);
      env.logger.info('created the replication slot', { slot: env.slot, position: created.consistentPoint });
      return parseLsn(created.consistentPoint);
    } finally {
      await replication.end().catch(() => undefined);
    }
  }
  const confirmed = slot.confirmedFlushLsn ? parseLsn(slot.confirmedFlushLsn) : 0n;
  if (stored === null) return confirmed;
  if (confirmed > stored) {
    throw new FerryError(
      'FERRY_POSITION_LOST',
      `replication slot "${env.slot}" was confirmed up to ${formatLsn(confirmed)}, beyond ferry's position ` +
        `${formatLsn(stored)}: another client consumed it and the changes in between are gone. ` +
        'Re-snapshot: drop the slot and start the pipeline with --resnapshot.',
    );
  }
  return stored;
}

/** Streams source items from the slot until the signal aborts or the connection fails. */
export async function* streamChanges(env: StreamEnv, from: SourcePosition): AsyncGenerator<SourceItem> {
  const log = env.logger;
  if (env.signal.aborted) return;
  const catalog = new pg.Client(clientConfig(env.opts, 'catalog'));
  const queue = new BoundedQueue<SourceItem>(env.opts.bufferMessages);
  catalog.on('error', (err) => queue.fail(pgError(err, 'catalog connection')));
  try {
    await catalog.connect();
  } catch (err) {
    await catalog.end().catch(() => undefined);
    throw pgError(err, 'connecting to PostgreSQL');
  }
  if (env.signal.aborted) {
    // Closed while connecting (the runtime stopped without waiting for this attempt).
    await catalog.end().catch(() => undefined);
    return;
  }

  const heartbeat = new Heartbeat(env.opts, env.slot, log);
  // Loaded on first use: a process without a PostgreSQL source (the sink thread) does not carry it.
  const lib = await import('pg-logical-replication');
  const service = new lib.LogicalReplicationService(clientConfig(env.opts, 'stream'), {
    acknowledge: { auto: false, timeoutSeconds: 0 },
    flowControl: { enabled: true },
  });
  let statusTimer: NodeJS.Timeout | null = null;
  let discoverTimer: NodeJS.Timeout | null = null;
  /** Confirms the last acknowledged LSN on the live session, whatever the item queue's state. */
  let confirmAcked: (() => void) | null = null;
  const onAbort = () => queue.close('drop');
  env.signal.addEventListener('abort', onAbort, { once: true });

  try {
    const start = await startPosition(env, catalog, from);
    if (start > env.ack.acked) env.ack.acked = start;
    const relations = new RelationHistory(env.knownSchemas);
    if (env.startRenames) relations.seedTableRenames(env.startRenames);
    if (env.startColumnRenames) relations.seedColumnRenames(env.startColumnRenames);
    /** Columns of the last resolved Relation that the catalog gives a default or a missing value. */
    let defaulted = new Set<string>();
    const decoder = new PgoutputDecoder({
      startLsn: start,
      knownVersions: env.known,
      ...(env.knownSchemas ? { knownSchemas: env.knownSchemas } : {}),
      resolveRelation: async (rel) => {
        defaulted = new Set();
        if (!isTableCaptured(env.filter, { db: rel.schema, table: rel.name })) return null;
        forgetEnums(env.types);
        return relationSchema(
          catalog,
          { ...rel, replicaIdentity: rel.replicaIdentity.charAt(0) },
          env.filter,
          env.types,
          relations,
          defaulted,
        );
      },
      withDefault: () => defaulted,
      fetchRow: async (table, key, columns) => {
        const where = key.map((k, i) => `${quoteIdent(k.column)} = $${i + 1}`).join(' AND ');
        const text = `SELECT ${columns.map(quoteIdent).join(', ')} FROM ${qualified(table.db, table.table)} WHERE ${where}`;
        try {
          const res = await catalog.query<(string | null)[]>({
            text,
            values: key.map((k) => k.text),
            rowMode: 'array',
          });
          return res.rows[0] ?? null;
        } catch (err) {
          throw pgError(err, `reading unchanged TOASTed columns of ${table.db}.${table.table}`);
        }
      },
    });

    let replicating = false;
    confirmAcked = (): void => {
      if (!replicating || env.ack.acked === 0n) return;
      // The library reports lsn + 1 as written/flushed; hand it acked - 1 so the server records exactly `acked`.
      service.acknowledge(formatLsn(env.ack.acked - 1n)).catch((err: unknown) => {
        log.debug('standby status update failed', { error: (err as Error).message });
      });
    };
    const sendStatus = (): void => {
      if (!queue.done) confirmAcked?.();
    };
    env.ack.send = sendStatus;

    service.on('data', async (lsn: string, msg: ParsedMessage) => {
      if (queue.done) return;
      try {
        if (msg.tag === 'decode-error') throw msg.error;
        const items = await decoder.decode(msg, parseLsn(lsn));
        for (const item of items) {
          if (item.type === 'checkpoint') heartbeat.activity();
          await queue.push(item);
        }
      } catch (err) {
        // The library reports a listener's failure as an 'error' event; fail the stream directly.
        queue.fail(pgError(err, `decoding the change at ${lsn} from slot "${env.slot}"`));
      }
    });
    service.on('heartbeat', (_lsn: string, _ts: number, shouldRespond: boolean) => {
      if (shouldRespond) sendStatus();
    });
    service.on('error', (err: Error) => queue.fail(pgError(err, `streaming from slot "${env.slot}"`)));
    service.on('start', () => {
      replicating = true;
      log.info('streaming from the replication slot', { slot: env.slot, from: formatLsn(start) });
      sendStatus();
    });

    const plugin = new TextPgoutputPlugin(lib, {
      protoVersion: env.opts.protoVersion,
      publicationNames: [env.publication],
      messages: true,
    });
    service.subscribe(plugin as unknown as ReplicationPlugin, env.slot, formatLsn(start)).then(
      () =>
        queue.fail(
          new FerryError('FERRY_CONNECTION', `the replication stream of slot "${env.slot}" ended`, { retriable: true }),
        ),
      (err: unknown) => queue.fail(pgError(err, `streaming from slot "${env.slot}"`)),
    );
    statusTimer = setInterval(sendStatus, env.opts.statusIntervalMs);
    statusTimer.unref();
    heartbeat.start();
    if (env.opts.discoverIntervalMs > 0) {
      const watch = new TableWatch({
        catalog,
        filter: env.filter,
        publication: env.publication,
        managePublication: env.opts.createPublication,
        types: env.types,
        known: env.known,
        logger: log,
        push: (item) => queue.push(item),
      });
      discoverTimer = setInterval(() => {
        watch.check().catch((err: unknown) => {
          log.warn('looking for new tables failed; trying again', { error: (err as Error).message });
        });
      }, env.opts.discoverIntervalMs);
      discoverTimer.unref();
    }

    for (;;) {
      const item = await queue.next();
      if (item === null) return;
      yield item;
    }
  } finally {
    env.signal.removeEventListener('abort', onAbort);
    const healthy = !queue.failed;
    queue.close('drop');
    env.ack.send = null;
    if (statusTimer) clearInterval(statusTimer);
    if (discoverTimer) clearInterval(discoverTimer);
    // A graceful stop: the runtime acknowledged the last stored position before closing the
    // stream. Confirm it once more before the connection closes, so the slot does not lag behind
    // the stored position until the next start (the server reads it before the Terminate that
    // closing sends; a failed connection gets nothing).
    if (healthy) confirmAcked?.();
    await heartbeat.stop();
    await service.destroy().catch(() => undefined);
    // destroy() removed every listener; a late 'error' must not become an uncaught exception.
    service.on('error', () => undefined);
    await catalog.end().catch(() => undefined);
  }
}
