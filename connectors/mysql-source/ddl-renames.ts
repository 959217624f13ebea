/**
 * The renames a DDL statement makes (pure): RENAME TABLE, ALTER TABLE … RENAME [TO|AS],
 * ALTER TABLE … RENAME COLUMN a TO b, and ALTER TABLE … CHANGE [COLUMN] a b …. The connector
 * uses them to tell a rename from a drop and an add when it re-reads the schemas after the DDL
 * (docs/schema-changes.md).
 */
import type { TableId } from '../../src/api/index.js';
import { parseIdentifier, parseQualifiedName, stripLeadingComments } from './ddl.js';

export interface DdlRenames {
  tables: Array<{ from: TableId; to: TableId }>;
  columns: Array<{ table: TableId; from: string; to: string }>;
}

export function noRenames(): DdlRenames {
  return { tables: [], columns: [] };
}

/** Splits at commas outside quotes and parentheses. */
export function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === '\\' && quote !== '`') i++;
      else if (ch === quote) {
        if (text[i + 1] === quote) i++;
        else quote = null;
      }
      continue;
    }
    if (ch === "'" || ch === '"' || ch === '`') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out.map((s) => s.trim()).filter((s) => s.length > 0);
}

const word = (text: string, w: string): string | null => {
  const m = new RegExp(`^${w}\\b`, 'i').exec(text);
  return m ? text.slice(m[0].length).trimStart() : null;
};

export function parseRenames(sql: string, defaultDb: string): DdlRenames {
  const out = noRenames();
  const s = stripLeadingComments(sql);
  let rest = word(s, 'RENAME');
  if (rest !== null) {
    rest = word(rest, 'TABLES?') ?? word(rest, 'TABLE');
    if (rest === null) return out;
    for (const part of splitTopLevel(rest)) {
      const from = parseQualifiedName(part, defaultDb);
      if (!from) continue;
      const afterTo = word(from.rest.trimStart(), 'TO');
      const to = afterTo === null ? null : parseQualifiedName(afterTo, defaultDb);
      if (to) out.tables.push({ from: from.value, to: to.value });
    }
    return out;
  }
  rest = word(s, 'ALTER');
  if (rest === null) return out;
  rest = word(rest, 'ONLINE') ?? rest;
  rest = word(rest, 'IGNORE') ?? rest;
  rest = word(rest, 'TABLE');
  if (rest === null) return out;
  rest = word(rest, 'IF\\s+EXISTS') ?? rest;
  const name = parseQualifiedName(rest, defaultDb);
  if (!name) return out;
  const table = name.value;
  for (const spec of splitTopLevel(name.rest)) {
    let r = word(spec, 'RENAME');
    if (r !== null) {
      const col = word(r, 'COLUMN');
      if (col !== null) {
        const from = parseIdentifier(word(col, 'IF\\s+EXISTS') ?? col);
        const afterTo = from ? word(from.rest.trimStart(), 'TO') : null;
        const to = afterTo === null ? null : parseIdentifier(afterTo);
        if (from && to) out.columns.push({ table, from: from.value, to: to.value });
        continue;
      }
      if (/^(INDEX|KEY)\b/i.test(r)) continue;
      r = word(r, 'TO') ?? word(r, 'AS') ?? r;
      const to = parseQualifiedName(r, table.db);
      if (to) out.tables.push({ from: table, to: to.value });
      continue;
    }
    r = word(spec, 'CHANGE');
    if (r !== null) {
      r = word(r, 'COLUMN') ?? r;
      r = word(r, 'IF\\s+EXISTS') ?? r;
      const from = parseIdentifier(r);
      const to = from ? parseIdentifier(from.rest.trimStart()) : null;
      if (from && to && from.value !== to.value) out.columns.push({ table, from: from.value, to: to.value });
    }
  }
  return out;
}
