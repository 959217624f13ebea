/**
 * Sorts Redis and network errors into ferry's kinds (docs/redis-sink.md#errors):
 * - FERRY_CONNECTION, retriable: unreachable, connection lost, loading its data, busy, out of
 *   memory, or unable to persist (MISCONF);
 * - FERRY_APPLY, retriable with `fenced`: the stored offsets moved (the runtime re-reads them);
 * - FERRY_APPLY, retriable: a stored JSON row changed between the read and the script;
 * - FERRY_APPLY, not retriable: a partial update of a row Redis does not hold (dead-lettered);
 * - FERRY_SCHEMA: a key ferry writes holds a value of another type;
 * - FERRY_AUTH: credentials or ACL permissions; FERRY_PREFLIGHT: a replica or a cluster.
 * Messages never hold the password.
 */
import { FerryError, isFerryError } from '../../src/api/index.js';
import { missingRowError } from './batch.js';

const NETWORK =
  /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|socket|closed|offline|timeout/i;
/** node-redis's own connection errors (ClientClosedError, SocketClosedUnexpectedlyError, ...). */
const CLIENT_ERRORS = /Socket|Client|Connection|Timeout|Reconnect|Disconnect/;
const RETRY_REPLIES = /^(LOADING|BUSY|MISCONF|OOM|TRYAGAIN|MASTERDOWN|CLUSTERDOWN)\b/;
const AUTH_REPLIES = /^(NOAUTH|WRONGPASS|NOPERM)\b|invalid username-password|ERR AUTH/i;

const AUTH_HINT =
  'Check sink.url: the user and its password (ACL), and that the user may run EVALSHA, EVAL, SCRIPT LOAD and ' +
  'the commands of the apply script (HSET, HDEL, DEL, SET, SADD, SREM, SPOP, EXPIRE, XADD, HSETNX, HGET, TYPE, GET) ' +
  'on the keys it writes.';

export function classifyRedisError(err: unknown, context: string, tableOf?: (key: string) => string): FerryError {
  if (isFerryError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  const name = err instanceof Error ? err.constructor.name : '';
  if (message.startsWith('FERRY_FENCED ')) {
    const [, field, stored] = message.split(' ');
    return new FerryError(
      'FERRY_APPLY',
      `the stored offset of ${field} is ${stored || 'absent'}, not what this process expected: another sink process ` +
        'of the group applied it meanwhile, or an earlier commit went through unseen; re-reading offsets',
      { retriable: true, details: { fenced: true } },
    );
  }
  if (message.startsWith('FERRY_STALE ')) {
    return new FerryError(
      'FERRY_APPLY',
      `${context}: a stored JSON row changed while the batch was prepared; retrying`,
      {
        retriable: true,
      },
    );
  }
  if (message.startsWith('FERRY_MISSING ')) {
    const key = message.slice('FERRY_MISSING '.length);
    return missingRowError(tableOf?.(key) ?? 'a table', key, 'Redis holds no hash for it');
  }
  if (message.startsWith('FERRY_WRONGTYPE ')) {
    const [, key, found, wanted] = message.split(' ');
    return new FerryError(
      'FERRY_SCHEMA',
      `${context}: the key ${JSON.stringify(key)} holds a ${found}, where ferry keeps a ${wanted}. Another program uses ` +
        "ferry's keys: give ferry its own keys (sink.keyPrefix, or another database number in sink.url).",
      { details: { key } },
    );
  }
  if (AUTH_REPLIES.test(message)) {
    return new FerryError(
      'FERRY_AUTH',
      `${context}: Redis refused the credentials or a command: ${message}. ${AUTH_HINT}`,
      {
        cause: err,
      },
    );
  }
  if (/^READONLY\b/.test(message)) {
    return new FerryError(
      'FERRY_PREFLIGHT',
      `${context}: the Redis server is a read-only replica; point sink.url at the primary.`,
      { cause: err },
    );
  }
  if (/^(MOVED|ASK|CROSSSLOT)\b/.test(message)) {
    return new FerryError(
      'FERRY_PREFLIGHT',
      `${context}: the Redis server is a cluster; the Redis sink needs a single (primary) server, since one batch ` +
        'and its offsets must commit in one script.',
      { cause: err },
    );
  }
  if (RETRY_REPLIES.test(message) || NETWORK.test(message) || CLIENT_ERRORS.test(name)) {
    return new FerryError('FERRY_CONNECTION', `${context}: ${message}`, { retriable: true, cause: err });
  }
  return new FerryError('FERRY_INTERNAL', `${context}: Redis answered with an error: ${message}`, { cause: err });
}
