import { describe, expect, it } from 'vitest';
import { fitLine, formatSeconds, liveLine, ProgressView, phaseLabel, snapshotLines } from '../../src/cli/progress.js';
import { FerryMetrics } from '../../src/metrics/metrics.js';
import type { SourceProgress, TableSnapshotProgress } from '../../src/runtime/source/items.js';

function progress(snapshot: TableSnapshotProgress[], over: Partial<SourceProgress> = {}): SourceProgress {
  return {
    phase: 'snapshot',
    connected: false,
    snapshot,
    storedPosition: null,
    storedPhase: null,
    storedAt: null,
    eventsPublished: 0,
    queueDepth: 0,
    ...over,
  };
}

const table = (name: string, rowsDone: number, rowsEstimated: number, done = false): TableSnapshotProgress => ({
  table: name,
  rowsDone,
  rowsEstimated,
  done,
});

describe('formatSeconds', () => {
  it.each([
    [0, '0s'],
    [0.2, '1s'],
    [42, '42s'],
    [59.5, '1m00s'],
    [60, '1m00s'],
    [119.5, '2m00s'],
    [185, '3m05s'],
    [3599.5, '1h00m'],
    [3600, '1h00m'],
    [7620, '2h07m'],
    [90_000, '25h00m'],
  ])('%s s → %s', (s, text) => {
    expect(formatSeconds(s)).toBe(text);
  });

  it('unknown or negative → —', () => {
    expect(formatSeconds(Number.NaN)).toBe('—');
    expect(formatSeconds(Number.POSITIVE_INFINITY)).toBe('—');
    expect(formatSeconds(-1)).toBe('—');
  });
});

describe('snapshotLines', () => {
  it('one line per table: bar, percentage, rows, rate and ETA', () => {
    const lines = snapshotLines(
      progress([table('shop.customers', 500, 2000), table('shop.orders', 0, 30000)]),
      new Map([['shop.customers', 250]]),
      20,
    );
    expect(lines).toEqual([
      `shop.customers █████░░░░░░░░░░░░░░░  25%  500/2,000 rows  250/s  ETA 6s`,
      `shop.orders    ░░░░░░░░░░░░░░░░░░░░   0%  0/30,000 rows  0/s  ETA —`,
    ]);
  });

  it('a finished table shows the rows it read, not the estimate, and no rate', () => {
    const [line] = snapshotLines(
      progress([table('shop.orders', 29_871, 30_000, true)]),
      new Map([['shop.orders', 9]]),
      10,
    );
    expect(line).toBe('shop.orders ██████████ 100%  29,871 rows  done');
  });

  it('more rows than estimated: never above 100% before done', () => {
    const [line] = snapshotLines(progress([table('t.a', 1200, 1000)]), new Map([['t.a', 100]]), 10);
    expect(line).toBe('t.a ██████████ 100%  1,200/1,200 rows  100/s  ETA 0s');
  });

  it('an empty table with no estimate does not divide by zero', () => {
    const [line] = snapshotLines(progress([table('t.empty', 0, 0)]), new Map(), 4);
    expect(line).toBe('t.empty ░░░░   0%  0/1 rows  0/s  ETA —');
  });

  it('fits the terminal: shorter bar and name column, compact numbers, nothing wraps', () => {
    const p = progress([
      table('a_rather_long_database_name.customers', 20_000, 20_000, true),
      table('a_rather_long_database_name.orders', 33_997, 99_981),
    ]);
    const rates = new Map([['a_rather_long_database_name.orders', 33_660]]);
    for (const columns of [60, 80, 100, 160]) {
      const lines = snapshotLines(p, rates, 24, columns);
      for (const line of lines) expect(line.length, `${columns}: ${line}`).toBeLessThan(columns);
      // The table part of the name survives.
      expect(lines[1]).toMatch(/…[a-z_]*\.orders|^a_rather_long_database_name\.orders/);
    }
    const wide = snapshotLines(p, rates, 24, 160);
    expect(wide[1]).toBe(
      'a_rather_long_database_name.orders    ████████░░░░░░░░░░░░░░░░  34%  33,997/99,981 rows  33,660/s  ETA 2s',
    );
    const narrow = snapshotLines(p, rates, 24, 80);
    expect(narrow[0]).toMatch(/^…[a-z_]+\.customers █+ 100% {2}20,000 rows {2}done$/);
    expect(narrow[1]).toMatch(/^…[a-z_]+\.orders [█░]+ {2}34% {2}33,997\/99,981 rows {2}33,660\/s {2}ETA 2s$/);
    const tiny = snapshotLines(p, rates, 24, 60);
    expect(tiny[1]).toContain('34K/100K rows');
  });
});

describe('liveLine', () => {
  const state = {
    phase: 'stream',
    published: { total: 152_139, perSecond: 6902.4 },
    applied: { total: 150_703, perSecond: 6362, lagEvents: 1436, lagSeconds: 0.84 },
  };

  it('phase, published and applied with rates, lag in events and seconds', () => {
    expect(liveLine(state)).toBe(
      'stream | published 152,139 (6,902/s) | applied 150,703 (6,362/s) | lag 1,436 events, 0.8s',
    );
  });

  it('a source-only or sink-only process shows its own side', () => {
    expect(liveLine({ phase: 'stream', published: state.published })).toBe('stream | published 152,139 (6,902/s)');
    expect(liveLine({ phase: 'sink', applied: state.applied })).toBe(
      'sink | applied 150,703 (6,362/s) | lag 1,436 events, 0.8s',
    );
  });

  it('compact numbers when the line does not fit, then cut', () => {
    expect(liveLine(state, 89)).toBe(
      'stream | published 152.1K (6.9K/s) | applied 150.7K (6.4K/s) | lag 1.4K events, 0.8s',
    );
    const cut = liveLine(state, 40);
    expect(cut.length).toBe(39);
    expect(cut.endsWith('…')).toBe(true);
  });
});

describe('phaseLabel', () => {
  it('names the phase; "reconnecting" only while streaming without a connection', () => {
    expect(phaseLabel(null)).toBe('sink');
    expect(phaseLabel(progress([], { phase: 'snapshot', connected: false }))).toBe('snapshot');
    expect(phaseLabel(progress([], { phase: 'stream', connected: true }))).toBe('stream');
    expect(phaseLabel(progress([], { phase: 'stream', connected: false }))).toBe('stream (reconnecting)');
  });
});

describe('fitLine', () => {
  it('leaves short lines alone and cuts long ones below the width', () => {
    expect(fitLine('abc', 10)).toBe('abc');
    expect(fitLine('abc', undefined)).toBe('abc');
    expect(fitLine('abcdefghij', 10)).toBe('abcdefgh…');
  });
});

describe('ProgressView', () => {
  function fakeStream(columns = 120) {
    const writes: string[] = [];
    return {
      writes,
      stream: { columns, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream,
    };
  }

  it('draws bars and the live line, keeps log lines above them, and clears itself on stop', async () => {
    const metrics = new FerryMetrics('p1');
    metrics.sourceEvents.inc({ table: 'shop.orders', op: 'r' }, 500);
    metrics.sinkAppliedEvents.inc({ table: 'shop.orders', op: 'r' }, 300);
    metrics.sinkPendingEvents = 200;
    metrics.lastSinkCommitMs = Date.now() - 2000;
    const { writes, stream } = fakeStream();
    const p = progress([table('shop.orders', 500, 1000)]);
    const view = new ProgressView(stream, metrics, () => p);
    const draw = () => (view as unknown as { draw(): Promise<void> }).draw();
    view.start();
    try {
      await draw();
      expect(writes).toHaveLength(1);
      const frame = writes[0]!.split('\n');
      expect(frame[0]).toMatch(/^shop\.orders █+░+ {2}50% {2}500\/1,000 rows/);
      expect(frame[1]).toMatch(/^snapshot \| published 500 \(.*\) \| applied 300 \(.*\) \| lag 200 events, 2\.\ds$/);
      expect(frame[2]).toBe('');

      writes.length = 0;
      view.writeAbove('{"level":"info","msg":"hello"}\n');
      // Up two lines and clear, the log line, then the view again.
      expect(writes).toEqual([
        '\x1b[2F\x1b[J',
        '{"level":"info","msg":"hello"}\n',
        `${frame.slice(0, 2).join('\n')}\n`,
      ]);

      // Snapshot over: only the live line.
      p.snapshot[0]!.done = true;
      p.phase = 'stream';
      p.connected = true;
      writes.length = 0;
      await draw();
      expect(writes[0]).toBe('\x1b[2F\x1b[J');
      expect(writes[1]).toMatch(/^stream \| published 500 .*\n$/);
    } finally {
      writes.length = 0;
      view.stop();
    }
    expect(writes).toEqual(['\x1b[1F\x1b[J']);
  });

  it('a sink-only process shows no published count', async () => {
    const { writes, stream } = fakeStream();
    const view = new ProgressView(stream, new FerryMetrics('p2'), () => null, { source: false, sink: true });
    await (view as unknown as { draw(): Promise<void> }).draw();
    expect(writes[0]).toBe('sink | applied 0 (0/s) | lag 0 events, 0.0s\n');
  });
});
