import { describe, expect, it } from 'vitest';
import { formatStatus, type StatusReport } from '../../src/pipeline/status.js';

const NOW = Date.parse('2026-01-02T03:10:00.000Z');

function report(over: Partial<StatusReport> = {}): StatusReport {
  return {
    pipeline: 'shop-move',
    source: { phase: 'stream', position: 'binlog.000003:1234', storedAt: '2026-01-02T03:06:55.000Z' },
    tables: [
      {
        table: 'shop.customers',
        topic: 'shop-move.shop.customers',
        snapshot: 'done',
        kafkaEndOffset: 2000,
        appliedOffset: 2000,
        lagEvents: 0,
      },
      {
        table: 'shop.orders',
        topic: 'shop-move.shop.orders',
        snapshot: 'done',
        kafkaEndOffset: 1_234_567,
        appliedOffset: 1_234_000,
        lagEvents: 567,
      },
    ],
    lagEvents: 567,
    lagSeconds: 1.234,
    running: true,
    metricsAddress: '127.0.0.1:9464',
    ...over,
  };
}

describe('formatStatus', () => {
  it('a running pipeline: state, source position with its age, lag, and a table per captured table', () => {
    expect(formatStatus(report(), NOW)).toEqual([
      'pipeline shop-move  (running, metrics on 127.0.0.1:9464)',
      'source   stream at binlog.000003:1234, stored 2026-01-02T03:06:55.000Z (3m05s ago)',
      'lag      567 events, 1.2 s',
      '',
      'table           snapshot  kafka end    applied  lag',
      '--------------  --------  ---------  ---------  ---',
      'shop.customers  done          2,000      2,000    0',
      'shop.orders     done      1,234,567  1,234,000  567',
    ]);
  });

  it('a stopped pipeline: says nothing answers, and that the lag in seconds is unknown', () => {
    const lines = formatStatus(report({ running: false, lagSeconds: null }), NOW);
    expect(lines[0]).toBe('pipeline shop-move  (not running: nothing answers on 127.0.0.1:9464)');
    expect(lines[2]).toBe('lag      567 events, seconds unknown (only a running pipeline knows them)');
  });

  it('metrics disabled: cannot tell whether it runs', () => {
    const lines = formatStatus(report({ running: false, metricsAddress: null, lagSeconds: 0, lagEvents: 0 }), NOW);
    expect(lines[0]).toBe('pipeline shop-move  (metrics disabled: cannot tell whether it runs)');
    expect(lines[2]).toBe('lag      0 events, 0.0 s');
  });

  it('a snapshot in progress: the phase, and per table what is done', () => {
    const lines = formatStatus(
      report({
        source: { phase: 'snapshot', position: 'binlog.000003:4', storedAt: '2026-01-01T01:00:00.000Z' },
        tables: [
          {
            table: 'shop.a',
            topic: 'p.shop.a',
            snapshot: 'done',
            kafkaEndOffset: 10,
            appliedOffset: 10,
            lagEvents: 0,
          },
          {
            table: 'shop.b',
            topic: 'p.shop.b',
            snapshot: 'in progress (after key {"id":5000})',
            kafkaEndOffset: 5000,
            appliedOffset: 4000,
            lagEvents: 1000,
          },
        ],
      }),
      NOW,
    );
    expect(lines[1]).toBe('source   snapshot at binlog.000003:4, stored 2026-01-01T01:00:00.000Z (1d ago)');
    expect(lines.slice(4)).toEqual([
      'table   snapshot                             kafka end  applied    lag',
      '------  -----------------------------------  ---------  -------  -----',
      'shop.a  done                                        10       10      0',
      'shop.b  in progress (after key {"id":5000})      5,000    4,000  1,000',
    ]);
  });

  it('a pipeline that never ran', () => {
    const lines = formatStatus(
      report({
        source: { phase: 'not started', position: null, storedAt: null },
        tables: [],
        lagEvents: 0,
        lagSeconds: 0,
        running: false,
      }),
      NOW,
    );
    expect(lines).toEqual([
      'pipeline shop-move  (not running: nothing answers on 127.0.0.1:9464)',
      'source   not started',
      'lag      0 events, 0.0 s',
      '',
      '(no tables published yet)',
    ]);
  });
});
