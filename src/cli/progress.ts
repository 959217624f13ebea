import type { FerryMetrics } from '../metrics/metrics.js';
import type { SinkFigures } from '../pipeline/sink-thread.js';
import type { SourceProgress } from '../runtime/source/items.js';

const nf = new Intl.NumberFormat('en-US');
/** For narrow terminals: 1.2M instead of 1,234,567. */
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

/** Widest table-name column of the progress bars; longer names keep their end (`…shop.orders`). */
const MAX_NAME = 36;
const MIN_NAME = 16;
const MIN_BAR = 8;

/** Shortens text to `width` characters, keeping its end (the table part of `db.table`). */
function fitLeft(text: string, width: number): string {
  if (text.length <= width) return text.padEnd(width);
  return `…${text.slice(text.length - width + 1)}`;
}

/** Cuts a line to the terminal width so that it never wraps (a wrapped line breaks the redraw). */
export function fitLine(line: string, columns: number | undefined): string {
  if (!columns || columns <= 1 || line.length < columns) return line;
  return `${line.slice(0, columns - 2)}…`;
}

/**
 * One text line per snapshotting table: a bar, rows, rate and ETA. Pure, for tests.
 * `columns` (the terminal width) shrinks the bar and the name column, then switches to compact
 * numbers, then cuts the line, so that nothing wraps.
 */
export function snapshotLines(
  progress: SourceProgress,
  ratePerTable: Map<string, number>,
  width = 24,
  columns?: number,
): string[] {
  const render = (fmt: Intl.NumberFormat) =>
    progress.snapshot.map((t) => {
      // A finished table shows what it read: the estimate was only an estimate.
      const total = t.done ? t.rowsDone : Math.max(t.rowsEstimated, t.rowsDone, 1);
      const frac = t.done ? 1 : Math.min(1, t.rowsDone / total);
      const rate = ratePerTable.get(t.table) ?? 0;
      const eta = rate > 0 ? `ETA ${formatSeconds((total - t.rowsDone) / rate)}` : 'ETA —';
      const tail = t.done
        ? `${fmt.format(t.rowsDone)} rows  done`
        : `${fmt.format(t.rowsDone)}/${fmt.format(total)} rows  ${fmt.format(Math.round(rate))}/s  ${eta}`;
      return { table: t.table, frac, tail };
    });
  let rows = render(nf);
  const longestName = Math.max(0, ...progress.snapshot.map((t) => t.table.length));
  let nameWidth = Math.min(MAX_NAME, longestName);
  let barWidth = width;
  if (columns) {
    // name, bar, percentage and tail with their separators must fit in columns - 1: the bar gets
    // its width first, names the rest; when short of room the bar shrinks, then the names.
    const room = (r: typeof rows) => columns - 1 - (1 + 1 + 4 + 2) - Math.max(0, ...r.map((x) => x.tail.length));
    if (room(rows) < Math.min(longestName, MIN_NAME) + MIN_BAR) rows = render(compact);
    const free = room(rows);
    nameWidth =
      free >= longestName + width
        ? longestName
        : Math.max(Math.min(longestName, MIN_NAME), Math.min(longestName, free - MIN_BAR));
    barWidth = Math.max(MIN_BAR, Math.min(width, free - nameWidth));
  }
  return rows.map(({ table, frac, tail }) => {
    const filled = Math.round(frac * barWidth);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)}`;
    const pct = `${String(Math.floor(frac * 100)).padStart(3)}%`;
    return fitLine(`${fitLeft(table, nameWidth)} ${bar} ${pct}  ${tail}`, columns);
  });
}

/** Seconds as `42s`, `3m05s` or `2h07m` (rounded up to whole seconds); `—` when unknown. */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '—';
  const t = Math.ceil(s);
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`;
  return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
}

export interface LiveState {
  phase: string;
  /** Left out for a sink-only process. */
  published?: { total: number; perSecond: number };
  /** Left out (with the lag) for a source-only process. */
  applied?: { total: number; perSecond: number; lagEvents: number; lagSeconds: number };
}

/**
 * The live line: phase, published and applied events with their rates, lag. Pure, for tests.
 * Compact numbers when the full line does not fit in `columns`, then cut.
 */
export function liveLine(s: LiveState, columns?: number): string {
  const render = (fmt: Intl.NumberFormat) => {
    const count = (c: { total: number; perSecond: number }) =>
      `${fmt.format(c.total)} (${fmt.format(Math.round(c.perSecond))}/s)`;
    const parts = [s.phase];
    if (s.published) parts.push(`published ${count(s.published)}`);
    if (s.applied) {
      parts.push(`applied ${count(s.applied)}`);
      parts.push(`lag ${fmt.format(s.applied.lagEvents)} events, ${s.applied.lagSeconds.toFixed(1)}s`);
    }
    return parts.join(' | ');
  };
  const full = render(nf);
  return fitLine(columns && full.length >= columns ? render(compact) : full, columns);
}

/** What the live line calls the source's state. */
export function phaseLabel(p: SourceProgress | null): string {
  if (!p) return 'sink';
  // The snapshot reads tables, not the log: "not connected" would only alarm.
  if (p.phase === 'stream' && !p.connected) return 'stream (reconnecting)';
  return p.phase;
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
    private readonly roles: { source: boolean; sink: boolean } = { source: true, sink: true },
    /** A sink on another thread reports its figures here; null = read them from `metrics`. */
    private readonly sinkFigures: () => Promise<SinkFigures | null> = async () => null,
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
      if (p.snapshot.some((t) => !t.done)) lines.push(...snapshotLines(p, this.rates, 24, this.stream.columns));
    }
    const published = await metricValue(this.metrics, 'ferry_source_events_total');
    const figures = await this.sinkFigures();
    const applied = figures ? figures.applied : await metricValue(this.metrics, 'ferry_sink_applied_events_total');
    const lastSinkCommitMs = figures ? figures.lastSinkCommitMs : this.metrics.lastSinkCommitMs;
    const pendingEvents = figures ? figures.pendingEvents : this.metrics.sinkPendingEvents;
    const secs = Math.max(0.001, (now - this.lastCounts.at) / 1000);
    const pubRate = (published - this.lastCounts.published) / secs;
    const appRate = (applied - this.lastCounts.applied) / secs;
    this.lastCounts = { published, applied, at: now };
    const lagS = lastSinkCommitMs === null || pendingEvents === 0 ? 0 : (now - lastSinkCommitMs) / 1000;
    const line = liveLine(
      {
        phase: phaseLabel(p),
        ...(this.roles.source ? { published: { total: published, perSecond: pubRate } } : {}),
        ...(this.roles.sink
          ? {
              applied: {
                total: applied,
                perSecond: appRate,
                lagEvents: pendingEvents,
                lagSeconds: lagS,
              },
            }
          : {}),
      },
      this.stream.columns,
    );
    lines.push(line);
    this.clear();
    this.stream.write(`${lines.join('\n')}\n`);
    this.drawn = lines.length;
    this.lastLines = lines;
  }
}
