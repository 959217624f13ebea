import { describe, expect, it } from 'vitest';
import { FerryError } from '../../src/api/errors.js';
import { configFromObject } from '../../src/config/index.js';
import { SinkThread } from '../../src/pipeline/sink-thread.js';

const config = configFromObject(
  {
    name: 'thread-test',
    kafka: { brokers: ['127.0.0.1:9'] },
    source: { kind: 'mysql', url: 'mysql://u:p@127.0.0.1:1/db', tables: ['db.*'] },
    sink: { kind: 'postgres', url: 'postgres://u:p@127.0.0.1:1/db' },
  },
  { env: {} },
);
const data = { config, logFormat: 'json' as const, isTTY: false };

/** A worker module given as source text (the real one is dist/src/pipeline/sink-worker.js). */
function worker(body: string): URL {
  const code = `import { parentPort } from 'node:worker_threads';\nconst port = parentPort;\n${body}`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

describe('SinkThread (the sink half of ferry run on its own thread)', () => {
  it('a sink thread that dies reports a FerryError naming the sink thread', async () => {
    const t = new SinkThread(data, () => undefined, worker("throw new Error('boom in the sink');"));
    const err = await t.run().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FerryError);
    expect((err as FerryError).code).toBe('FERRY_INTERNAL');
    expect((err as Error).message).toMatch(/sink thread of ferry run failed: boom in the sink/);
  });

  it("the sink's own error keeps its code and message", async () => {
    const t = new SinkThread(
      data,
      () => undefined,
      worker(
        "port.postMessage({ t: 'failed', error: { name: 'FerryError', message: 'the target refused', code: 'FERRY_CONNECTION', retriable: true } }); port.unref();",
      ),
    );
    const err = await t.run().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FerryError);
    expect((err as FerryError).code).toBe('FERRY_CONNECTION');
    expect((err as Error).message).toBe('the target refused');
  });

  it('a thread that ends without a word is a failure, not a clean stop', async () => {
    const t = new SinkThread(data, () => undefined, worker('port.unref();'));
    await expect(t.run()).rejects.toThrow(/ended unexpectedly/);
  });

  it('stop() stops the thread gracefully; logs and figures reach the main thread', async () => {
    const lines: string[] = [];
    const t = new SinkThread(
      data,
      (l) => lines.push(l),
      worker(`
        port.on('message', (m) => {
          if (m.t === 'metrics') port.postMessage({ t: 'metrics', id: m.id, json: [], figures: { applied: 7, lastSinkCommitMs: 5, pendingEvents: 2 } });
          if (m.t === 'stop') {
            port.postMessage({ t: 'log', line: 'sink stopped\\n' });
            port.postMessage({ t: 'stopped' });
            port.removeAllListeners('message');
            port.unref();
          }
        });`),
    );
    expect(await t.figures()).toEqual({ applied: 7, lastSinkCommitMs: 5, pendingEvents: 2 });
    await t.stop();
    await expect(t.run()).resolves.toBeUndefined();
    expect(lines).toEqual(['sink stopped\n']);
    expect(await t.metrics()).toEqual([]);
  });
});
