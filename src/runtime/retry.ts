import { FerryError, isFerryError } from '../api/errors.js';

/**
 * The retry policy of ferry: exponential backoff with jitter, honouring FerryError.retriable (a
 * FerryError with `retriable: false` is thrown at once; anything else, retriable FerryErrors and
 * plain errors such as network errors from drivers, is retried), ended by a stop signal, with an
 * optional give-up (a number of retries, a time limit, or both). Every retrying wrapper of the
 * source and sink runtimes is built on `retry` here: the sink's withRetry (sink/retry.ts), the
 * source publisher's Kafka sends, the source start-up's Kafka calls (source/startup.ts); the
 * snapshot and stream reconnects use its `backoffDelay` and `sleep`.
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
  /** Give up (throw the last error) once this many ms passed since the first failure. Default: no limit. */
  giveUpAfterMs?: number;
  /** Aborting stops waiting and throws the abort reason (or the last error). */
  signal?: AbortSignal;
  /**
   * Aborting ends the retrying, not the work: no further wait and no new retry; the last error is
   * thrown. Unlike `signal`, a first attempt still runs when it is already aborted (a graceful
   * stop still tries to flush once, but does not wait for a failing peer).
   */
  stopSignal?: AbortSignal;
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

/** Resolves after `ms`, or rejects with the abort reason when a signal aborts first. */
export function sleep(ms: number, ...signals: Array<AbortSignal | undefined>): Promise<void> {
  const live = signals.filter((s): s is AbortSignal => s !== undefined);
  return new Promise((resolve, reject) => {
    const aborted = live.find((s) => s.aborted);
    if (aborted) {
      reject(abortError(aborted));
      return;
    }
    const cleanup = () => {
      clearTimeout(timer);
      for (const s of live) s.removeEventListener('abort', onAbort);
    };
    function onAbort(this: AbortSignal) {
      cleanup();
      reject(abortError(this));
    }
    const timer = setTimeout(() => {
      cleanup();
      resolve();
    }, ms);
    for (const s of live) s.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * `promise`, or a rejection with the abort reason as soon as one of the signals aborts (at once
 * when one already has). The work behind `promise` is not cancelled: it goes on unobserved, and
 * its outcome is dropped (`onLate` gets a value that arrives after all, e.g. to close it).
 */
export function abortable<T>(
  promise: Promise<T>,
  signals: Array<AbortSignal | undefined>,
  onLate?: (value: T) => void,
): Promise<T> {
  const live = signals.filter((s): s is AbortSignal => s !== undefined);
  if (live.length === 0) return promise;
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const cleanup = () => {
      done = true;
      for (const s of live) s.removeEventListener('abort', onAbort);
    };
    function onAbort(this: AbortSignal) {
      if (done) return;
      cleanup();
      reject(abortError(this));
    }
    promise.then(
      (value) => {
        if (done) {
          onLate?.(value);
          return;
        }
        cleanup();
        resolve(value);
      },
      (err: unknown) => {
        if (done) return;
        cleanup();
        reject(err);
      },
    );
    const aborted = live.find((s) => s.aborted);
    if (aborted) {
      onAbort.call(aborted);
      return;
    }
    for (const s of live) s.addEventListener('abort', onAbort, { once: true });
  });
}

/** Whether `err` is the reason a signal aborted with (a wait that was cut short, not a failure). */
export function isAbortReason(err: unknown, ...signals: Array<AbortSignal | undefined>): boolean {
  return signals.some((s) => s?.aborted === true && (s.reason === err || (err as Error)?.name === 'AbortError'));
}

export function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new FerryError('FERRY_INTERNAL', 'aborted');
}

/** Runs `fn` (given the 0-based attempt number) until it succeeds or retrying must stop. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const retries = opts.retries ?? 5;
  const shouldRetry = opts.shouldRetry ?? isRetriable;
  let firstFailureAt: number | undefined;
  for (let attempt = 0; ; attempt++) {
    if (opts.signal?.aborted) throw abortError(opts.signal);
    try {
      return await fn(attempt);
    } catch (err) {
      firstFailureAt ??= Date.now();
      const timedOut = opts.giveUpAfterMs !== undefined && Date.now() - firstFailureAt >= opts.giveUpAfterMs;
      if (!shouldRetry(err) || attempt >= retries || timedOut || opts.signal?.aborted || opts.stopSignal?.aborted)
        throw err;
      const delay = backoffDelay(attempt + 1, opts);
      opts.onRetry?.(err, attempt + 1, delay);
      try {
        await sleep(delay, opts.signal, opts.stopSignal);
      } catch {
        throw err;
      }
    }
  }
}

/**
 * A gate for "about once every `everyMs`" reports while something keeps failing: true on the
 * first call, then true again only once `everyMs` passed since the last true.
 */
export function everyMs(everyMs: number, now: () => number = Date.now): () => boolean {
  let last: number | undefined;
  return () => {
    const t = now();
    if (last !== undefined && t - last < everyMs) return false;
    last = t;
    return true;
  };
}
