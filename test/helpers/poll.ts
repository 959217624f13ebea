/** Polling in tests: waiting until a condition holds. */

/**
 * Calls `fn` every `intervalMs` until it returns a truthy value, and returns that. Errors count
 * as "not yet" unless `rethrow(err)` says otherwise; after `timeoutMs` it throws, naming `what`
 * and the last error.
 */
export async function pollUntil<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs: number,
  intervalMs: number,
  rethrow: (err: unknown) => boolean = () => false,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      if (rethrow(err)) throw err;
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
