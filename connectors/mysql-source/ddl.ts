/**
 * Classifies the statements of binlog `query` events (pure). With binlog_format=ROW, row changes
 * never arrive as statements; what does is transaction control (BEGIN/COMMIT), DDL, and
 * account/privilege statements. Only TRUNCATE needs its table names parsed; any other DDL makes
 * the connector re-read the captured tables' schemas and publish those that changed.
 */
export type StatementKind =
  | { kind: 'begin' }
  | { kind: 'commit' }
  | { kind: 'rollback' }
  | { kind: 'truncate'; tables: Array<{ db: string; table: string }> }
  | { kind: 'ddl' }
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
  if (/^(BEGIN|START\s+TRANSACTION|XA\s+START)\b/.test(upper)) return { kind: 'begin' };
  if (/^(COMMIT|XA\s+COMMIT)\b/.test(upper)) return { kind: 'commit' };
  if (/^(ROLLBACK|XA\s+ROLLBACK)\b/.test(upper) && !/^ROLLBACK\s+TO\b/.test(upper)) return { kind: 'rollback' };
  if (/^TRUNCATE\b/.test(upper)) {
    const rest = s.replace(/^TRUNCATE\s+(TABLE\s+)?/i, '');
    const name = parseQualifiedName(rest, defaultDb);
    return name ? { kind: 'truncate', tables: [name.value] } : { kind: 'ddl' };
  }
  if (DDL_START.test(s) && !NOT_TABLE_DDL.test(s)) return { kind: 'ddl' };
  return { kind: 'other' };
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
