import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * ferry's metrics (docs/metrics.md). One FerryMetrics per process; every metric carries the
 * `pipeline` label. Lag gauges are computed at scrape time from the timestamps the runtimes
 * record, so they keep growing while nothing arrives.
 */
export class FerryMetrics {
  readonly registry = new Registry();
  readonly pipeline: string;

  readonly sourceEvents: Counter<'pipeline' | 'table' | 'op'>;
  readonly sinkAppliedEvents: Counter<'pipeline' | 'table' | 'op'>;
  readonly dlqEvents: Counter<'pipeline' | 'table'>;
  readonly errors: Counter<'pipeline' | 'component' | 'code'>;
  readonly snapshotRows: Counter<'pipeline' | 'table'>;
  readonly sinkTransactions: Counter<'pipeline'>;
  readonly sinkTransactionsSplit: Counter<'pipeline'>;
  readonly sinkStaleEpochRecords: Counter<'pipeline' | 'topic'>;
  readonly sinkApplySerialFallbacks: Counter<'pipeline'>;
  readonly sinkApplyInFlight: Gauge<'pipeline'>;
  readonly sourceConnected: Gauge<'pipeline'>;
  readonly sourceLagSeconds: Gauge<'pipeline'>;
  readonly sinkLagSeconds: Gauge<'pipeline'>;
  readonly sinkLagEvents: Gauge<'pipeline'>;
  readonly snapshotRowsEstimated: Gauge<'pipeline' | 'table'>;
  readonly queueEvents: Gauge<'pipeline'>;
  readonly sourceKafkaWaitingSeconds: Gauge<'pipeline'>;
  readonly kafkaProduceSeconds: Histogram<'pipeline'>;
  readonly sinkBatchSeconds: Histogram<'pipeline'>;
  readonly endToEndSeconds: Histogram<'pipeline'>;

  /** Commit time (ms) of the last event read by the source / applied by the sink; null = none yet. */
  lastSourceCommitMs: number | null = null;
  lastSinkCommitMs: number | null = null;
  /** Set by the sink runtime: events in Kafka not yet applied. */
  sinkPendingEvents = 0;
  /** Set by the source runtime. */
  queueDepth = 0;
  /** Set by the source runtime: since when it has been retrying Kafka (ms), null while Kafka answers. */
  kafkaWaitingSinceMs: number | null = null;

  constructor(pipeline: string) {
    this.pipeline = pipeline;
    this.registry.setDefaultLabels({ pipeline });
    const registers = [this.registry];
    const self = this;
    this.sourceEvents = new Counter({
      name: 'ferry_source_events_total',
      help: 'Row change events published by the source, by table and op.',
      labelNames: ['pipeline', 'table', 'op'],
      registers,
    });
    this.sinkAppliedEvents = new Counter({
      name: 'ferry_sink_applied_events_total',
      help: 'Row change events applied to the target, by table and op.',
      labelNames: ['pipeline', 'table', 'op'],
      registers,
    });
    this.dlqEvents = new Counter({
      name: 'ferry_dlq_events_total',
      help: 'Events sent to the dead-letter topic, by table.',
      labelNames: ['pipeline', 'table'],
      registers,
    });
    this.errors = new Counter({
      name: 'ferry_errors_total',
      help: 'Errors by component and FerryError code.',
      labelNames: ['pipeline', 'component', 'code'],
      registers,
    });
    this.sinkTransactions = new Counter({
      name: 'ferry_sink_transactions_total',
      help: 'Source transactions applied whole by a sink in transaction mode.',
      labelNames: ['pipeline'],
      registers,
    });
    this.sinkTransactionsSplit = new Counter({
      name: 'ferry_sink_transactions_split_total',
      help: 'Source transactions larger than sink.maxTransactionEvents, applied in pieces (transaction mode).',
      labelNames: ['pipeline'],
      registers,
    });
    this.sinkStaleEpochRecords = new Counter({
      name: 'ferry_sink_stale_epoch_records_total',
      help: 'Records skipped by a sink because a former active source instance sent them (a lower leader epoch than a record before them), by topic.',
      labelNames: ['pipeline', 'topic'],
      registers,
    });
    this.sinkApplySerialFallbacks = new Counter({
      name: 'ferry_sink_apply_serial_fallbacks_total',
      help: 'Transaction mode: times a unit applied in parallel failed and the units from it on were applied again one at a time.',
      labelNames: ['pipeline'],
      registers,
    });
    this.sinkApplyInFlight = new Gauge({
      name: 'ferry_sink_apply_in_flight',
      help: 'Transaction mode: units (whole source transactions, grouped) being applied at once.',
      labelNames: ['pipeline'],
      registers,
    });
    this.snapshotRows = new Counter({
      name: 'ferry_snapshot_rows_total',
      help: 'Rows read by the initial snapshot, by table.',
      labelNames: ['pipeline', 'table'],
      registers,
    });
    this.sourceConnected = new Gauge({
      name: 'ferry_source_connected',
      help: '1 while the source is connected to its database log, else 0.',
      labelNames: ['pipeline'],
      registers,
    });
    this.sourceLagSeconds = new Gauge({
      name: 'ferry_source_lag_seconds',
      help: 'Now minus the source commit time of the last event read.',
      labelNames: ['pipeline'],
      registers,
      collect() {
        this.set(self.lastSourceCommitMs === null ? 0 : Math.max(0, (Date.now() - self.lastSourceCommitMs) / 1000));
      },
    });
    this.sinkLagSeconds = new Gauge({
      name: 'ferry_sink_lag_seconds',
      help: 'Now minus the source commit time of the last event applied, 0 when nothing is pending.',
      labelNames: ['pipeline'],
      registers,
      collect() {
        const idle = self.sinkPendingEvents === 0;
        this.set(idle || self.lastSinkCommitMs === null ? 0 : Math.max(0, (Date.now() - self.lastSinkCommitMs) / 1000));
      },
    });
    this.sinkLagEvents = new Gauge({
      name: 'ferry_sink_lag_events',
      help: 'Events in Kafka not yet applied to the target (end offsets minus applied offsets).',
      labelNames: ['pipeline'],
      registers,
      collect() {
        this.set(self.sinkPendingEvents);
      },
    });
    this.snapshotRowsEstimated = new Gauge({
      name: 'ferry_snapshot_rows_estimated',
      help: 'Estimated rows of each table being snapshotted.',
      labelNames: ['pipeline', 'table'],
      registers,
    });
    this.queueEvents = new Gauge({
      name: 'ferry_queue_events',
      help: 'Events waiting in the source queue between reading and producing.',
      labelNames: ['pipeline'],
      registers,
      collect() {
        this.set(self.queueDepth);
      },
    });
    this.sourceKafkaWaitingSeconds = new Gauge({
      name: 'ferry_source_kafka_waiting_seconds',
      help: 'How long the source has been retrying Kafka (0 while Kafka answers).',
      labelNames: ['pipeline'],
      registers,
      collect() {
        const since = self.kafkaWaitingSinceMs;
        this.set(since === null ? 0 : Math.max(0, (Date.now() - since) / 1000));
      },
    });
    const buckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
    this.kafkaProduceSeconds = new Histogram({
      name: 'ferry_kafka_produce_seconds',
      help: 'Time for Kafka to acknowledge a produced batch.',
      labelNames: ['pipeline'],
      buckets,
      registers,
    });
    this.sinkBatchSeconds = new Histogram({
      name: 'ferry_sink_batch_seconds',
      help: 'Time to apply one batch (and its offsets) to the target.',
      labelNames: ['pipeline'],
      buckets,
      registers,
    });
    this.endToEndSeconds = new Histogram({
      name: 'ferry_end_to_end_seconds',
      help: 'Source commit to target commit.',
      labelNames: ['pipeline'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
  }
}
