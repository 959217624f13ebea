import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  groupMembers,
  isAlive,
  readPidFile,
  runningPid,
  spawnDetached,
  stopProcessGroup,
  writePidFile,
} from '../../src/sandbox/process.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-sandbox-unit-'));
const started: number[] = [];

afterAll(() => rmSync(dir, { recursive: true, force: true }));

afterEach(() => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

/** A pid that is certainly dead: a child that already exited and was reaped. */
async function deadPid(): Promise<number> {
  const child = spawn('true');
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

describe('pid files', () => {
  it('reads back what it wrote and ignores missing or garbage files', () => {
    const file = join(dir, 'a.pid');
    expect(readPidFile(file)).toBeNull();
    writePidFile(file, 4242);
    expect(readPidFile(file)).toBe(4242);
    writeFileSync(file, 'not a pid\n');
    expect(readPidFile(file)).toBeNull();
    writeFileSync(file, '-5\n');
    expect(readPidFile(file)).toBeNull();
  });

  it('removes a stale pid file whose process is dead', async () => {
    const file = join(dir, 'stale.pid');
    writePidFile(file, await deadPid());
    expect(runningPid(file, 'anything')).toBeNull();
    expect(readPidFile(file)).toBeNull();
  });

  it('does not adopt a live pid that runs another program', () => {
    const file = join(dir, 'other.pid');
    writePidFile(file, process.pid); // alive, but its command line lacks the marker
    expect(runningPid(file, '/no/such/sandbox/marker')).toBeNull();
    expect(readPidFile(file)).toBeNull();
  });
});

describe('detached processes', () => {
  it('spawns a detached process group, finds it by marker and stops the whole group', async () => {
    const pidFile = join(dir, 'group.pid');
    const marker = `ferry-unit-${process.pid}`;
    // A leader that ignores SIGTERM with a child in its group: the stop must escalate to SIGKILL of the group.
    const script = `trap '' TERM; sleep 300 & wait # ${marker}`;
    const pid = await spawnDetached('sh', ['-c', script], { logFile: join(dir, 'group.log'), pidFile });
    started.push(pid);
    expect(readPidFile(pidFile)).toBe(pid);
    expect(runningPid(pidFile, marker)).toBe(pid);
    await expect.poll(() => groupMembers(pid).length).toBeGreaterThanOrEqual(2);
    const how = await stopProcessGroup(pid, { signal: 'SIGTERM', graceMs: 500 });
    expect(how).toBe('killed');
    expect(isAlive(pid)).toBe(false);
    expect(groupMembers(pid)).toEqual([]);
  });

  it('stops a cooperative process with its signal', async () => {
    const pid = await spawnDetached('sleep', ['300'], {
      logFile: join(dir, 'sleep.log'),
      pidFile: join(dir, 'sleep.pid'),
    });
    started.push(pid);
    expect(await stopProcessGroup(pid, { signal: 'SIGTERM' })).toBe('stopped');
    expect(isAlive(pid)).toBe(false);
  });

  it('reports a missing program as a FerryError', async () => {
    await expect(
      spawnDetached('/no/such/program', [], { logFile: join(dir, 'x.log'), pidFile: join(dir, 'x.pid') }),
    ).rejects.toMatchObject({
      code: 'FERRY_SANDBOX',
    });
  });
});
