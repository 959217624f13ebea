import { Worker } from 'node:worker_threads';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import { type ErrorCode, FerryError } from '../api/errors.js';
import type { PipelineConfig } from '../config/index.js';

/** What the sink thread is started with (structured-cloned into the worker). */
export interface SinkWorkerData {
  config: PipelineConfig;
  topicRefreshMs?: number;
  /** The log format the main thread chose and whether its stderr is a terminal. */
  logFormat: 'json' | 'pretty' | 'auto';
  isTTY: boolean;
}

/** Messages from the sink thread. */
export type FromSinkWorker =
  | { t: 'log'; line: string }
  | { t: 'metrics'; id: number; json: MetricObjectWithValues<MetricValue<string>>[]; figures: SinkFigures }
  | { t: 'stopped' }
  | { t: 'failed'; error: { name: string; message: string; code?: string; retriable?: boolean } };

/** Messages to the sink thread. */
export type ToSinkWorker = { t: 'stop' } | { t: 'metrics'; id: number };

/** The sink's live figures for the progress view. */
export interface SinkFigures {
  applied: number;
  lastSinkCommitMs: number | null;
  pendingEvents: number;
}

/** How long a graceful stop of the sink thread may take after its runtime finished (closing handles). */
const EXIT_GRACE_MS = 3000;

/**
 * The sink half of `ferry run` on its own thread, so that the source and the sink each get a
 * core. Runs the same SinkRuntime as `ferry sink`, built from the same config (sink-worker.ts).
 * run() settles when the thread's runtime stopped: resolves after a graceful stop, rejects with
 * the sink's error (a FerryError keeps its code) or when the thread ended without saying why.
 */
export class SinkThread {
  private readonly worker: Worker;
  private readonly done: Promise<void>;
  private nextId = 1;
  private readonly waiting = new Map<
    number,
    (r: { json: MetricObjectWithValues<MetricValue<string>>[]; figures: SinkFigures } | null) => void
  >();
  private lastFigures: SinkFigures = { applied: 0, lastSinkCommitMs: null, pendingEvents: 0 };
  private finished = false;

  /** `entry`: the worker's module (tests); default sink-worker.js beside this file. */
  constructor(data: SinkWorkerData, writeLog: (line: string) => void, entry?: URL) {
    this.worker = new Worker(entry ?? new URL('./sink-worker.js', import.meta.url), { workerData: data });
    this.done = new Promise<void>((resolve, reject) => {
      let outcome: { ok: true } | { ok: false; err: unknown } | null = null;
      this.worker.on('message', (m: FromSinkWorker) => {
        switch (m.t) {
          case 'log':
            writeLog(m.line);
            return;
          case 'metrics':
            this.lastFigures = m.figures;
            this.waiting.get(m.id)?.({ json: m.json, figures: m.figures });
            this.waiting.delete(m.id);
            return;
          case 'stopped':
          case 'failed': {
            outcome = m.t === 'stopped' ? { ok: true } : { ok: false, err: revive(m.error) };
            // The runtime closed its connections; whatever still holds the thread is cut off.
            setTimeout(() => void this.worker.terminate(), EXIT_GRACE_MS).unref();
            return;
          }
        }
      });
      this.worker.on('error', (err) => {
        outcome ??= {
          ok: false,
          err: new FerryError('FERRY_INTERNAL', `the sink thread of ferry run failed: ${err.message}`, { cause: err }),
        };
      });
      this.worker.on('exit', (code) => {
        this.finished = true;
        for (const w of this.waiting.values()) w(null);
        this.waiting.clear();
        const o = outcome ?? {
          ok: false,
          err: new FerryError('FERRY_INTERNAL', `the sink thread of ferry run ended unexpectedly (exit code ${code})`),
        };
        if (o.ok) resolve();
        else reject(o.err);
      });
    });
    // Observed through run(); never an unhandled rejection when only stop() is awaited.
    this.done.catch(() => undefined);
  }

  run(): Promise<void> {
    return this.done;
  }

  /** Graceful stop: the sink finishes its batch and stores its offsets. Resolves once the thread ended. */
  async stop(): Promise<void> {
    if (!this.finished) this.worker.postMessage({ t: 'stop' } satisfies ToSinkWorker);
    await this.done.catch(() => undefined);
  }

  /** The sink thread's metrics (prom-client JSON); [] once it ended or when it does not answer within 2 s. */
  async metrics(): Promise<MetricObjectWithValues<MetricValue<string>>[]> {
    return (await this.ask())?.json ?? [];
  }

  /** The sink's figures as last reported (refreshed by metrics() and figures()). */
  async figures(): Promise<SinkFigures> {
    return (await this.ask())?.figures ?? this.lastFigures;
  }

  private ask(): Promise<{ json: MetricObjectWithValues<MetricValue<string>>[]; figures: SinkFigures } | null> {
    if (this.finished) return Promise.resolve(null);
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve(null);
      }, 2000);
      timer.unref();
      this.waiting.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.worker.postMessage({ t: 'metrics', id } satisfies ToSinkWorker);
    });
  }
}

function revive(e: { name: string; message: string; code?: string; retriable?: boolean }): Error {
  if (e.code) return new FerryError(e.code as ErrorCode, e.message, { retriable: e.retriable === true });
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}
