/**
 * How the sink runtime retries a target or Kafka call: retriable failures with backoff (forever
 * unless maxRetries), heartbeating the consumer group meanwhile so that a long outage does not
 * cost the partitions. A fence becomes FencedError, stop() a StoppedError, running out of
 * retries FERRY_CONNECTION; anything else is thrown as it is.
 */
import { FerryError, isFerryError, type Logger } from '../../api/index.js';
import { retry } from '../retry.js';
import { FencedError, StoppedError } from './errors.js';
import type { SinkRuntimeOptions } from './options.js';

export type WithRetry = <T>(what: string, fn: () => Promise<T>, heartbeat?: () => Promise<void>) => Promise<T>;

export interface SinkRetryOptions
  extends Pick<SinkRuntimeOptions, 'metrics' | 'maxRetries' | 'retryMinMs' | 'retryMaxMs' | 'heartbeatIntervalMs'> {
  logger: Logger;
  /** Aborted by stop(). */
  signal: AbortSignal;
}

export function createWithRetry(o: SinkRetryOptions): WithRetry {
  return async function withRetry<T>(what: string, fn: () => Promise<T>, heartbeat?: () => Promise<void>): Promise<T> {
    let timer: NodeJS.Timeout | null = null;
    if (heartbeat) {
      timer = setInterval(() => {
        heartbeat().catch(() => undefined);
      }, o.heartbeatIntervalMs ?? 3000);
    }
    try {
      return await retry(fn, {
        retries: o.maxRetries ? o.maxRetries : Number.POSITIVE_INFINITY,
        minMs: o.retryMinMs ?? 250,
        maxMs: o.retryMaxMs ?? 10_000,
        signal: o.signal,
        shouldRetry: (err) =>
          isFerryError(err)
            ? err.retriable && err.details['fenced'] !== true
            : (err as { retriable?: unknown })?.retriable === true,
        onRetry: (err, attempt, delayMs) => {
          const code = isFerryError(err) ? err.code : 'FERRY_INTERNAL';
          o.metrics?.errors.inc({ component: 'sink', code });
          o.logger.warn(`${what} failed; retrying`, { attempt, delayMs, code, error: (err as Error).message });
        },
      });
    } catch (err) {
      if (o.signal.aborted) throw new StoppedError('stopped while retrying');
      if (isFerryError(err) && err.details['fenced'] === true) throw new FencedError(err.message);
      if ((err as { retriable?: unknown })?.retriable === true) {
        throw new FerryError(
          'FERRY_CONNECTION',
          `${what}: gave up after ${o.maxRetries} retries: ${(err as Error).message}`,
          {
            cause: err,
          },
        );
      }
      throw err;
    } finally {
      if (timer) clearInterval(timer);
    }
  };
}
