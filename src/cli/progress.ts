import type { FerryMetrics } from '../metrics/metrics.js';
import type { SourceProgress } from '../runtime/source-items.js';

const nf = new Intl.NumberFormat('en-US');

/** One text line per snapshotting table: a bar, rows, rate and ETA. Pure, for tests. */
export function snapshotLines(progress: SourceProgress, ratePerTable: Map<string, number>, width = 24): string[] {
  return progress.snapshot.map((t) => {
    const total = Math.max(t.rowsEstimated, t.rowsDone, 1);
    const frac = t.done ? 1 : Math.min(1, t.rowsDone / total);
    const filled = Math.round(frac * width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    const rate = ratePerTable.get(t.table) ?? 0;
    const eta = t.done ? 'done' : rate > 0 ? `ETA ${formatSeconds((total - t.rowsDone) / rate)}` : 'ETA —';
    return `${t.table.padEnd(28).slice(0, 28)} ${bar} ${String(Math.round(frac * 100)).padStart(3)}%  ${nf.format(t.rowsDone)}/${nf.format(total)} rows  ${nf.format(Math.round(rate))}/s  ${eta}`;
  });
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '—';
  if (s < 60) return `${Math.ceil(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.ceil(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

async function metricValue(metrics: FerryMetrics, name: string): Promise<number> {
  const m = metrics.registry.getSingleMetric(name);
  if (!m) return 0;
  const data = await m.get();
  return data.values.reduce((sum, v) => sum + (v.value ?? 0), 0);
}

/**
 * Live progress on a terminal: snapshot bars per table and one line of throughput and lag,
 * redrawn in place once a second. Off a terminal, nothing is drawn (JSON logs carry the same).
 */
export class ProgressView {
  private timer: NodeJS.Timeout | null = null;
  private drawn = 0;
  private last = new Map<string, { rows: number; at: number }>();
  private rates = new Map<string, number>();
  private lastCounts = { published: 0, applied: 0, at: Date.now() };

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly metrics: FerryMetrics,
    private readonly source: () => SourceProgress | null,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.draw(), 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.clear();
  }

  private clear(): void {
    if (this.drawn > 0) this.stream.write(`\x1b[${this.drawn}F\x1b[J`);
    this.drawn = 0;
  }

  private lastLines: string[] = [];

  /** Writes a log line above the live view, keeping the view at the bottom. */
  writeAbove(line: string): void {
    this.clear();
    this.stream.write(line.endsWith('\n') ? line : `${line}\n`);
    if (this.timer && this.lastLines.length > 0) {
      this.stream.write(`${this.lastLines.join('\n')}\n`);
      this.drawn = this.lastLines.length;
    }
  }

  private async draw(): Promise<void> {
    const p = this.source();
    const now = Date.now();
    const lines: string[] = [];
    if (p) {
      for (const t of p.snapshot) {
        const prev = this.last.get(t.table);
        if (prev && now > prev.at) {
          const inst = ((t.rowsDone - prev.rows) * 1000) / (now - prev.at);
          this.rates.set(t.table, 0.7 * (this.rates.get(t.table) ?? inst) + 0.3 * inst);
        }
        this.last.set(t.table, { rows: t.rowsDone, at: now });
      }
      if (p.snapshot.some((t) => !t.done)) lines.push(...snapshotLines(p, this.rates));
    }
    const published = await metricValue(this.metrics, 'ferry_source_events_total');
    const applied = await metricValue(this.metrics, 'ferry_sink_applied_events_total');
    const secs = Math.max(0.001, (now - this.lastCounts.at) / 1000);
    const pubRate = (published - this.lastCounts.published) / secs;
    const appRate = (applied - this.lastCounts.applied) / secs;
    this.lastCounts = { published, applied, at: now };
    const lagS =
      this.metrics.lastSinkCommitMs === null || this.metrics.sinkPendingEvents === 0
        ? 0
        : (now - this.metrics.lastSinkCommitMs) / 1000;
    const phase = p ? `${p.phase}${p.connected ? '' : ' (not connected)'}` : 'sink';
    lines.push(
      `${phase} | published ${nf.format(published)} (${nf.format(Math.round(pubRate))}/s) | applied ${nf.format(applied)} (${nf.format(Math.round(appRate))}/s) | lag ${nf.format(this.metrics.sinkPendingEvents)} events, ${lagS.toFixed(1)}s`,
    );
    this.clear();
    this.stream.write(`${lines.join('\n')}\n`);
    this.drawn = lines.length;
    this.lastLines = lines;
  }
}
