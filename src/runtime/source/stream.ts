import type {
  ChangeEvent,
  Logger,
  SourceConnector,
  SourceContext,
  SourceItem,
  SourcePosition,
  StoredSourceOffset,
} from '../../api/index.js';
import { FerryError, isFerryError, isTransientNetworkError } from '../../api/index.js';
import type { BoundedQueue } from '../../api/queue.js';
import { abortable, backoffDelay, sleep } from '../retry.js';
import type { QueueItem } from './items.js';
import type { StreamItem } from './snapshot-engine.js';
import type { TransactionMarks, TransactionRecord } from './transactions.js';

export interface StreamLoopOptions {
  connector: SourceConnector;
  /**
   * The context handed to connector.stream(), but for its signal: each stream gets its own,
   * aborted when the loop closes that stream (after `flush` on a graceful stop) or on a hard stop.
   */
  ctx: Omit<SourceContext, 'signal'>;
  from: SourcePosition;
  queue: BoundedQueue<QueueItem>;
  logger: Logger;
  minMs: number;
  maxMs: number;
  /** Graceful stop requested: stop reading and waiting (backoff, reconnects, a full queue). */
  stopSignal: AbortSignal;
  /** Hard stop: closes the stream at once, and bounds how long closing it may take. */
  hardSignal: AbortSignal;
  /**
   * Called on a graceful stop before the stream is closed: publishes what is queued and stores
   * (and acknowledges to the connector) the last position while the connector's stream is still
   * open, so that a connector can confirm that position on its live connection.
   */
  flush(): Promise<void>;
  setConnected(connected: boolean): void;
  /** The last position stored in Kafka; a reconnect resumes from it. */
  lastStored(): StoredSourceOffset | null;
  onError(err: unknown): void;
  onEvent(event: ChangeEvent | null, commitTsMs?: number): void;
  /** Publishes BEGIN/END records of the stream's transactions (transactions.ts); absent: none. */
  transactions?: TransactionMarks;
  /**
   * The snapshot engine, when chunks are read beside the stream: every item passes through it in
   * order (a watermark becomes its chunk's rows), and every stored position carries its progress.
   */
  snapshots?: {
    transform(item: SourceItem): Promise<StreamItem[]>;
    decorate(offset: StoredSourceOffset): StoredSourceOffset;
  };
}

/**
 * Whether the stream may be restarted after this error: FerryErrors say so themselves; other
 * errors only when they are network failures (anything else is a bug and must stop the source).
 */
export function isReconnectable(err: unknown): boolean {
  if (isFerryError(err)) return err.retriable;
  return isTransientNetworkError(err);
}

/** Nothing more to read: stop() was called. */
const STOPPED = Symbol('stopped');

/**
 * Streams from `from` into the queue until a graceful stop. When the connector's stream fails
 * with a reconnectable error (or ends by itself), waits until everything queued is acknowledged
 * and its position stored, then, after an exponential backoff with jitter, calls stream() again
 * from the last stored position. Events after that position may be published twice
 * (at-least-once).
 *
 * A stop is noticed at once wherever the loop waits: for the next item (also while the
 * connector is still connecting), for room in the queue, for the queue to drain, in the backoff.
 * The open stream is then left open until `flush()` returned, so that the last stored position
 * reaches the connector (acknowledge) while it can still confirm it; then it is closed.
 */
export async function streamWithReconnect(o: StreamLoopOptions): Promise<void> {
  let from = o.from;
  let attempt = 0;
  try {
    while (!o.stopSignal.aborted) {
      const own = new AbortController();
      const signal = AbortSignal.any([own.signal, o.hardSignal]);
      o.transactions?.reset();
      const iterator = o.connector.stream({ ...o.ctx, signal }, from)[Symbol.asyncIterator]();
      let pending: Promise<IteratorResult<SourceItem>> | null = null;
      let yielded = false;
      let failed = false;
      let failure: unknown;
      try {
        for (;;) {
          pending = iterator.next();
          const next = await untilStopped(pending, o.stopSignal);
          if (next === STOPPED) break;
          pending = null;
          if (next.done) {
            throw new FerryError('FERRY_CONNECTION', 'the source stream ended unexpectedly', { retriable: true });
          }
          if (!yielded && attempt > 0) {
            o.logger.info('reconnected to the source', { position: o.connector.describePosition(from) });
          }
          yielded = true;
          attempt = 0;
          o.setConnected(true);
          const items = o.snapshots ? await o.snapshots.transform(next.value) : [next.value];
          let stopped = false;
          for (const it of items) {
            for (const item of toQueueItems(it, o)) {
              if ((await untilStopped(o.queue.put(item, o.stopSignal), o.stopSignal)) === STOPPED) {
                stopped = true;
                break;
              }
            }
            if (stopped) break;
          }
          if (stopped) break;
        }
      } catch (err) {
        failed = true;
        failure = err;
      }
      o.setConnected(false);
      // A next() the loop stopped waiting for: its outcome no longer matters.
      (pending as Promise<unknown> | null)?.catch(() => undefined);
      if (!failed || o.stopSignal.aborted || o.queue.isClosed) {
        // Stopping (or failing on the publishing side) with the stream open: store and
        // acknowledge the last position first, then close the stream. A stream that never
        // yielded is still connecting (maybe to a database that is down): not waited for.
        await o.flush();
        await closeIterator(iterator, own, yielded, o);
        return;
      }
      await closeIterator(iterator, own, true, o);
      if (!isReconnectable(failure)) throw failure;
      o.onError(failure);
      attempt++;
      const delay = backoffDelay(attempt, { minMs: o.minMs, maxMs: o.maxMs });
      o.logger.warn('lost the source stream; reconnecting from the last stored position', {
        error: failure instanceof Error ? failure.message : String(failure),
        attempt,
        delayMs: delay,
      });
      if ((await untilStopped(drain(o.queue, o.stopSignal), o.stopSignal)) === STOPPED) break;
      const stored = o.lastStored();
      if (stored) from = stored.position;
      try {
        await sleep(delay, o.stopSignal);
      } catch {
        break;
      }
    }
  } finally {
    o.setConnected(false);
  }
}

/**
 * Closes one connector stream: aborts its signal, then calls return(), which settles once a
 * pending next() has (the connector notices the signal). `wait`: wait for that, bounded by the
 * hard stop; otherwise the stream cleans up by itself once its current attempt ends.
 */
async function closeIterator(
  iterator: AsyncIterator<SourceItem>,
  own: AbortController,
  wait: boolean,
  o: StreamLoopOptions,
): Promise<void> {
  own.abort();
  const closing = Promise.resolve()
    .then(() => iterator.return?.())
    .catch((err: unknown) => {
      o.logger.debug('closing the source stream failed', { error: err instanceof Error ? err.message : String(err) });
    });
  if (!wait) return;
  await abortable(closing, [o.hardSignal]).catch(() => {
    o.logger.warn('the source stream did not close before the stop timeout; leaving it behind');
  });
}

/** `p`, or STOPPED as soon as the signal aborts (p's outcome is then dropped). */
function untilStopped<T>(p: Promise<T>, signal: AbortSignal): Promise<T | typeof STOPPED> {
  return abortable(p, [signal]).catch((err: unknown) => {
    if (signal.aborted) return STOPPED;
    throw err;
  });
}

/** Waits until every queued item is published and the latest position stored. */
async function drain(queue: BoundedQueue<QueueItem>, signal: AbortSignal): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    queue.put({ kind: 'barrier', done: resolve }, signal).catch(reject);
  }).catch(() => undefined);
}

function toQueueItems(item: StreamItem, o: StreamLoopOptions): QueueItem[] {
  const marks = (records: TransactionRecord[]): QueueItem[] =>
    records.map((record) => ({ kind: 'transaction', record }));
  switch (item.type) {
    case 'gate': {
      // Its events, if any, are snapshot events, outside any transaction (as the chunk's own would be).
      const until = item.until.then((events) => {
        for (const e of events) o.onEvent(e);
        return events;
      });
      const end = o.transactions ? marks(o.transactions.close()) : [];
      return [...end, { kind: 'gate', until }];
    }
    case 'watermark':
      return [];
    case 'event': {
      o.onEvent(item.event);
      const before = o.transactions ? marks(o.transactions.beforeEvent(item.event)) : [];
      return [...before, { kind: 'event', event: item.event }];
    }
    case 'schema':
      // A backfill decision is kept with the version (backfill-history.ts).
      return [
        {
          kind: 'schema',
          schema: item.backfill && item.backfill.length > 0 ? { ...item.schema, backfill: item.backfill } : item.schema,
        },
      ];
    case 'checkpoint': {
      o.onEvent(null, item.commitTsMs);
      const offset: StoredSourceOffset = { phase: 'stream', position: item.position, writtenAt: Date.now() };
      const end = o.transactions ? marks(o.transactions.close()) : [];
      return [
        ...end,
        {
          kind: 'offset',
          offset: o.snapshots ? o.snapshots.decorate(offset) : offset,
          acknowledge: item.position,
        },
      ];
    }
  }
}
