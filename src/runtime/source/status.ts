import type { ChangeEvent, ErrorCode, Logger, StoredSourceOffset } from '../../api/index.js';
import { FerryError } from '../../api/index.js';
import type { FerryMetrics } from '../../metrics/metrics.js';
import type { SourcePhase, SourceProgress, TableSnapshotProgress } from './items.js';

/**
 * What the source runtime knows about itself: phase, connection, snapshot progress per table,
 * the last stored position, and the metrics that follow from them. `onChange` fires whenever
 * something a progress display shows has changed.
 */
export class SourceStatus {
  phase: SourcePhase = 'starting';
  connected = false;
  lastStored: StoredSourceOffset | null = null;
  eventsPublished = 0;
  /** Since when Kafka has been failing (ms since the epoch), null while it answers. */
  kafkaWaitingSince: number | null = null;
  private readonly tables = new Map<string, TableSnapshotProgress>();

  constructor(
    private readonly metrics: FerryMetrics | undefined,
    private readonly describe: (position: StoredSourceOffset['position']) => string,
    private readonly queueDepth: () => number,
    private readonly onChange: () => void,
  ) {}

  progress(): SourceProgress {
    const stored = this.lastStored;
    return {
      phase: this.phase,
      connected: this.connected,
      snapshot: [...this.tables.values()].map((t) => ({ ...t })),
      storedPosition: stored ? this.describe(stored.position) : null,
      storedPhase: stored?.phase ?? null,
      storedAt: stored?.writtenAt ?? null,
      eventsPublished: this.eventsPublished,
      queueDepth: this.queueDepth(),
      ...(this.kafkaWaitingSince === null ? {} : { kafkaWaitingSince: this.kafkaWaitingSince }),
    };
  }

  /** A Kafka operation failed and is retried (true), or Kafka answered again (false). */
  kafkaWaiting(waiting: boolean): void {
    if ((this.kafkaWaitingSince !== null) === waiting) return;
    this.kafkaWaitingSince = waiting ? Date.now() : null;
    if (this.metrics) this.metrics.kafkaWaitingSinceMs = this.kafkaWaitingSince;
    this.onChange();
  }

  setPhase(phase: SourcePhase): void {
    if (this.phase === phase || this.phase === 'failed') return;
    this.phase = phase;
    this.onChange();
  }

  setConnected(connected: boolean): void {
    if (this.connected === connected) return;
    this.connected = connected;
    this.metrics?.sourceConnected.set(connected ? 1 : 0);
    this.onChange();
  }

  tableStarted(table: string, estimatedRows: number): void {
    const known = this.tables.get(table);
    this.tables.set(table, { table, rowsDone: known?.rowsDone ?? 0, rowsEstimated: estimatedRows, done: false });
    this.metrics?.snapshotRowsEstimated.set({ table }, estimatedRows);
    this.onChange();
  }

  stored(offset: StoredSourceOffset): void {
    this.lastStored = offset;
    if (offset.phase === 'stream') for (const t of this.tables.values()) t.done = true;
    for (const name of offset.snapshot?.done ?? []) {
      const t = this.tables.get(name);
      if (t) t.done = true;
    }
    this.onChange();
  }

  /** Kafka acknowledged these events. */
  published(events: ChangeEvent[]): void {
    this.eventsPublished += events.length;
    for (const e of events) {
      const table = `${e.db}.${e.table}`;
      this.metrics?.sourceEvents.inc({ table, op: e.op });
      if (e.op === 'r') {
        this.metrics?.snapshotRows.inc({ table });
        const t = this.tables.get(table);
        if (t) t.rowsDone++;
      }
    }
  }

  /** Snapshot rows the direct lane wrote into the target (they are not published). */
  loadedDirectly(table: string, rows: number): void {
    this.metrics?.snapshotRows.inc({ table }, rows);
    const t = this.tables.get(table);
    if (t) t.rowsDone += rows;
  }

  /** An event (or a commit) was read from the source: its commit time drives the lag gauge. */
  read(event: ChangeEvent | null, commitTsMs?: number): void {
    const ts = event?.tsMs ?? commitTsMs;
    if (this.metrics && ts) this.metrics.lastSourceCommitMs = ts;
  }

  /** Something the user must hear about that does not stop the source: logged and counted. */
  warn(log: Logger, code: ErrorCode, message: string, fields?: Record<string, unknown>): void {
    log.warn(message, { code, ...fields });
    this.metrics?.errors.inc({ component: 'source', code });
  }

  error(err: unknown): void {
    const code = err instanceof FerryError ? err.code : 'FERRY_CONNECTION';
    this.metrics?.errors.inc({ component: 'source', code });
  }
}
