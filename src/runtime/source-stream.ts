import type {
  ChangeEvent,
  Logger,
  SourceConnector,
  SourceContext,
  SourceItem,
  SourcePosition,
  StoredSourceOffset,
} from '../api/index.js';
import { FerryError, isFerryError } from '../api/index.js';
import type { BoundedQueue } from './queue.js';
import { backoffDelay, sleep } from './retry.js';
import type { QueueItem } from './source-items.js';

export interface StreamLoopOptions {
  connector: SourceConnector;
  ctx: SourceContext;
  from: SourcePosition;
  queue: BoundedQueue<QueueItem>;
  logger: Logger;
  minMs: number;
  maxMs: number;
  stopping(): boolean;
  setConnected(connected: boolean): void;
  /** The last position stored in Kafka; a reconnect resumes from it. */
  lastStored(): StoredSourceOffset | null;
  onError(err: unknown): void;
  onEvent(event: ChangeEvent | null, commitTsMs?: number): void;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
]);

/**
 * Whether the stream may be restarted after this error: FerryErrors say so themselves; other
 * errors only when they are network failures (anything else is a bug and must stop the source).
 */
export function isReconnectable(err: unknown): boolean {
  if (isFerryError(err)) return err.retriable;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && NETWORK_CODES.has(code);
}

/**
 * Streams from `from` into the queue until stopping. When the connector's stream fails with a
 * reconnectable error (or ends by itself), waits until everything queued is acknowledged and its
 * position stored, then, after an exponential backoff with jitter, calls stream() again from the
 * last stored position. Events after that position may be published twice (at-least-once).
 */
export async function streamWithReconnect(o: StreamLoopOptions): Promise<void> {
  let from = o.from;
  let attempt = 0;
  while (!o.stopping()) {
    try {
      for await (const item of o.connector.stream(o.ctx, from)) {
        if (attempt > 0) {
          o.logger.info('reconnected to the source', { position: o.connector.describePosition(from) });
          attempt = 0;
        }
        o.setConnected(true);
        await o.queue.put(toQueueItem(item, o));
        if (o.stopping()) break;
      }
      if (o.stopping()) break;
      throw new FerryError('FERRY_CONNECTION', 'the source stream ended unexpectedly', { retriable: true });
    } catch (err) {
      o.setConnected(false);
      if (o.stopping()) break;
      if (!isReconnectable(err)) throw err;
      o.onError(err);
      attempt++;
      const delay = backoffDelay(attempt, { minMs: o.minMs, maxMs: o.maxMs });
      o.logger.warn('lost the source stream; reconnecting from the last stored position', {
        error: err instanceof Error ? err.message : String(err),
        attempt,
        delayMs: delay,
      });
      await drain(o.queue);
      const stored = o.lastStored();
      if (stored?.phase === 'stream') from = stored.position;
      try {
        await sleep(delay, o.ctx.signal);
      } catch {
        break;
      }
    }
  }
  o.setConnected(false);
}

/** Waits until every queued item is published and the latest position stored. */
async function drain(queue: BoundedQueue<QueueItem>): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    queue.put({ kind: 'barrier', done: resolve }).catch(reject);
  }).catch(() => undefined);
}

function toQueueItem(item: SourceItem, o: StreamLoopOptions): QueueItem {
  switch (item.type) {
    case 'event':
      o.onEvent(item.event);
      return { kind: 'event', event: item.event };
    case 'schema':
      return { kind: 'schema', schema: item.schema };
    case 'checkpoint':
      o.onEvent(null, item.commitTsMs);
      return {
        kind: 'offset',
        offset: { phase: 'stream', position: item.position, writtenAt: Date.now() },
        acknowledge: item.position,
      };
  }
}
