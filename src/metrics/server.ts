import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import { FerryError } from '../api/errors.js';
import type { FerryMetrics } from './metrics.js';

export interface HealthState {
  /** Connected to everything the process needs and not failing. */
  ready(): { ready: boolean; reason?: string };
  /** Metrics of other threads of this process (prom-client JSON), merged into /metrics. */
  sinkMetrics?(): Promise<MetricObjectWithValues<MetricValue<string>>[]>;
}

/** This process's metrics in the Prometheus text format, other threads' merged in (counters and gauges summed). */
async function metricsText(metrics: FerryMetrics, health: HealthState): Promise<string> {
  const others = health.sinkMetrics ? await health.sinkMetrics() : [];
  if (others.length === 0) return metrics.registry.metrics();
  const own = await metrics.registry.getMetricsAsJSON();
  return AggregatorRegistry.aggregate([own, others]).metrics();
}

export interface MetricsServer {
  /** host:port actually bound (port 0 picks a free one). */
  readonly address: string;
  close(): Promise<void>;
}

/**
 * HTTP listener for Prometheus and orchestrators:
 *   GET /metrics  Prometheus text format
 *   GET /healthz  200 while the process is alive
 *   GET /readyz   200 when connected and not failing, else 503 with the reason
 */
export async function startMetricsServer(
  listen: string,
  metrics: FerryMetrics,
  health: HealthState,
): Promise<MetricsServer> {
  const { host, port } = parseListen(listen);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      metricsText(metrics, health)
        .then((text) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text);
        })
        .catch((err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${(err as Error).message}\n`);
        });
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"alive"}\n');
      return;
    }
    if (path === '/readyz') {
      const state = health.ready();
      res
        .writeHead(state.ready ? 200 : 503, { 'content-type': 'application/json' })
        .end(`${JSON.stringify(state.ready ? { status: 'ready' } : { status: 'not ready', reason: state.reason })}\n`);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz or /readyz\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        new FerryError(
          'FERRY_USAGE',
          `metrics.listen: cannot listen on ${listen}: ${err.code ?? err.message}. ` +
            'Choose another host:port, or set metrics.enabled: false.',
          { cause: err },
        ),
      );
    });
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    address: `${addr.address}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function parseListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  const host = i > 0 ? listen.slice(0, i).replace(/^\[|\]$/g, '') : '127.0.0.1';
  const port = Number(i >= 0 ? listen.slice(i + 1) : listen);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new FerryError('FERRY_USAGE', `metrics.listen: "${listen}" is not host:port (for example 127.0.0.1:9464)`);
  }
  return { host, port };
}
