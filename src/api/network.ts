/**
 * The one classification of transient network failures, shared by the runtimes and every
 * connector: the peer cannot be reached right now, or the connection broke. Such an error is
 * retried (reconnect with backoff); it says nothing about the data.
 */

/** Node.js socket and DNS error codes of a server that is unreachable or a connection that broke. */
const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * Whether `err` (anything with a string `code`) is a transient network failure: a Node.js socket
 * or DNS error above, or a mysql2 protocol-level failure (`PROTOCOL_*`: the connection was lost,
 * timed out or got out of step).
 */
export function isTransientNetworkError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  if (typeof code !== 'string') return false;
  return NETWORK_ERROR_CODES.has(code) || code.startsWith('PROTOCOL_');
}
