import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FerryError } from '../api/errors.js';
import type { ServerName } from './types.js';

const PACKAGE_NAME = 'ferry-cdc';

/**
 * The ferry project (package) root: the nearest ancestor of this file holding ferry's
 * package.json. Works from src/sandbox (tests, vitest) and from dist/src/sandbox (compiled CLI),
 * and from an installed package (node_modules/ferry-cdc/dist/src/sandbox).
 */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME) return dir;
      } catch {
        // not ours or unreadable: keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir) {
      throw new FerryError(
        'FERRY_SANDBOX',
        `cannot find the ferry project root (package.json of ${PACKAGE_NAME}) above ${fileURLToPath(import.meta.url)}; reinstall ferry.`,
      );
    }
    dir = parent;
  }
}

/** `<project root>/.ferry`: the default sandbox directory. */
export function defaultSandboxDir(): string {
  return join(projectRoot(), '.ferry');
}

/** Downloads shared by all sandboxes (Kafka jars): env FERRY_CACHE_DIR, else `<project root>/.ferry/cache`. */
export function cacheDir(): string {
  const fromEnv = process.env['FERRY_CACHE_DIR'];
  return fromEnv ? resolve(fromEnv) : join(projectRoot(), '.ferry', 'cache');
}

export const LOG_FILE_NAMES: Record<ServerName, string> = {
  kafka: 'kafka.log',
  postgres: 'postgres.log',
  mysql: 'mariadb.log',
  redis: 'redis.log',
};

/** Where everything of one sandbox lives. */
export interface Layout {
  dir: string;
  stateFile: string;
  logsDir: string;
  runDir: string;
  lockFile: string;
  kafkaDir: string;
  postgresDir: string;
  mariadbDir: string;
  redisDir: string;
  logFile(name: ServerName): string;
  pidFile(name: ServerName): string;
}

export function layout(dirOption?: string): Layout {
  const dir = resolve(dirOption ?? defaultSandboxDir());
  const logsDir = join(dir, 'logs');
  const runDir = join(dir, 'run');
  return {
    dir,
    stateFile: join(dir, 'sandbox.json'),
    logsDir,
    runDir,
    lockFile: join(runDir, 'sandbox.lock'),
    kafkaDir: join(dir, 'kafka'),
    postgresDir: join(dir, 'postgres'),
    mariadbDir: join(dir, 'mariadb'),
    redisDir: join(dir, 'redis'),
    logFile: (name) => join(logsDir, LOG_FILE_NAMES[name]),
    pidFile: (name) => join(runDir, `${name}.pid`),
  };
}

/** Unix socket paths must fit in sun_path (108 bytes including the NUL). */
export const MAX_SOCKET_PATH_BYTES = 100;

/**
 * A unix socket path `<preferredDir>/<file>`, or, when that is too long for sun_path, one under
 * the OS temp dir in a folder named after a hash of the sandbox dir (stable across restarts).
 */
export function socketPath(preferredDir: string, file: string, sandboxDir: string): string {
  const preferred = join(preferredDir, file);
  if (Buffer.byteLength(preferred) <= MAX_SOCKET_PATH_BYTES) return preferred;
  return join(tmpdir(), `ferry-${shortHash(sandboxDir)}`, file);
}

export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}
