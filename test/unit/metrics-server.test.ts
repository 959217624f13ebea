import { afterEach, describe, expect, it } from 'vitest';
import { FerryMetrics } from '../../src/metrics/metrics.js';
import { type MetricsServer, startMetricsServer } from '../../src/metrics/server.js';

let server: MetricsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('metrics HTTP listener', () => {
  it('serves ferry_ metrics with the pipeline label, and health endpoints', async () => {
    const metrics = new FerryMetrics('shop-move');
    metrics.sourceEvents.inc({ table: 'shop.orders', op: 'c' }, 3);
    metrics.lastSourceCommitMs = Date.now() - 5000;
    let ready = false;
    server = await startMetricsServer('127.0.0.1:0', metrics, {
      ready: () => (ready ? { ready } : { ready, reason: 'source not connected' }),
    });
    const base = `http://${server.address}`;
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain('ferry_source_events_total{table="shop.orders",op="c",pipeline="shop-move"} 3');
    const lag = Number(/ferry_source_lag_seconds\{pipeline="shop-move"\} ([\d.]+)/.exec(text)?.[1]);
    expect(lag).toBeGreaterThanOrEqual(5);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ status: 'not ready', reason: 'source not connected' });
    ready = true;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });

  it('rejects a listen address that is not host:port, naming the field', async () => {
    await expect(
      startMetricsServer('localhost:http', new FerryMetrics('p'), { ready: () => ({ ready: true }) }),
    ).rejects.toThrow(/metrics\.listen: "localhost:http" is not host:port/);
  });
});
