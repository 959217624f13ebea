/**
 * Orchestration of the local sandbox: which servers to start or stop, in parallel, under a lock,
 * with `<dir>/sandbox.json` kept up to date (connection info, ports, passwords, pids).
 */
import { FerryError } from '../api/errors.js';
import type { ServerContext, ServerDriver } from './driver.js';
import { kafkaDriver } from './kafka.js';
import { withLock } from './lock.js';
import { mariadbDriver } from './mariadb.js';
import { type Layout, layout } from './paths.js';
import { freePorts, isPortFree } from './ports.js';
import { postgresDriver } from './postgres.js';
import { removePidFile, runningPid, stopProcessGroup } from './process.js';
import { redisDriver } from './redis.js';
import {
  changePort,
  loadSandboxFile,
  newSandboxInfo,
  saveSandboxFile,
  serverPort,
  upgradeSandboxInfo,
} from './state.js';
import { newTlsInfo } from './tls.js';
import {
  type LogFn,
  type SandboxInfo,
  type SandboxOptions,
  type SandboxUpOptions,
  SERVER_NAMES,
  type ServerName,
  type ServerStatus,
  type StopServerOptions,
} from './types.js';

const DRIVERS: Record<ServerName, ServerDriver> = {
  kafka: kafkaDriver,
  postgres: postgresDriver,
  mysql: mariadbDriver,
  redis: redisDriver,
};

const silent: LogFn = () => undefined;

function noSandbox(l: Layout): FerryError {
  return new FerryError('FERRY_SANDBOX', `no sandbox in ${l.dir} (no sandbox.json); run \`ferry sandbox up\` first.`);
}

function load(l: Layout): SandboxInfo | null {
  const info = loadSandboxFile(l.stateFile);
  if (info && info.sandbox.dir !== l.dir) {
    throw new FerryError(
      'FERRY_SANDBOX',
      `${l.stateFile} belongs to a sandbox made in ${info.sandbox.dir}; sandboxes cannot be moved. Stop it there, or delete ${l.dir} to start over.`,
    );
  }
  return info;
}

function context(l: Layout, info: SandboxInfo, log: LogFn): ServerContext {
  return { info, layout: l, log, save: () => saveSandboxFile(l.stateFile, info) };
}

/**
 * Makes sure the remembered ports are free. A server that never initialised its data moves to new
 * free ports; one with data keeps its port for good (clients and fault tests rely on it), so a
 * taken port is an error.
 */
async function ensurePorts(ctx: ServerContext, name: ServerName): Promise<void> {
  const { info } = ctx;
  const kafka = info.sandbox.servers.kafka;
  const ports =
    name === 'kafka'
      ? [serverPort(info, name), kafka.controllerPort, ...(kafka.saslPort ? [kafka.saslPort] : [])]
      : [serverPort(info, name)];
  const busy: number[] = [];
  for (const port of ports) if (!(await isPortFree(port))) busy.push(port);
  if (busy.length === 0) return;
  if (info.sandbox.servers[name].initialized) {
    throw new FerryError(
      'FERRY_SANDBOX',
      `port ${busy.join(', ')} of the sandbox's ${DRIVERS[name].label} is in use by another process (see \`ss -ltnp\`); free it, or delete ${ctx.layout.dir} to start over with new ports.`,
    );
  }
  const fresh = await freePorts(ports.length);
  changePort(info, name, fresh[0]!);
  if (name === 'kafka') {
    kafka.controllerPort = fresh[1]!;
    if (kafka.saslPort && info.tls) {
      kafka.saslPort = fresh[2]!;
      info.tls.kafkaSaslBrokers = [`127.0.0.1:${kafka.saslPort}`];
    }
  }
  ctx.log(`${name}: port ${busy.join(', ')} is taken, using ${fresh.join(', ')} instead`);
  ctx.save();
}

async function startOne(ctx: ServerContext, name: ServerName): Promise<void> {
  const driver = DRIVERS[name];
  const runtime = ctx.info.sandbox.servers[name];
  const existing = runningPid(runtime.pidFile, driver.marker(ctx.info));
  if (existing !== null) {
    runtime.pid = existing;
    await driver.ready(ctx, existing);
    ctx.log(`${name}: ${driver.label} already running (pid ${existing}, port ${serverPort(ctx.info, name)})`);
    return;
  }
  runtime.pid = null;
  await ensurePorts(ctx, name);
  const started = Date.now();
  ctx.log(`${name}: starting ${driver.label} on 127.0.0.1:${serverPort(ctx.info, name)} (log ${runtime.logFile})`);
  const pid = await driver.launch(ctx);
  runtime.pid = pid;
  ctx.save();
  try {
    await driver.ready(ctx, pid);
  } catch (err) {
    // Never leave a half-started server behind.
    await stopProcessGroup(pid, { signal: 'SIGKILL', kill: true }).catch(() => undefined);
    removePidFile(runtime.pidFile);
    runtime.pid = null;
    ctx.save();
    throw err;
  }
  ctx.log(`${name}: ${driver.label} ready in ${((Date.now() - started) / 1000).toFixed(1)} s (pid ${pid})`);
}

async function stopOne(ctx: ServerContext, name: ServerName, mode: 'graceful' | 'kill'): Promise<void> {
  const driver = DRIVERS[name];
  const runtime = ctx.info.sandbox.servers[name];
  if (!runtime) return; // a sandbox.json from before this server was added: it never ran
  const pid = runningPid(runtime.pidFile, driver.marker(ctx.info));
  if (pid === null) {
    runtime.pid = null;
    ctx.log(`${name}: ${driver.label} not running`);
    return;
  }
  const started = Date.now();
  ctx.log(`${name}: stopping ${driver.label} (pid ${pid}${mode === 'kill' ? ', SIGKILL' : ''})`);
  const how = await stopProcessGroup(pid, { signal: driver.stopSignal, kill: mode === 'kill' });
  removePidFile(runtime.pidFile);
  runtime.pid = null;
  ctx.save();
  const note = how === 'killed' && mode !== 'kill' ? ' (did not stop within 30 s: killed)' : '';
  ctx.log(`${name}: ${driver.label} stopped in ${((Date.now() - started) / 1000).toFixed(1)} s${note}`);
}

/** Runs `fn` for each server in parallel; every server gets its turn, then the first failure is thrown. */
async function forEachServer(names: readonly ServerName[], fn: (name: ServerName) => Promise<void>): Promise<void> {
  const results = await Promise.allSettled(names.map(fn));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) {
    const message = failures.map((f) => (f instanceof Error ? f.message : String(f))).join('\n---\n');
    throw new FerryError('FERRY_SANDBOX', `${failures.length} sandbox servers failed:\n${message}`, {
      cause: failures[0],
    });
  }
}

/** Starts every server of the sandbox (or `only` some) that is not running yet; returns the connection info. */
export async function sandboxUp(opts: SandboxUpOptions = {}): Promise<SandboxInfo> {
  const l = layout(opts.dir);
  const names = opts.only ?? SERVER_NAMES;
  return withLock(l.lockFile, async () => {
    let info = load(l);
    if (!info) {
      info = await newSandboxInfo(l);
      if (opts.tls) {
        const [saslPort] = (await freePorts(1)) as [number];
        info.sandbox.servers.kafka.saslPort = saslPort;
        info.tls = await newTlsInfo(l, saslPort, opts.log ?? silent);
      }
      saveSandboxFile(l.stateFile, info);
    } else if (opts.tls && !info.tls) {
      throw new FerryError(
        'FERRY_SANDBOX',
        `the sandbox in ${l.dir} was made without --tls; a sandbox keeps its mode: use another --dir for a TLS sandbox, or delete ${l.dir} to start over.`,
      );
    } else if (await upgradeSandboxInfo(l, info)) {
      saveSandboxFile(l.stateFile, info);
    }
    const ctx = context(l, info, opts.log ?? silent);
    try {
      await forEachServer(names, (name) => startOne(ctx, name));
    } finally {
      ctx.save();
    }
    return info;
  });
}

/** Stops every server of the sandbox; data, ports and passwords stay for the next `sandboxUp`. */
export async function sandboxDown(opts: SandboxOptions = {}): Promise<void> {
  const l = layout(opts.dir);
  await withLock(l.lockFile, async () => {
    const info = load(l);
    if (!info) {
      (opts.log ?? silent)(`no sandbox in ${l.dir}`);
      return;
    }
    const ctx = context(l, info, opts.log ?? silent);
    try {
      await forEachServer(SERVER_NAMES, (name) => stopOne(ctx, name, 'graceful'));
    } finally {
      ctx.save();
    }
  });
}

/** Starts one server of an existing sandbox (same port, same data). */
export async function startServer(name: ServerName, opts: SandboxOptions = {}): Promise<SandboxInfo> {
  const l = layout(opts.dir);
  if (!load(l)) throw noSandbox(l);
  return sandboxUp({ ...opts, only: [name] });
}

/** Stops one server, keeping its data and port (fault tests: an outage of PostgreSQL, a Kafka crash...). */
export async function stopServer(name: ServerName, opts: StopServerOptions = {}): Promise<void> {
  const l = layout(opts.dir);
  await withLock(l.lockFile, async () => {
    const info = load(l);
    if (!info) throw noSandbox(l);
    const ctx = context(l, info, opts.log ?? silent);
    await stopOne(ctx, name, opts.mode ?? 'graceful');
  });
}

/** The sandbox's sandbox.json (connection info and bookkeeping). Synchronous, for test setup code. */
export function readSandboxInfo(dir?: string): SandboxInfo {
  const l = layout(dir);
  const info = load(l);
  if (!info) throw noSandbox(l);
  return info;
}

/** Which servers run right now (from their pid files, not from sandbox.json). */
export function sandboxStatus(opts: SandboxOptions = {}): Record<ServerName, ServerStatus> {
  const info = readSandboxInfo(opts.dir);
  const status = (name: ServerName): ServerStatus => {
    const runtime = info.sandbox.servers[name];
    const pid = runningPid(runtime.pidFile, DRIVERS[name].marker(info));
    return { running: pid !== null, pid, port: serverPort(info, name), logFile: runtime.logFile };
  };
  return {
    kafka: status('kafka'),
    postgres: status('postgres'),
    mysql: status('mysql'),
    redis: info.redis ? status('redis') : { running: false, pid: null, port: 0, logFile: '' },
  };
}
