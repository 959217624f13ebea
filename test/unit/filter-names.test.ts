/**
 * Names with spaces (and dots, stars, backslashes) in table filters: `source.tables`, `exclude`,
 * `excludeColumns` and `keyColumns` accept every identifier character; a backslash escapes a
 * dot, `*`, `?` or backslash inside a name; each part of a pattern matches one identifier.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  checkPattern,
  configuredKeyColumns,
  isColumnExcluded,
  isTableCaptured,
  literalDatabases,
  matchesName,
  type TableFilter,
} from '../../src/api/index.js';
import { ConfigValidationError, configFromObject, tableFilterOf } from '../../src/config/index.js';

function filter(extra: Partial<TableFilter>): TableFilter {
  return { include: [], exclude: [], excludeColumns: [], keyColumns: {}, ...extra };
}

function config(source: Record<string, unknown>) {
  return configFromObject(
    {
      name: 'names',
      kafka: { brokers: ['127.0.0.1:9092'] },
      source: { kind: 'mysql', url: 'mysql://ferry:pw@127.0.0.1:3306/x', ...source },
      sink: { kind: 'postgres', url: 'postgres://ferry:pw@127.0.0.1:5432/x' },
    },
    { env: {} },
  );
}

describe('names with spaces in table filters', () => {
  it('names with spaces: matches names with spaces and other characters literally', () => {
    const f = filter({ include: ['acc db.*', 'shop.order lines'], exclude: ['acc db.tmp *'] });
    expect(isTableCaptured(f, { db: 'acc db', table: 'my table' })).toBe(true);
    expect(isTableCaptured(f, { db: 'acc db', table: 'tmp 1' })).toBe(false);
    expect(isTableCaptured(f, { db: 'shop', table: 'order lines' })).toBe(true);
    expect(isTableCaptured(f, { db: 'shop', table: 'order  lines' })).toBe(false);
    expect(isTableCaptured(f, { db: 'acc', table: 'db.x' })).toBe(false);
  });

  it('names with spaces: a backslash escapes a dot, a star, a question mark or a backslash', () => {
    expect(matchesName('shop.v1\\.orders', ['shop', 'v1.orders'])).toBe(true);
    expect(matchesName('shop.v1\\.orders', ['shop.v1', 'orders'])).toBe(false);
    expect(matchesName('a\\.b.*', ['a.b', 'x'])).toBe(true);
    expect(matchesName('s.\\*', ['s', '*'])).toBe(true);
    expect(matchesName('s.\\*', ['s', 'x'])).toBe(false);
    expect(matchesName('s.what\\?', ['s', 'what?'])).toBe(true);
    expect(matchesName('s.what\\?', ['s', 'whatx'])).toBe(false);
    expect(matchesName('s.back\\\\slash', ['s', 'back\\slash'])).toBe(true);
    expect(matchesName('s.(a)+[b]{c}$^|', ['s', '(a)+[b]{c}$^|'])).toBe(true);
  });

  it('matches each part against one name: shop.* does not capture a database named shop.x', () => {
    const f = filter({ include: ['shop.*'] });
    expect(isTableCaptured(f, { db: 'shop', table: 'a.b' })).toBe(true);
    expect(isTableCaptured(f, { db: 'shop.x', table: 't' })).toBe(false);
    expect(isTableCaptured(filter({ include: ['*'] }), { db: 'any.db', table: 't' })).toBe(true);
  });

  it('names with spaces: excluded columns and key columns by name', () => {
    const f = filter({
      excludeColumns: ['acc db.order lines.secret note', 'acc db.v1\\.t.a\\.b'],
      keyColumns: { 'acc db.audit log': ['entry id'], 'acc db.v1\\.t': ['k'] },
    });
    expect(isColumnExcluded(f, { db: 'acc db', table: 'order lines' }, 'secret note')).toBe(true);
    expect(isColumnExcluded(f, { db: 'acc db', table: 'order lines' }, 'note')).toBe(false);
    expect(isColumnExcluded(f, { db: 'acc db', table: 'v1.t' }, 'a.b')).toBe(true);
    expect(configuredKeyColumns(f, { db: 'acc db', table: 'audit log' })).toEqual(['entry id']);
    expect(configuredKeyColumns(f, { db: 'acc db', table: 'v1.t' })).toEqual(['k']);
    expect(configuredKeyColumns(f, { db: 'acc db.v1', table: 't' })).toBeUndefined();
  });

  it('names literal databases without escapes', () => {
    expect(literalDatabases(filter({ include: ['acc db.*', 'v1\\.db.t'] }))).toEqual(['acc db', 'v1.db']);
    expect(literalDatabases(filter({ include: ['acc*.t'] }))).toBeNull();
  });

  it('names with spaces: the config accepts them in tables, exclude, excludeColumns and keyColumns', () => {
    const c = config({
      tables: ['acc db.*', 'acc db.v1\\.items'],
      exclude: ['acc db.tmp *'],
      excludeColumns: ['acc db.order lines.secret note'],
      keyColumns: { 'acc db.audit log': ['entry id'] },
    });
    const f = tableFilterOf(c);
    expect(isTableCaptured(f, { db: 'acc db', table: 'order lines' })).toBe(true);
    expect(configuredKeyColumns(f, { db: 'acc db', table: 'audit log' })).toEqual(['entry id']);
    // YAML: unquoted and single-quoted scalars keep the backslash; double quotes need it doubled.
    const yaml = parse('a: [acc db.v1\\.items, \'acc db.v1\\.items\', "acc db.v1\\\\.items"]') as { a: string[] };
    expect(new Set(yaml.a)).toEqual(new Set(['acc db.v1\\.items']));
  });

  it('rejects patterns with the wrong number of parts, a lone backslash or a wildcard in a key name', () => {
    expect(checkPattern('orders', 2, true)).toMatch(/1 part\(s\) where 2/);
    expect(checkPattern('a.b.c', 2, true)).toMatch(/3 part\(s\).*"\\\."/);
    expect(checkPattern('a..b', 3, true)).toMatch(/non-empty/);
    expect(checkPattern('a.b\\', 2, true)).toMatch(/lone backslash/);
    expect(checkPattern('a.*', 2, false)).toMatch(/wildcard/);
    expect(checkPattern('a.\\*', 2, false)).toBeNull();
    const bad = (source: Record<string, unknown>) => {
      try {
        config(source);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigValidationError);
        return (err as Error).message;
      }
      throw new Error('expected the config to be rejected');
    };
    expect(bad({ tables: ['acc db.a.b'] })).toContain('source.tables[0]: expected a "db.table" pattern');
    expect(bad({ tables: ['a.*'], excludeColumns: ['a.b'] })).toContain('source.excludeColumns[0]');
    expect(bad({ tables: ['a.*'], keyColumns: { 'a.*': ['id'] } })).toMatch(/source\.keyColumns.*exact "db\.table"/);
  });
});
