/**
 * Classifies the statements of binlog `query` events (pure). With binlog_format=ROW, row changes
 * never arrive as statements; what does is transaction control (BEGIN/COMMIT, XA), DDL, and
 * account/privilege statements. DML arrives as a statement only from a session that set
 * binlog_format STATEMENT or MIXED: it is recognised (with the table it writes to) so the
 * connector can refuse or report it. Only TRUNCATE needs its table names parsed; any other DDL makes
 * the connector re-read the captured tables' schemas and publish those that changed.
 */
import { parseXid, type XidKey } from './xa.js';

export type StatementKind =
  | { kind: 'begin' }
  | { kind: 'commit' }
  | { kind: 'rollback' }
  | { kind: 'truncate'; tables: Array<{ db: string; table: string }> }
  | { kind: 'ddl' }
  /** `XA START` (MySQL writes it; MariaDB flags the GTID event instead). */
  | { kind: 'xa-start' }
  /** The outcome of a prepared XA transaction (`xid` null: unreadable). */
  | { kind: 'xa-commit' | 'xa-rollback'; xid: XidKey | null }
  /**
   * Row changes written as a statement (binlog_format STATEMENT or MIXED in a session): the
   * tables it writes to, when they can be read from the statement (else an empty list).
   */
  | { kind: 'dml'; verb: string; tables: Array<{ db: string; table: string }> }
  | { kind: 'other' };

/** Removes leading comments (`/* … *\/`, `-- …`, `# …`) and whitespace. */
export function stripLeadingComments(sql: string): string {
  let s = sql.trimStart();
  for (;;) {
    if (s.startsWith('/*')) {
      const end = s.indexOf('*/');
      if (end < 0) return '';
      s = s.slice(end + 2).trimStart();
    } else if (s.startsWith('--') || s.startsWith('#')) {
      const end = s.indexOf('\n');
      if (end < 0) return '';
      s = s.slice(end + 1).trimStart();
    } else {
      return s;
    }
  }
}

const DDL_START = /^(ALTER|CREATE|DROP|RENAME)\b/i;
const NOT_TABLE_DDL =
  /^(CREATE|DROP|ALTER)\s+(USER|ROLE|FUNCTION|PROCEDURE|TRIGGER|EVENT|SERVER|LOGFILE|TABLESPACE)\b/i;

export function classifyStatement(sql: string, defaultDb: string): StatementKind {
  const s = stripLeadingComments(sql);
  const upper = s.slice(0, 40).toUpperCase();
  const xa = /^XA\s+(START|BEGIN|COMMIT|ROLLBACK)\b/i.exec(s);
  if (xa) {
    const verb = xa[1]!.toUpperCase();
    if (verb === 'START' || verb === 'BEGIN') return { kind: 'xa-start' };
    return { kind: verb === 'COMMIT' ? 'xa-commit' : 'xa-rollback', xid: parseXid(s.slice(xa[0].length)) };
  }
  if (/^(BEGIN|START\s+TRANSACTION)\b/.test(upper)) return { kind: 'begin' };
  if (/^COMMIT\b/.test(upper)) return { kind: 'commit' };
  if (/^ROLLBACK\b/.test(upper) && !/^ROLLBACK\s+TO\b/.test(upper)) return { kind: 'rollback' };
  const dml = dmlStatement(s, defaultDb);
  if (dml) return dml;
  if (/^TRUNCATE\b/.test(upper)) {
    const rest = s.replace(/^TRUNCATE\s+(TABLE\s+)?/i, '');
    const name = parseQualifiedName(rest, defaultDb);
    return name ? { kind: 'truncate', tables: [name.value] } : { kind: 'ddl' };
  }
  if (DDL_START.test(s) && !NOT_TABLE_DDL.test(s)) return { kind: 'ddl' };
  return { kind: 'other' };
}

const DML = /^(INSERT|REPLACE|UPDATE|DELETE|LOAD\s+DATA|LOAD\s+XML)\b/i;
const DML_MODIFIERS = /^(LOW_PRIORITY|DELAYED|HIGH_PRIORITY|QUICK|IGNORE|CONCURRENT|LOCAL)\s+/i;

/** INSERT/REPLACE/UPDATE/DELETE/LOAD DATA and the table it writes to (the first one named). */
function dmlStatement(s: string, defaultDb: string): Extract<StatementKind, { kind: 'dml' }> | null {
  const m = DML.exec(s);
  if (!m) return null;
  const verb = m[1]!.toUpperCase().replace(/\s+/g, ' ');
  let rest = s.slice(m[0].length).trimStart();
  for (let mod = DML_MODIFIERS.exec(rest); mod; mod = DML_MODIFIERS.exec(rest)) rest = rest.slice(mod[0].length);
  if (verb.startsWith('LOAD')) {
    // LOAD DATA … INFILE 'file' [REPLACE|IGNORE] INTO TABLE t
    const into = /\bINTO\s+TABLE\s+/i.exec(rest);
    rest = into ? rest.slice(into.index + into[0].length) : '';
  } else if (verb === 'DELETE') {
    // DELETE FROM t …; a multi-table form (`DELETE t1 FROM …`, `… USING …`) is not read.
    if (!/^FROM\s+/i.test(rest) || /\bUSING\b/i.test(rest)) rest = '';
    rest = rest.replace(/^FROM\s+/i, '');
  } else {
    rest = rest.replace(/^INTO\s+/i, '');
  }
  const name = rest ? parseQualifiedName(rest, defaultDb) : null;
  // A multi-table UPDATE (`UPDATE a, b SET …`, `UPDATE a JOIN b …`): not read.
  if (name && verb === 'UPDATE' && !/^(AS\s+)?[^\s,]*\s*SET\b/i.test(name.rest.trimStart())) {
    return { kind: 'dml', verb, tables: [] };
  }
  return { kind: 'dml', verb, tables: name ? [name.value] : [] };
}

/** Parses `db.table`, `` `db`.`table` `` or `table` at the start of `text`. */
export function parseQualifiedName(
  text: string,
  defaultDb: string,
): { value: { db: string; table: string }; rest: string } | null {
  const first = parseIdentifier(text.trimStart());
  if (!first) return null;
  let rest = first.rest;
  if (rest.startsWith('.')) {
    const second = parseIdentifier(rest.slice(1));
    if (!second) return null;
    return { value: { db: first.value, table: second.value }, rest: second.rest };
  }
  rest = rest.trimStart();
  return { value: { db: defaultDb, table: first.value }, rest };
}

export function parseIdentifier(text: string): { value: string; rest: string } | null {
  if (text.startsWith('`')) {
    let value = '';
    let i = 1;
    while (i < text.length) {
      if (text[i] === '`') {
        if (text[i + 1] === '`') {
          value += '`';
          i += 2;
          continue;
        }
        return { value, rest: text.slice(i + 1) };
      }
      value += text[i];
      i++;
    }
    return null;
  }
  const m = /^[A-Za-z0-9_$\u0080-\uffff]+/.exec(text);
  return m ? { value: m[0], rest: text.slice(m[0].length) } : null;
}
