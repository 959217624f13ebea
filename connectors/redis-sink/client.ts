import type { createClient } from 'redis';
import { tlsConnectOptions } from '../../src/api/index.js';
import type { RedisSinkOptions } from './options.js';

export type RedisClient = ReturnType<typeof createClient>;

/**
 * A node-redis client for the options: no offline queue (a call during an outage fails at once and
 * the runtime retries it). node-redis is loaded here, on first use: a pipeline without Redis does
 * not carry it in memory (docs/performance.md#memory).
 */
export async function redisClient(o: RedisSinkOptions, onceConnected: () => boolean): Promise<RedisClient> {
  const tls = tlsConnectOptions(o.tlsSettings, o.host);
  const { createClient } = await import('redis');
  return createClient({
    ...(o.url ? { url: o.url } : {}),
    ...(o.username !== undefined ? { username: o.username } : {}),
    ...(o.password !== undefined ? { password: o.password } : {}),
    ...(o.database !== undefined ? { database: o.database } : {}),
    disableOfflineQueue: true,
    socket: {
      ...(o.host !== undefined ? { host: o.host } : {}),
      ...(o.port !== undefined ? { port: o.port } : {}),
      ...(tls ? { ...tls, tls: true as const } : o.tls ? { tls: true as const } : {}),
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      keepAlive: true,
      // Before the first connection: give up at once (start() fails and is retried); after: reconnect forever.
      reconnectStrategy: (retries: number, cause: Error) =>
        onceConnected() ? Math.min(100 * 2 ** Math.min(retries, 5), 2000) : cause,
    },
  });
}
