/**
 * Server processes of the sandbox: spawned detached (own session and process group, stdio to a
 * log file) so they outlive the `ferry sandbox up` process, tracked by pid files, stopped with
 * their own shutdown signal and, after a grace period, SIGKILL of the whole process group.
 *
 * Liveness is read from /proc (Linux): a zombie counts as dead, because the sandbox's servers may
 * be re-parented to a PID 1 that never reaps them.
 */
import { spawn } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FerryError } from '../api/errors.js';

/** The pid in a pid file, or null when the file is missing or holds no positive integer. */
export function readPidFile(file: string): number | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return null;
  const pid = Number(trimmed);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
}

export function writePidFile(file: string, pid: number): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${pid}\n`);
  renameSync(tmp, file);
}

export function removePidFile(file: string): void {
  rmSync(file, { force: true });
}

/** `/proc/<pid>/stat` fields after the command name: [state, ppid, pgrp, ...], or null. */
function procStat(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may itself contain spaces and parentheses.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

const HAS_PROC = (() => {
  try {
    return statSync('/proc/self/stat').isFile();
  } catch {
    return false;
  }
})();

/** Whether `pid` is a live (non-zombie) process. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (!HAS_PROC) return true;
  const stat = procStat(pid);
  return stat !== null && stat[0] !== 'Z' && stat[0] !== 'X';
}

/** Live (non-zombie) members of process group `pgid`. */
export function groupMembers(pgid: number): number[] {
  if (!HAS_PROC) {
    try {
      process.kill(-pgid, 0);
      return [pgid];
    } catch {
      return [];
    }
  }
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (stat && stat[2] === String(pgid) && stat[0] !== 'Z' && stat[0] !== 'X') members.push(Number(entry));
  }
  return members;
}

/** The command line of `pid` joined with spaces, or null when unknown. */
export function commandLine(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return null;
  }
}

/**
 * Whether the pid is alive AND is the server we started: its command line contains `marker`
 * (the data dir or config file path), so a recycled pid is never adopted or killed.
 */
export function isOurProcess(pid: number, marker: string): boolean {
  if (!isAlive(pid)) return false;
  const cmd = commandLine(pid);
  return cmd === null ? !HAS_PROC : cmd.includes(marker);
}

/**
 * The running server recorded in `pidFile`, or null. A stale pid file (dead pid, or a pid now used
 * by another program) is removed.
 */
export function runningPid(pidFile: string, marker: string): number | null {
  const pid = readPidFile(pidFile);
  if (pid === null) {
    removePidFile(pidFile);
    return null;
  }
  if (isOurProcess(pid, marker)) return pid;
  removePidFile(pidFile);
  return null;
}

export interface SpawnOptions {
  logFile: string;
  pidFile: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
}

/** Starts a long-running server detached from this process; returns its pid (also its pgid). */
export async function spawnDetached(command: string, args: string[], options: SpawnOptions): Promise<number> {
  mkdirSync(dirname(options.logFile), { recursive: true });
  const fd = openSync(options.logFile, 'a');
  try {
    const child = spawn(command, args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      cwd: options.cwd,
      env: options.env ?? process.env,
      uid: options.uid,
      gid: options.gid,
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    }).catch((err: unknown) => {
      throw new FerryError('FERRY_SANDBOX', `cannot start ${command}: ${(err as Error).message}. Is it installed?`, {
        cause: err,
      });
    });
    child.unref();
    const pid = child.pid;
    if (pid === undefined) throw new FerryError('FERRY_SANDBOX', `cannot start ${command}: no pid`);
    writePidFile(options.pidFile, pid);
    return pid;
  } finally {
    closeSync(fd);
  }
}

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!isAlive(pid) && groupMembers(pid).length === 0) return true;
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // group already gone
  }
}

export interface StopOptions {
  /** The server's own clean-shutdown signal, sent to the leader only. */
  signal: NodeJS.Signals;
  graceMs?: number;
  /** SIGKILL the process group at once. */
  kill?: boolean;
}

/**
 * Stops the process group led by `pid`: `signal` to the leader, wait up to graceMs for the leader
 * AND every process of its group (postgres backends, JVM helpers) to exit, then SIGKILL the group.
 * Returns how it ended.
 */
export async function stopProcessGroup(pid: number, options: StopOptions): Promise<'stopped' | 'killed'> {
  if (options.kill) {
    signalGroup(pid, 'SIGKILL');
  } else {
    try {
      process.kill(pid, options.signal);
    } catch {
      // leader already gone; orphans of its group are handled below
    }
    if (await waitGone(pid, options.graceMs ?? 30_000)) return 'stopped';
    signalGroup(pid, 'SIGKILL');
  }
  if (await waitGone(pid, 10_000)) return 'killed';
  throw new FerryError(
    'FERRY_SANDBOX',
    `process ${pid} (or a process of its group) survives SIGKILL: ${groupMembers(pid).join(', ')}. Check \`ps -o pid,stat,args -g ${pid}\`.`,
  );
}

/** The last `maxBytes` of a log file, for error messages. */
export function logTail(file: string, maxBytes = 2000): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return '';
  }
  try {
    const size = statSync(file).size;
    const start = Math.max(0, size - maxBytes);
    const buffer = Buffer.alloc(size - start);
    readSync(fd, buffer, 0, buffer.length, start);
    return buffer.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * Polls `probe` every intervalMs until it returns true. Throws the FerryError from `fail` when the
 * process `pid` died or timeoutMs passed. Probe errors count as "not yet", except FerryErrors.
 */
export async function waitUntilReady(options: {
  probe: () => Promise<boolean>;
  pid: number;
  timeoutMs: number;
  intervalMs?: number;
  fail: (reason: 'died' | 'timeout', lastError: unknown) => FerryError;
}): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await options.probe()) return;
    } catch (err) {
      // A FerryError from the probe is a verdict (e.g. wrong credentials), not "not ready yet".
      if (err instanceof FerryError) throw err;
      lastError = err;
    }
    if (!isAlive(options.pid)) throw options.fail('died', lastError);
    if (Date.now() >= deadline) throw options.fail('timeout', lastError);
    await sleep(options.intervalMs ?? 250);
  }
}
