import type { AnyBinlogEvent, TableMapEvent, XaPrepareEvent } from '@vlasky/zongji';
import { BoundedQueue, FerryError, isTransientNetworkError, type Logger } from '../../src/api/index.js';
import { connectionOptions, describeServer, type MysqlSourceConfig } from './config.js';
import type { BinlogEvent } from './decode.js';
import { describeMysqlPosition, type MysqlPosition, toSourcePosition } from './position.js';
import { RESNAPSHOT_HINT } from './preflight.js';
import { xidKey } from './xa.js';

const EVENTS = [
  'rotate',
  'format',
  'tablemap',
  'writerows',
  'updaterows',
  'deleterows',
  'xid',
  'query',
  'mariadbgtid',
  'gtid',
  'xaprepare',
  // Events read only for where they end (snapshot chunk placement):
  'intvar',
  'rand',
  'uservar',
  'annotaterows',
  'binlogcheckpoint',
  'mariadbgtidlist',
  'previousgtids',
  'unknown',
];

export interface BinlogReaderOptions {
  config: MysqlSourceConfig;
  start: MysqlPosition;
  signal: AbortSignal;
  logger: Logger;
  /** zongji schema filter (databases whose row events are decoded); undefined: all. */
  includeSchema?: Record<string, true>;
}

/**
 * Reads the binlog from a position with zongji, as plain BinlogEvents. zongji pushes events;
 * they are queued (BoundedQueue) and the socket is paused while `readBuffer` events wait (until
 * half of them are read), so a slow consumer holds the server back instead of filling memory. zongji never reconnects: a connection error
 * (or the server closing the connection) ends the iteration with a retriable FerryError, and the
 * runtime calls stream() again from the last stored position.
 */
export async function* readBinlog(o: BinlogReaderOptions): AsyncGenerator<BinlogEvent> {
  const high = o.config.readBuffer ?? 2000;
  const low = Math.floor(high / 2);
  // zongji is loaded on first use: a process without a MySQL source (the sink thread) does not carry it.
  const { default: ZongJi } = await import('@vlasky/zongji');
  const zongji = new ZongJi(connectionOptions(o.config));
  const queue = new BoundedQueue<BinlogEvent>(high);
  const keys = new Map<number, string[]>();
  let paused = false;

  zongji.on('binlog', (ev: AnyBinlogEvent) => {
    const converted = convert(ev, keys);
    if (!converted || !queue.offer(converted)) return;
    if (queue.full && !paused && zongji.connection) {
      zongji.connection.pause();
      paused = true;
      void queue.whenBelow(low).then(() => {
        if (paused && zongji.connection && !queue.done) {
          zongji.connection.resume();
          paused = false;
        }
      });
    }
  });
  zongji.on('error', (err: unknown) => queue.fail(binlogError(err, o)));
  zongji.on('ready', () => {
    // The server may close the dump connection without an error packet (shutdown): treat that
    // as a lost connection too, or the stream would wait forever.
    const stream = (zongji.connection as unknown as { stream?: NodeJS.EventEmitter } | null)?.stream;
    stream?.once('close', () => {
      queue.fail(
        new FerryError('FERRY_CONNECTION', `the binlog connection to ${describeServer(o.config)} closed`, {
          retriable: true,
        }),
      );
    });
  });
  // Stopping: what is queued is not handed out any more.
  const onAbort = () => queue.close('drop');
  o.signal.addEventListener('abort', onAbort, { once: true });

  zongji.start({
    serverId: o.config.serverId,
    filename: o.start.file,
    position: o.start.pos,
    includeEvents: EVENTS,
    ...(o.includeSchema ? { includeSchema: o.includeSchema } : {}),
  });
  try {
    for (;;) {
      if (o.signal.aborted) return;
      const next = await queue.next();
      if (next === null || o.signal.aborted) return;
      yield next;
    }
  } finally {
    o.signal.removeEventListener('abort', onAbort);
    zongji.removeAllListeners('binlog');
    zongji.on('error', () => undefined);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      zongji.once('stopped', () => {
        clearTimeout(timer);
        resolve();
      });
      zongji.stop();
    });
  }
}

/** zongji event → BinlogEvent (null: not needed). TableMaps only feed the key-name cache. */
export function convert(ev: AnyBinlogEvent, keys: Map<number, string[]>): BinlogEvent | null {
  switch (ev.getEventName()) {
    case 'rotate': {
      const r = ev as Extract<AnyBinlogEvent, { binlogName: string; position: number }>;
      return { type: 'rotate', file: r.binlogName, position: r.position };
    }
    case 'mariadbgtid':
    case 'gtid':
      return {
        type: 'gtid',
        gtid: String(ev.gtid ?? ''),
        timestamp: ev.timestamp,
        ...((ev as { preparedXa?: boolean }).preparedXa ? { xa: true } : {}),
      };
    case 'tablemap': {
      const t = ev as TableMapEvent;
      if (t.primaryKey && t.columnNames)
        keys.set(
          t.tableId,
          t.primaryKey.map((i) => t.columnNames![i]!),
        );
      else keys.delete(t.tableId);
      return null;
    }
    case 'writerows':
    case 'updaterows':
    case 'deleterows': {
      const r = ev as Extract<AnyBinlogEvent, { rows: unknown[]; tableId: number }>;
      const map = r.tableMap[r.tableId];
      if (!map) return null;
      const name = ev.getEventName();
      const key = keys.get(r.tableId);
      return {
        type: 'rows',
        op: name === 'writerows' ? 'write' : name === 'updaterows' ? 'update' : 'delete',
        db: map.parentSchema,
        table: map.tableName,
        columns: map.columnSchemas.map((c) => ({ name: c.COLUMN_NAME, type: c.COLUMN_TYPE })),
        ...(key ? { primaryKey: key } : {}),
        rows: r.rows,
        timestamp: ev.timestamp,
      };
    }
    case 'xid':
      return { type: 'xid', timestamp: ev.timestamp, nextPosition: ev.nextPosition };
    case 'xaprepare': {
      const x = ev as XaPrepareEvent;
      return {
        type: 'xaprepare',
        xid: xidKey(x.xidFormatId, x.xidGtrid, x.xidBqual),
        onePhase: x.onePhase,
        timestamp: ev.timestamp,
        nextPosition: ev.nextPosition,
      };
    }
    case 'query': {
      const q = ev as Extract<AnyBinlogEvent, { query: string; schema: string }>;
      return { type: 'query', query: q.query, db: q.schema, timestamp: ev.timestamp, nextPosition: ev.nextPosition };
    }
    default:
      // Only its end matters: it tells how far the stream got (snapshot chunk placement).
      return typeof ev.nextPosition === 'number' && ev.nextPosition > 0
        ? { type: 'mark', nextPosition: ev.nextPosition }
        : null;
  }
}

/** Sorts a zongji/mysql2 error: lost position and auth stop the source; connection trouble is retried. */
export function binlogError(err: unknown, o: Pick<BinlogReaderOptions, 'config' | 'start'>): FerryError {
  if (err instanceof FerryError) return err;
  const e = err as { errno?: number; code?: string; fatal?: boolean; message?: string };
  const msg = e.message ?? String(err);
  const server = describeServer(o.config);
  const where = describeMysqlPosition(toSourcePosition(o.start));
  if (e.errno === 1236) {
    return new FerryError(
      'FERRY_POSITION_LOST',
      `the server ${server} cannot stream from ${where}: ${msg}. The binlog holding the stored position was ` +
        `probably purged. ${RESNAPSHOT_HINT}`,
      { cause: err, details: { position: where } },
    );
  }
  if (e.errno === 1045 || e.errno === 1227 || e.errno === 1044 || e.errno === 1142) {
    return new FerryError(
      'FERRY_AUTH',
      `${server} refused the binlog reader: ${msg}. The user needs REPLICATION SLAVE and REPLICATION CLIENT ` +
        '(MariaDB: BINLOG MONITOR) privileges.',
      { cause: err },
    );
  }
  if (isTransientNetworkError(e) || e.code?.startsWith('ER_') || e.fatal) {
    return new FerryError('FERRY_CONNECTION', `binlog connection to ${server} failed: ${msg}`, {
      cause: err,
      retriable: true,
    });
  }
  return new FerryError('FERRY_DECODE', `cannot read the binlog of ${server}: ${msg}`, { cause: err });
}
