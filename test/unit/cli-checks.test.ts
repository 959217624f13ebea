import { describe, expect, it } from 'vitest';
import { type CheckSection, formatChecks } from '../../src/pipeline/checks.js';

describe('formatChecks (ferry validate)', () => {
  it('a title per section, ✓/✗ per check with what was found, and the fix under each failure', () => {
    const sections: CheckSection[] = [
      {
        title: 'Kafka',
        checks: [{ name: 'Kafka reachable at 127.0.0.1:9092', ok: true, detail: '12 topics' }],
      },
      {
        title: 'Source (mysql 127.0.0.1:3306)',
        checks: [
          { name: 'binlog enabled', ok: true },
          {
            name: 'binlog_format',
            ok: false,
            detail: 'binlog_format is MIXED',
            fix: "SET GLOBAL binlog_format = 'ROW'",
          },
          { name: 'table shop.audit_log', ok: false, detail: 'shop.audit_log has no primary key', fix: 'add one' },
          { name: 'privileges', ok: false, detail: 'the user lacks REPLICATION SLAVE' },
        ],
      },
      { title: 'Target', checks: [] },
    ];
    expect(formatChecks(sections)).toEqual([
      'Kafka',
      '  ✓ Kafka reachable at 127.0.0.1:9092 — 12 topics',
      'Source (mysql 127.0.0.1:3306)',
      '  ✓ binlog enabled',
      '  ✗ binlog_format — binlog_format is MIXED',
      "      fix: SET GLOBAL binlog_format = 'ROW'",
      '  ✗ table shop.audit_log — shop.audit_log has no primary key',
      '      fix: add one',
      '  ✗ privileges — the user lacks REPLICATION SLAVE',
      'Target',
    ]);
  });

  it('a passing check never prints a fix', () => {
    expect(formatChecks([{ title: 'T', checks: [{ name: 'x', ok: true, detail: 'd', fix: 'never shown' }] }])).toEqual([
      'T',
      '  ✓ x — d',
    ]);
  });
});
