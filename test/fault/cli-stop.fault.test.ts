/**
 * The bounds of a graceful stop, with a `ferry run` that cannot finish stopping: its Kafka
 * "broker" is a TCP server that accepts connections and reads requests but never answers, so
 * the sink waits in its Kafka connect (kafkajs' request timeout is 30 s, past any bound here).
 * The test signals only once that server has received the sink's first request, so the stop is
 * unable to finish by construction, not by timing. One SIGTERM waits at most --stop-timeout and
 * then exits 1; a second SIGTERM exits at once (143, as for a kill by SIGTERM).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSourceShop,
  dropSourceDatabase,
  ensureCliBuilt,
  type FerryProcess,
  freePort,
  mariadbToPostgresConfig,
  pipelineEnv,
  runFerry,
  startFerry,
  testDir,
  writeConfig,
} from '../helpers/cli.js';
import { uniqueName } from '../helpers/sandbox.js';

const name = uniqueName('cli_bound');
const db = name;
let file = '';
const processes: FerryProcess[] = [];
/** Everything the silent broker has received, all connections together (latin1 keeps bytes). */
let received = '';
const sockets = new Set<Socket>();
let silent: Server | null = null;

beforeAll(async () => {
  ensureCliBuilt();
  await createSourceShop(db, 5, 5);
  silent = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => silent!.listen(0, '127.0.0.1', resolve));
  const port = (silent.address() as { port: number }).port;
  file = writeConfig(
    testDir(name),
    name,
    mariadbToPostgresConfig({
      name,
      sourceDatabase: db,
      metricsPort: await freePort(),
      edit: (t) => t.replace(/^ {2}brokers: .*$/m, `  brokers: ["127.0.0.1:${port}"]`),
    }),
  );
}, 300_000);

afterAll(async () => {
  for (const p of processes) await p.stop('SIGKILL');
  for (const socket of sockets) socket.destroy();
  await new Promise((r) => silent?.close(r) ?? r(undefined));
  await dropSourceDatabase(db);
});

async function started(args: string[]): Promise<FerryProcess> {
  received = '';
  const p = startFerry(args, pipelineEnv());
  processes.push(p);
  await p.waitForOutput(/starting: mysql → Kafka → postgres/, 30_000);
  // Stuck for good: the sink's Kafka client (client id ferry-<name>-sink, in every request
  // header) has sent a request the broker will never answer.
  const sinkClient = `ferry-${name}-sink`;
  const deadline = Date.now() + 60_000;
  while (!received.includes(sinkClient)) {
    if (p.child.exitCode !== null) throw new Error(`ferry exited (${p.child.exitCode}) before reaching Kafka`);
    if (Date.now() > deadline) throw new Error(`the sink's Kafka client never sent a request to the broker`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return p;
}

describe('ferry run: bounded stop', () => {
  it('a graceful stop that cannot finish is cut off at --stop-timeout with exit 1', async () => {
    const p = await started(['run', '-c', file, '--stop-timeout', '2']);
    const t0 = Date.now();
    const res = await p.stop('SIGTERM');
    const took = Date.now() - t0;
    expect(res.code).toBe(1);
    expect(took).toBeGreaterThanOrEqual(1900);
    expect(took).toBeLessThan(8000);
    expect(res.stderr).toContain('SIGTERM: stopping gracefully (send it again to exit at once)');
    expect(res.stderr).toContain('graceful stop took longer than 2s; exiting');
  });

  it('a second signal exits at once', async () => {
    const p = await started(['run', '-c', file]);
    p.child.kill('SIGTERM');
    await p.waitForOutput(/stopping gracefully/, 10_000);
    const t0 = Date.now();
    const res = await p.stop('SIGTERM');
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(res.code).toBe(143);
    expect(res.stderr).toContain('SIGTERM again: exiting now without a graceful stop');
  });

  it('--stop-timeout must be seconds (exit 2)', async () => {
    const res = await runFerry(['run', '-c', file, '--stop-timeout', 'soon'], pipelineEnv());
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("option '--stop-timeout <seconds>' argument 'soon' is invalid");
  });
});
