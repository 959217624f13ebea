import { FerryError, isFerryError } from '../api/errors.js';

/**
 * Retry with exponential backoff and full jitter, honouring FerryError.retriable: a FerryError
 * with `retriable: false` is thrown at once; anything else (retriable FerryErrors and plain
 * errors, e.g. network errors from drivers) is retried. Shared by the source and sink runtimes.
 */
export interface RetryOptions {
  /** Retries after the first attempt; Infinity retries until the signal aborts. Default 5. */
  retries?: number;
  /** Base delay of the first retry, ms. Default 200. */
  minMs?: number;
  /** Upper bound of any delay, ms. Default 30 000. */
  maxMs?: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /** Aborting stops waiting and throws the abort reason (or the last error). */
  signal?: AbortSignal;
  /** Called before each wait, with the error and the 1-based retry number. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** Decides whether an error may be retried; default: `isRetriable`. */
  shouldRetry?: (err: unknown) => boolean;
}

/** Default rule: non-retriable FerryErrors stop; everything else is retried. */
export function isRetriable(err: unknown): boolean {
  if (isFerryError(err)) return err.retriable;
  return true;
}

/**
 * Delay before retry number `attempt` (1-based): a random value in [d/2, d] where
 * d = min(maxMs, minMs * factor^(attempt-1)) ("equal jitter": never zero, never above the cap).
 */
export function backoffDelay(
  attempt: number,
  opts: Pick<RetryOptions, 'minMs' | 'maxMs' | 'factor'> = {},
  random: () => number = Math.random,
): number {
  const minMs = opts.minMs ?? 200;
  const maxMs = opts.maxMs ?? 30_000;
  const factor = opts.factor ?? 2;
  const exp = Math.min(maxMs, minMs * factor ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/** Resolves after `ms`, or rejects with the abort reason when `signal` aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new FerryError('FERRY_INTERNAL', 'aborted');
}

/** Runs `fn` (given the 0-based attempt number) until it succeeds or retrying must stop. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const retries = opts.retries ?? 5;
  const shouldRetry = opts.shouldRetry ?? isRetriable;
  for (let attempt = 0; ; attempt++) {
    if (opts.signal?.aborted) throw abortError(opts.signal);
    try {
      return await fn(attempt);
    } catch (err) {
      if (!shouldRetry(err) || attempt >= retries || opts.signal?.aborted) throw err;
      const delay = backoffDelay(attempt + 1, opts);
      opts.onRetry?.(err, attempt + 1, delay);
      try {
        await sleep(delay, opts.signal);
      } catch {
        throw err;
      }
    }
  }
}
