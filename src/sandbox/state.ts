/**
 * `<dir>/sandbox.json`: the sandbox's connection info (the contract read by tests, demo and
 * benchmarks) and its bookkeeping. Created once with free ports and random passwords; ports,
 * passwords and the Kafka cluster id are then remembered so a restart keeps data and addresses.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FerryError } from '../api/errors.js';
import type { Layout } from './paths.js';
import { socketPath } from './paths.js';
import { freePorts } from './ports.js';
import { kafkaClusterId, randomPassword } from './random.js';
import type { SandboxInfo, ServerName } from './types.js';

const HOST = '127.0.0.1';

export function mysqlUrl(info: SandboxInfo['mysql']): string {
  return `mysql://${encodeURIComponent(info.user)}:${encodeURIComponent(info.password)}@${info.host}:${info.port}`;
}

export function postgresUrl(info: SandboxInfo['postgres']): string {
  return `postgres://${encodeURIComponent(info.user)}:${encodeURIComponent(info.password)}@${info.host}:${info.port}/${encodeURIComponent(info.database)}`;
}

export function redisUrl(info: SandboxInfo['redis']): string {
  return `redis://default:${encodeURIComponent(info.password)}@${info.host}:${info.port}`;
}

/** The Redis part of a sandbox (new sandboxes, and sandbox.json files made before Redis was added). */
export async function newRedisInfo(
  l: Layout,
  freePort?: number,
): Promise<Pick<SandboxInfo, 'redis'> & { runtime: SandboxInfo['sandbox']['servers']['redis'] }> {
  const port = freePort ?? ((await freePorts(1)) as [number])[0];
  const redis = { host: HOST, port, password: randomPassword(), url: '' };
  redis.url = redisUrl(redis);
  const runtime = {
    pid: null,
    pidFile: l.pidFile('redis'),
    logFile: l.logFile('redis'),
    dataDir: join(l.redisDir, 'data'),
    initialized: false,
  };
  return { redis, runtime };
}

/** Adds what a sandbox.json written by an older ferry lacks (Redis). */
export async function upgradeSandboxInfo(l: Layout, info: SandboxInfo): Promise<boolean> {
  if (info.redis && info.sandbox.servers.redis) return false;
  const { redis, runtime } = await newRedisInfo(l);
  info.redis = redis;
  info.sandbox.servers.redis = runtime;
  return true;
}

/** A fresh sandbox description: new free ports, new passwords, nothing initialised yet. */
export async function newSandboxInfo(l: Layout): Promise<SandboxInfo> {
  const [kafkaPort, controllerPort, postgresPort, mysqlPort, redisPort] = (await freePorts(5)) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const mysql = {
    host: HOST,
    port: mysqlPort,
    user: 'ferry',
    password: randomPassword(),
    rootUser: 'root',
    rootPassword: randomPassword(),
    url: '',
  };
  mysql.url = mysqlUrl(mysql);
  const postgres = {
    host: HOST,
    port: postgresPort,
    user: 'ferry',
    password: randomPassword(),
    database: 'ferry',
    superUser: 'postgres',
    superPassword: randomPassword(),
    url: '',
  };
  postgres.url = postgresUrl(postgres);
  const runtime = (name: ServerName, dataDir: string) => ({
    pid: null,
    pidFile: l.pidFile(name),
    logFile: l.logFile(name),
    dataDir,
    initialized: false,
  });
  const { redis, runtime: redisRuntime } = await newRedisInfo(l, redisPort);
  return {
    kafka: { brokers: [`${HOST}:${kafkaPort}`] },
    mysql,
    postgres,
    redis,
    sandbox: {
      version: 1,
      dir: l.dir,
      updatedAt: new Date().toISOString(),
      servers: {
        kafka: {
          ...runtime('kafka', join(l.kafkaDir, 'data')),
          controllerPort,
          clusterId: kafkaClusterId(),
          configFile: join(l.kafkaDir, 'config', 'server.properties'),
        },
        postgres: { ...runtime('postgres', join(l.postgresDir, 'data')), binDir: null, osUser: null },
        mysql: { ...runtime('mysql', join(l.mariadbDir, 'data')), socket: socketPath(l.runDir, 'mariadb.sock', l.dir) },
        redis: redisRuntime,
      },
    },
  };
}

/** The port a server listens on (Kafka: the client listener). */
export function serverPort(info: SandboxInfo, name: ServerName): number {
  if (name === 'kafka') {
    const port = Number((info.kafka.brokers[0] ?? '').split(':').pop());
    if (!Number.isInteger(port))
      throw new FerryError('FERRY_SANDBOX', `sandbox.json: bad kafka.brokers ${JSON.stringify(info.kafka.brokers)}`);
    return port;
  }
  return info[name].port;
}

/** Moves a never-initialised server to another port (its remembered one is taken). */
export function changePort(info: SandboxInfo, name: ServerName, port: number): void {
  if (name === 'kafka') info.kafka.brokers = [`${HOST}:${port}`];
  else if (name === 'redis') {
    info.redis.port = port;
    info.redis.url = redisUrl(info.redis);
  } else if (name === 'mysql') {
    info.mysql.port = port;
    info.mysql.url = mysqlUrl(info.mysql);
  } else {
    info.postgres.port = port;
    info.postgres.url = postgresUrl(info.postgres);
  }
}

function looksLikeSandboxInfo(value: unknown): value is SandboxInfo {
  const v = value as Partial<SandboxInfo> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    Array.isArray(v.kafka?.brokers) &&
    typeof v.mysql?.port === 'number' &&
    typeof v.postgres?.port === 'number' &&
    v.sandbox?.version === 1 &&
    typeof v.sandbox.servers === 'object'
  );
}

/** Reads a sandbox.json; null when the file does not exist. */
export function loadSandboxFile(file: string): SandboxInfo | null {
  if (!existsSync(file)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new FerryError(
      'FERRY_SANDBOX',
      `${file} is not valid JSON (${(err as Error).message}); run \`ferry sandbox down\` and delete the sandbox directory to start over.`,
      { cause: err },
    );
  }
  if (!looksLikeSandboxInfo(parsed)) {
    throw new FerryError(
      'FERRY_SANDBOX',
      `${file} is not a ferry sandbox file of this version; delete the sandbox directory ${file.replace(/\/sandbox\.json$/, '')} to start over.`,
    );
  }
  return parsed;
}

/** Writes sandbox.json atomically (temp file + rename), readable by the owner only (it holds passwords). */
export function saveSandboxFile(file: string, info: SandboxInfo): void {
  info.sandbox.updatedAt = new Date().toISOString();
  mkdirSync(join(file, '..'), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}
