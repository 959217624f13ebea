import { describe, expect, it } from 'vitest';
import { classifyStatement, parseQualifiedName, stripLeadingComments } from '../../connectors/mysql-source/ddl.js';

describe('binlog statement classification', () => {
  it('recognises transaction control', () => {
    expect(classifyStatement('BEGIN', 'db').kind).toBe('begin');
    expect(classifyStatement('COMMIT', 'db').kind).toBe('commit');
    expect(classifyStatement("XA COMMIT X'78',X'',1", 'db')).toEqual({ kind: 'xa-commit', xid: '1:78:' });
    expect(classifyStatement('ROLLBACK', 'db').kind).toBe('rollback');
    expect(classifyStatement('ROLLBACK TO SAVEPOINT a', 'db').kind).toBe('other');
  });

  it('parses TRUNCATE targets, qualified or not', () => {
    expect(classifyStatement('TRUNCATE TABLE `shop`.`orders`', 'x')).toEqual({
      kind: 'truncate',
      tables: [{ db: 'shop', table: 'orders' }],
    });
    expect(classifyStatement('truncate orders', 'shop')).toEqual({
      kind: 'truncate',
      tables: [{ db: 'shop', table: 'orders' }],
    });
    expect(classifyStatement('/* c */ TRUNCATE `we``ird`', 'd')).toEqual({
      kind: 'truncate',
      tables: [{ db: 'd', table: 'we`ird' }],
    });
  });

  it('flags table DDL, not account or routine statements', () => {
    for (const q of [
      'ALTER TABLE t ADD c INT',
      'CREATE TABLE t (id INT)',
      'DROP TABLE t',
      'RENAME TABLE a TO b',
      'CREATE INDEX i ON t (c)',
    ]) {
      expect(classifyStatement(q, 'd').kind, q).toBe('ddl');
    }
    for (const q of ["CREATE USER 'a'", 'DROP FUNCTION f', "GRANT SELECT ON *.* TO 'a'", 'FLUSH PRIVILEGES']) {
      expect(classifyStatement(q, 'd').kind, q).toBe('other');
    }
  });

  it('strips leading comments', () => {
    expect(stripLeadingComments('/* a */ -- b\n# c\n  ALTER')).toBe('ALTER');
    expect(parseQualifiedName('`a`.b rest', 'd')).toEqual({ value: { db: 'a', table: 'b' }, rest: ' rest' });
  });
});
