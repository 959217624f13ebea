/**
 * A lock file per sandbox dir, so two processes (say a test run and `ferry sandbox up`) never
 * start the same server twice or write sandbox.json at the same time. The file holds the owner's
 * pid; a lock whose owner died (Ctrl-C) is taken over.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FerryError } from '../api/errors.js';
import { isAlive } from './process.js';

const held = new Map<string, Promise<void>>();

function tryAcquire(file: string): boolean {
  try {
    writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const owner = Number.parseInt(readFileSync(file, 'utf8').trim() || '0', 10);
  // Callers of this process are serialised by the queue, so a file naming this pid is a leftover.
  if (owner > 0 && owner !== process.pid && isAlive(owner)) return false;
  rmSync(file, { force: true }); // stale: owner died
  return false;
}

/** Runs `fn` holding the lock of `file`; waits up to timeoutMs for another holder. */
export async function withLock<T>(file: string, fn: () => Promise<T>, timeoutMs = 15 * 60_000): Promise<T> {
  mkdirSync(dirname(file), { recursive: true });
  // Callers inside this process queue up here first; only the head of the queue takes the file.
  const previous = held.get(file) ?? Promise.resolve();
  let release!: () => void;
  const current = new Promise<void>((resolve) => {
    release = resolve;
  });
  const chained = previous.then(() => current);
  held.set(file, chained);
  await previous;
  try {
    const deadline = Date.now() + timeoutMs;
    while (!tryAcquire(file)) {
      if (Date.now() >= deadline) {
        throw new FerryError(
          'FERRY_SANDBOX',
          `the sandbox is locked by another process (${file}); wait for it or remove the file if no ferry process runs.`,
        );
      }
      await sleep(200);
    }
    try {
      return await fn();
    } finally {
      rmSync(file, { force: true });
    }
  } finally {
    release();
    if (held.get(file) === chained) held.delete(file);
  }
}
