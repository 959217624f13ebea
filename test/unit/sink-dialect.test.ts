import { describe, expect, it } from 'vitest';
import * as my from '../../connectors/mysql-sink/dialect.js';
import * as pg from '../../connectors/postgres-sink/dialect.js';

const NASTY = [
  'order items',
  `it's "quoted"`,
  'select',
  'Mixed Case',
  'a`b',
  'ünïcödé 😀',
  'what?',
  '$1',
  'x"; DROP TABLE t; --',
];

describe('PostgresDialect', () => {
  it('double-quotes every identifier, doubling embedded double quotes', () => {
    expect(pg.quoteIdent('plain')).toBe('"plain"');
    expect(pg.quoteIdent('select')).toBe('"select"');
    expect(pg.quoteIdent('Mixed Case')).toBe('"Mixed Case"');
    expect(pg.quoteIdent(`it's "quoted"`)).toBe(`"it's ""quoted"""`);
    expect(pg.quoteIdent('a`b')).toBe('"a`b"');
    expect(pg.quoteIdent('ünïcödé 😀')).toBe('"ünïcödé 😀"');
    expect(pg.quoteIdent('x"; DROP TABLE t; --')).toBe('"x""; DROP TABLE t; --"');
  });

  it('round-trips: stripping the quotes and undoubling gives the name back', () => {
    for (const name of NASTY) {
      const q = pg.quoteIdent(name);
      expect(q.startsWith('"') && q.endsWith('"')).toBe(true);
      expect(q.slice(1, -1).replaceAll('""', '"')).toBe(name);
      expect(q.slice(1, -1).replaceAll('""', '')).not.toContain('"');
    }
  });

  it('qualifies schema and table', () => {
    expect(pg.qualify('my schema', 'select')).toBe('"my schema"."select"');
  });

  it('refuses empty names, NUL and names PostgreSQL would truncate', () => {
    expect(() => pg.quoteIdent('')).toThrow(/empty/);
    expect(() => pg.quoteIdent('a\u0000b')).toThrow(/U\+0000/);
    expect(pg.quoteIdent('x'.repeat(63))).toHaveLength(65);
    expect(() => pg.quoteIdent('x'.repeat(64))).toThrow(/63 bytes/);
    // 63 bytes, not characters: 32 two-byte characters are 64 bytes.
    expect(() => pg.quoteIdent('é'.repeat(32))).toThrow(/63 bytes/);
  });
});

describe('MySqlDialect', () => {
  it('backtick-quotes every identifier, doubling embedded backticks', () => {
    expect(my.quoteIdent('plain')).toBe('`plain`');
    expect(my.quoteIdent('select')).toBe('`select`');
    expect(my.quoteIdent('order items')).toBe('`order items`');
    expect(my.quoteIdent('a`b')).toBe('`a``b`');
    expect(my.quoteIdent(`it's "quoted"`)).toBe('`it\'s "quoted"`');
    expect(my.quoteIdent('what?')).toBe('`what?`');
  });

  it('round-trips every nasty name', () => {
    for (const name of NASTY) {
      const q = my.quoteIdent(name);
      expect(q.slice(1, -1).replaceAll('``', '`')).toBe(name);
      expect(q.slice(1, -1).replaceAll('``', '')).not.toContain('`');
    }
  });

  it('refuses empty names, NUL and names over 64 characters', () => {
    expect(() => my.quoteIdent('')).toThrow(/empty/);
    expect(() => my.quoteIdent('a\u0000')).toThrow(/U\+0000/);
    expect(my.quoteIdent('é'.repeat(64))).toHaveLength(66);
    expect(() => my.quoteIdent('x'.repeat(65))).toThrow(/64 characters/);
  });

  it('quotes DDL literals (ENUM labels)', () => {
    expect(my.quoteLiteral("it's")).toBe("'it''s'");
    expect(my.quoteLiteral('back\\slash')).toBe("'back\\\\slash'");
    expect(my.quoteLiteral('a,b')).toBe("'a,b'");
    expect(() => my.quoteLiteral('nul\u0000')).toThrow(/control character/);
  });
});
