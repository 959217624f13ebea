/**
 * The sandbox's Redis (the Redis sink's target): Debian's redis-server in the foreground, on its
 * own port on 127.0.0.1 with its own data dir, AOF on (appendfsync everysec) so a restart keeps
 * the data, RDB snapshots off, and a password on the `default` user. The config file holds the
 * password, so it is readable by the owner only and the password never shows in `ps`.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FerryError } from '../api/errors.js';
import type { ServerDriver } from './driver.js';
import { logTail, spawnDetached, waitUntilReady } from './process.js';
import { sandboxCa } from './tls.js';

const READY_TIMEOUT_MS = 60_000;
const SEARCH_DIRS = ['/usr/bin', '/usr/local/bin', '/usr/sbin'];

/** redis-server: env FERRY_REDIS_BIN (a dir), then PATH, then the usual dirs. */
function binary(): string {
  const dirs = [process.env['FERRY_REDIS_BIN'], ...(process.env['PATH'] ?? '').split(':'), ...SEARCH_DIRS].filter(
    (d): d is string => !!d,
  );
  for (const dir of dirs) if (existsSync(join(dir, 'redis-server'))) return join(dir, 'redis-server');
  throw new FerryError(
    'FERRY_SANDBOX',
    `redis-server not found (looked in FERRY_REDIS_BIN, PATH, ${SEARCH_DIRS.join(', ')}); install it (apt-get install redis-server) or set FERRY_REDIS_BIN.`,
  );
}

/** The redis.conf of the sandbox (quoted values: paths may hold spaces). */
export function redisConfig(o: {
  port: number;
  dataDir: string;
  logFile: string;
  password: string;
  /** A `--tls` sandbox: TLS on the port, no plaintext port, client certificates not asked for. */
  tls?: { ca: string; cert: string; key: string } | undefined;
}): string {
  const q = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const listen = o.tls
    ? [
        'port 0',
        `tls-port ${o.port}`,
        `tls-cert-file ${q(o.tls.cert)}`,
        `tls-key-file ${q(o.tls.key)}`,
        `tls-ca-cert-file ${q(o.tls.ca)}`,
        'tls-auth-clients no',
      ]
    : [`port ${o.port}`];
  return [
    ...listen,
    'bind 127.0.0.1',
    'protected-mode yes',
    'daemonize no',
    `dir ${q(o.dataDir)}`,
    `logfile ${q(o.logFile)}`,
    'appendonly yes',
    'appendfsync everysec',
    'save ""',
    `requirepass ${q(o.password)}`,
    // Keep the config path in the process title: it is how the sandbox recognises its server.
    'proc-title-template "{title} {listen-addr} {config-file}"',
    '',
  ].join('\n');
}

const configFile = (dataDir: string): string => join(dataDir, '..', 'redis.conf');

export const redisDriver: ServerDriver = {
  name: 'redis',
  label: 'Redis',
  stopSignal: 'SIGTERM',
  marker: (info) => configFile(info.sandbox.servers.redis.dataDir),

  async launch(ctx) {
    const r = ctx.info.sandbox.servers.redis;
    mkdirSync(r.dataDir, { recursive: true });
    const file = configFile(r.dataDir);
    writeFileSync(
      file,
      redisConfig({
        port: ctx.info.redis.port,
        dataDir: r.dataDir,
        logFile: r.logFile,
        password: ctx.info.redis.password,
        tls: ctx.info.tls
          ? { ca: ctx.info.tls.caFile, cert: ctx.info.tls.certFile, key: ctx.info.tls.keyFile }
          : undefined,
      }),
      { mode: 0o600 },
    );
    r.initialized = true;
    ctx.save();
    return spawnDetached(binary(), [file], { logFile: r.logFile, pidFile: r.pidFile, cwd: r.dataDir });
  },

  async ready(ctx, pid) {
    const { host, port, password } = ctx.info.redis;
    const r = ctx.info.sandbox.servers.redis;
    await waitUntilReady({
      pid,
      timeoutMs: READY_TIMEOUT_MS,
      probe: async () => {
        const { createClient } = await import('redis');
        const client = createClient({
          socket: ctx.info.tls
            ? { host, port, connectTimeout: 2000, reconnectStrategy: false, tls: true, ca: sandboxCa(ctx.info) }
            : { host, port, connectTimeout: 2000, reconnectStrategy: false },
          password,
        });
        client.on('error', () => undefined);
        try {
          await client.connect();
          // LOADING while the AOF is replayed: not ready yet.
          return (await client.ping()) === 'PONG';
        } finally {
          client.destroy();
        }
      },
      fail: (reason, lastError) =>
        new FerryError(
          'FERRY_SANDBOX',
          `Redis ${reason === 'died' ? 'exited while starting' : `did not answer on ${host}:${port} within ${READY_TIMEOUT_MS / 1000} s`}` +
            ` (last error: ${(lastError as Error | undefined)?.message ?? 'none'}). See ${r.logFile}:\n${logTail(r.logFile)}`,
          { cause: lastError },
        ),
    });
  },
};
