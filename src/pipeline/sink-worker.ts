/**
 * Entry of the sink thread of `ferry run` (sink-thread.ts starts it): the sink runtime of the
 * pipeline config it was given, with its logs and metrics sent to the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FerryError } from '../api/errors.js';
import { secretsOf } from '../config/index.js';
import { createLogger } from '../log/index.js';
import { FerryMetrics } from '../metrics/metrics.js';
import { sinkRuntimeFor } from './runtimes.js';
import type { FromSinkWorker, SinkWorkerData, ToSinkWorker } from './sink-thread.js';

const port = parentPort;
if (!port) throw new Error('sink-worker.js runs as a worker thread of ferry run');
const data = workerData as SinkWorkerData;
const { config } = data;
const post = (m: FromSinkWorker) => port.postMessage(m);

const logger = createLogger({
  level: config.log.level,
  format: data.logFormat,
  secrets: secretsOf(config),
  fields: { pipeline: config.name },
  destination: { isTTY: data.isTTY, write: (line: string) => post({ t: 'log', line }) },
});
const metrics = new FerryMetrics(config.name);

function failed(err: unknown): void {
  const e = err as Partial<FerryError>;
  post({
    t: 'failed',
    error: {
      name: e?.name ?? 'Error',
      message: e?.message ?? String(err),
      ...(err instanceof FerryError ? { code: err.code, retriable: err.retriable } : {}),
    },
  });
}

try {
  const sink = sinkRuntimeFor(config, logger, metrics, data.topicRefreshMs);
  port.on('message', (m: ToSinkWorker) => {
    if (m.t === 'stop') {
      void sink.stop();
      return;
    }
    void (async () => {
      const json = await metrics.registry.getMetricsAsJSON();
      const applied = json
        .find((x) => x.name === 'ferry_sink_applied_events_total')
        ?.values.reduce((n, v) => n + v.value, 0);
      post({
        t: 'metrics',
        id: m.id,
        json,
        figures: {
          applied: applied ?? 0,
          lastSinkCommitMs: metrics.lastSinkCommitMs,
          pendingEvents: metrics.sinkPendingEvents,
        },
      });
    })();
  });
  sink.run().then(
    () => {
      post({ t: 'stopped' });
      port.removeAllListeners('message');
      port.unref();
    },
    (err: unknown) => {
      failed(err);
      port.removeAllListeners('message');
      port.unref();
    },
  );
} catch (err) {
  failed(err);
  port.unref();
}
