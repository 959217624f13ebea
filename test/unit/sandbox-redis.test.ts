import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { layout } from '../../src/sandbox/paths.js';
import { redisConfig } from '../../src/sandbox/redis.js';
import { newSandboxInfo, upgradeSandboxInfo } from '../../src/sandbox/state.js';
import type { SandboxInfo } from '../../src/sandbox/types.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-redis-sb-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sandbox Redis', () => {
  it('gets its own port, password and data dir in a new sandbox.json', async () => {
    const l = layout(dir);
    const info = await newSandboxInfo(l);
    const ports = [info.redis.port, info.mysql.port, info.postgres.port, info.sandbox.servers.kafka.controllerPort];
    expect(new Set(ports).size).toBe(4);
    expect(info.redis.port).not.toBe(6379);
    expect(info.redis.url).toBe(`redis://default:${info.redis.password}@127.0.0.1:${info.redis.port}`);
    expect(info.sandbox.servers.redis).toMatchObject({ dataDir: join(l.dir, 'redis', 'data'), initialized: false });
  });

  it('is added to a sandbox.json written before Redis was part of the sandbox', async () => {
    const l = layout(dir);
    const old = (await newSandboxInfo(l)) as Partial<SandboxInfo> & SandboxInfo;
    delete (old as Partial<SandboxInfo>).redis;
    delete (old.sandbox.servers as Partial<SandboxInfo['sandbox']['servers']>).redis;
    expect(await upgradeSandboxInfo(l, old)).toBe(true);
    expect(old.redis.port).toBeGreaterThan(0);
    expect(await upgradeSandboxInfo(l, old)).toBe(false);
  });

  it('runs with AOF on, RDB off, loopback only, a password, and its config path in the process title', () => {
    const conf = redisConfig({ port: 7000, dataDir: '/x y/data', logFile: '/x y/redis.log', password: 'p"w' });
    const lines = conf.split('\n');
    for (const line of [
      'port 7000',
      'bind 127.0.0.1',
      'appendonly yes',
      'save ""',
      'daemonize no',
      'dir "/x y/data"',
    ]) {
      expect(lines).toContain(line);
    }
    expect(lines).toContain('requirepass "p\\"w"');
    expect(conf).toContain('{config-file}');
  });
});
