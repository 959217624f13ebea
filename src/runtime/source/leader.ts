import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type { Kafka } from 'kafkajs';
import { Gauge } from 'prom-client';
import type { Logger, StoredSourceOffset } from '../../api/index.js';
import { FerryError } from '../../api/index.js';
import { LeaderElector } from '../../kafka/leader.js';
import { leaderTopic, offsetsTopic } from '../../kafka/topics.js';
import type { FerryMetrics } from '../../metrics/metrics.js';
import { claimMessage, highestEpoch } from '../../offsets/leader-epoch.js';
import { abortable } from '../retry.js';
import { fencedError, fencedTransport, type LeaderTerm } from './fenced-transport.js';
import type { SourceProgress } from './items.js';
import type { SourceRuntime, SourceRuntimeEvents } from './runtime.js';
import { createKafkaTransport, type SourceTransport } from './transport.js';

export interface FailoverSourceOptions {
  pipeline: string;
  /** Key of the source's records in `<pipeline>.__offsets`. */
  sourceId: string;
  /** This instance's name in claims, logs and `ferry status`. Default host:pid. */
  instance?: string;
  sessionTimeoutMs: number;
  replicationFactor: number;
  compression?: 'none' | 'gzip';
  logger: Logger;
  metrics?: FerryMetrics;
  /** A new Kafka client; `writeGuard` (when given) is checked before every socket write. */
  kafka(role: string, writeGuard?: () => boolean): Kafka;
  /** The source runtime of one term, publishing through `transport`. */
  createRuntime(transport: SourceTransport): SourceRuntime;
}

/**
 * `source.failover` (docs/failover.md): several instances of one source elect the active one
 * through Kafka (LeaderElector). The active instance claims the next leader epoch in
 * `<pipeline>.__offsets`, then runs an ordinary SourceRuntime that resumes from the stored
 * position, through a fenced transport (every write checks the lease; every store checks the
 * epoch). When it loses the lead it drops what it holds, publishing and storing nothing more,
 * and waits as a standby again. The other instances wait as standbys.
 */
export class FailoverSource extends EventEmitter<SourceRuntimeEvents> {
  readonly instance: string;
  private readonly abort = new AbortController();
  private runtime: SourceRuntime | null = null;
  private running: Promise<void> | null = null;
  private epoch: number | null = null;
  private readonly log: Logger;

  constructor(private readonly o: FailoverSourceOptions) {
    super();
    this.instance = o.instance ?? `${hostname()}:${process.pid}`;
    this.log = o.logger.child({ component: 'source', pipeline: o.pipeline, instance: this.instance });
    if (o.metrics) {
      const self = this;
      new Gauge({
        name: 'ferry_source_active',
        help: '1 while this source instance is the active one (source.failover), 0 while it is a standby.',
        labelNames: ['pipeline'],
        registers: [o.metrics.registry],
        collect() {
          this.set(self.runtime && self.epoch !== null ? 1 : 0);
        },
      });
      new Gauge({
        name: 'ferry_source_leader_epoch',
        help: 'Leader epoch of the active term of this source instance (source.failover); 0 while a standby.',
        labelNames: ['pipeline'],
        registers: [o.metrics.registry],
        collect() {
          this.set(self.runtime ? (self.epoch ?? 0) : 0);
        },
      });
    }
  }

  run(): Promise<void> {
    if (!this.running) this.running = this.main();
    return this.running;
  }

  async stop(): Promise<void> {
    if (!this.abort.signal.aborted) this.abort.abort();
    await this.runtime?.stop();
    await this.running?.catch(() => undefined);
  }

  progress(): SourceProgress {
    if (this.runtime) return this.runtime.progress();
    return {
      phase: this.abort.signal.aborted ? 'stopped' : 'standby',
      connected: false,
      snapshot: [],
      storedPosition: null,
      storedPhase: null,
      storedAt: null,
      eventsPublished: 0,
      queueDepth: 0,
    };
  }

  storedOffset(): StoredSourceOffset | null {
    return this.runtime?.storedOffset() ?? null;
  }

  /** The epoch of the running term, null while a standby. */
  currentEpoch(): number | null {
    return this.runtime ? this.epoch : null;
  }

  private get stopping(): boolean {
    return this.abort.signal.aborted;
  }

  private async main(): Promise<void> {
    const elector = new LeaderElector(this.o.kafka('leader'), {
      topic: leaderTopic(this.o.pipeline),
      groupId: leaderTopic(this.o.pipeline),
      sessionTimeoutMs: this.o.sessionTimeoutMs,
      replicationFactor: this.o.replicationFactor,
      logger: this.log,
    });
    try {
      await abortable(elector.start(), [this.abort.signal]);
      while (!this.stopping) {
        this.log.info('standby: waiting to become the active source instance');
        await this.untilAssigned(elector);
        if (this.stopping) break;
        await this.term(elector);
        if (this.stopping) break;
        await elector.rejoin();
      }
    } catch (err) {
      if (!(this.stopping && err === this.abort.signal.reason)) throw err;
    } finally {
      await elector.close();
    }
  }

  private untilAssigned(elector: LeaderElector): Promise<void> {
    if (elector.isAssigned()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        off();
        this.abort.signal.removeEventListener('abort', done);
        resolve();
      };
      const off = elector.on((e) => {
        if (e.kind === 'assigned') done();
      });
      this.abort.signal.addEventListener('abort', done, { once: true });
    });
  }

  /** One term as the active instance: claim the next epoch, run the source until stop or loss. */
  private async term(elector: LeaderElector): Promise<void> {
    let ended: string | null = null;
    const term: LeaderTerm = {
      pipeline: this.o.pipeline,
      sourceId: this.o.sourceId,
      epoch: 0,
      holds: () => ended === null && elector.holds(),
      ended: () => ended !== null,
      end: (reason) => {
        ended ??= reason;
      },
    };
    const kafka = this.o.kafka('source', () => term.holds());
    const inner = createKafkaTransport(kafka, this.o.compression ? { compression: this.o.compression } : {});
    let runtime: SourceRuntime | null = null;
    const off = elector.on((e) => {
      if (e.kind !== 'lost') return;
      term.end(e.reason);
      runtime?.fence(fencedError(term, e.reason));
    });
    try {
      elector.setClaim(null, true);
      const topic = offsetsTopic(this.o.pipeline);
      await inner.ensureTopics([
        { topic, partitions: 1, replicationFactor: this.o.replicationFactor, compacted: true },
      ]);
      term.epoch = highestEpoch(await inner.readTopic(topic), this.o.sourceId) + 1;
      if (term.ended()) throw fencedError(term, ended ?? 'lost the lead while claiming');
      await inner.send([
        claimMessage(this.o.pipeline, this.o.sourceId, { epoch: term.epoch, instance: this.instance, at: Date.now() }),
      ]);
      if (term.ended()) throw fencedError(term, ended ?? 'lost the lead while claiming');
      elector.setClaim(term.epoch);
      this.epoch = term.epoch;
      this.log.info('active: this instance runs the source', { epoch: term.epoch });
      runtime = this.o.createRuntime(fencedTransport(inner, term));
      runtime.on('stored', (s) => this.emit('stored', s));
      runtime.on('progress', (p) => this.emit('progress', p));
      this.runtime = runtime;
      if (this.stopping) await runtime.stop();
      await runtime.run();
    } catch (err) {
      if (ended === null && !(err instanceof FerryError && err.code === 'FERRY_FENCED')) throw err;
      this.log.warn('stepped down: another instance is the active one now; nothing more is published by this one', {
        epoch: term.epoch,
        reason: ended ?? (err as Error).message,
      });
    } finally {
      off();
      this.runtime = null;
      this.epoch = null;
      if (!runtime) await inner.close().catch(() => undefined);
    }
  }
}
