import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { layout, MAX_SOCKET_PATH_BYTES, socketPath } from '../../src/sandbox/paths.js';
import { changePort, loadSandboxFile, newSandboxInfo, saveSandboxFile, serverPort } from '../../src/sandbox/state.js';

const made: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-state-'));
  made.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

describe('sandbox.json', () => {
  it('is created with distinct ports and passwords and round-trips', async () => {
    const l = layout(tempDir());
    const info = await newSandboxInfo(l);
    const ports = [
      serverPort(info, 'kafka'),
      info.sandbox.servers.kafka.controllerPort,
      info.postgres.port,
      info.mysql.port,
    ];
    expect(new Set(ports).size).toBe(4);
    expect(info.kafka.brokers).toEqual([`127.0.0.1:${ports[0]}`]);
    expect(info.mysql).toMatchObject({ host: '127.0.0.1', user: 'ferry', rootUser: 'root' });
    expect(info.postgres).toMatchObject({ host: '127.0.0.1', user: 'ferry', database: 'ferry', superUser: 'postgres' });
    expect(info.postgres.url).toBe(`postgres://ferry:${info.postgres.password}@127.0.0.1:${info.postgres.port}/ferry`);
    expect(
      new Set([info.mysql.password, info.mysql.rootPassword, info.postgres.password, info.postgres.superPassword]).size,
    ).toBe(4);
    expect(info.sandbox.servers.postgres.pidFile).toBe(join(l.dir, 'run', 'postgres.pid'));
    expect(info.sandbox.servers.mysql.logFile).toBe(join(l.dir, 'logs', 'mariadb.log'));

    saveSandboxFile(l.stateFile, info);
    expect(loadSandboxFile(l.stateFile)).toEqual(info);
  });

  it('moves a server to another port and keeps urls in step', async () => {
    const info = await newSandboxInfo(layout(tempDir()));
    changePort(info, 'kafka', 1234);
    changePort(info, 'mysql', 2345);
    changePort(info, 'postgres', 3456);
    expect(info.kafka.brokers).toEqual(['127.0.0.1:1234']);
    expect(info.mysql.url).toContain('@127.0.0.1:2345');
    expect(info.postgres.url).toContain('@127.0.0.1:3456/');
  });

  it('is null when missing and an error when foreign', () => {
    const l = layout(tempDir());
    mkdirSync(l.dir, { recursive: true });
    expect(loadSandboxFile(l.stateFile)).toBeNull();
    writeFileSync(l.stateFile, '{"kafka":{}}');
    expect(() => loadSandboxFile(l.stateFile)).toThrow(/not a ferry sandbox file/);
    writeFileSync(l.stateFile, '{');
    expect(() => loadSandboxFile(l.stateFile)).toThrow(/not valid JSON/);
  });
});

describe('socketPath', () => {
  it('keeps short paths and moves long ones under the temp dir, stably', () => {
    expect(socketPath('/tmp/s/run', 'mariadb.sock', '/tmp/s')).toBe('/tmp/s/run/mariadb.sock');
    const deep = `/tmp/${'x'.repeat(120)}`;
    const a = socketPath(`${deep}/run`, 'mariadb.sock', deep);
    expect(Buffer.byteLength(a)).toBeLessThanOrEqual(MAX_SOCKET_PATH_BYTES);
    expect(a).toBe(socketPath(`${deep}/run`, 'mariadb.sock', deep));
    expect(a.startsWith(tmpdir())).toBe(true);
  });
});
