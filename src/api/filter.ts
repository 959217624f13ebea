import type { TableFilter } from './connector.js';
import type { TableId } from './schema.js';

/**
 * Table and column filters shared by every source connector. Patterns are globs over
 * `db.table` (tables) and `db.table.column` (excluded columns): `*` matches any run of
 * characters, `?` one character; everything else is literal and case-sensitive.
 */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (const ch of pattern) {
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else re += ch.replace(/[\\^$.+()[\]{}|]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const cache = new Map<string, RegExp>();
function compiled(pattern: string): RegExp {
  let re = cache.get(pattern);
  if (!re) {
    re = globToRegExp(pattern);
    if (cache.size > 10_000) cache.clear();
    cache.set(pattern, re);
  }
  return re;
}

/** True when any pattern matches `name`. */
export function matchesAny(patterns: readonly string[], name: string): boolean {
  return patterns.some((p) => compiled(p).test(name));
}

/** A table is captured when an include pattern matches it and no exclude pattern does. */
export function isTableCaptured(filter: TableFilter, table: TableId): boolean {
  const name = `${table.db}.${table.table}`;
  return matchesAny(filter.include, name) && !matchesAny(filter.exclude, name);
}

/** True when `db.table.column` matches an excluded-column pattern. */
export function isColumnExcluded(filter: TableFilter, table: TableId, column: string): boolean {
  return filter.excludeColumns.length > 0 && matchesAny(filter.excludeColumns, `${table.db}.${table.table}.${column}`);
}

/**
 * Databases (or schemas) named literally by include patterns, or null when a pattern has a
 * wildcard in its database part (then every database may hold captured tables).
 */
export function literalDatabases(filter: TableFilter): string[] | null {
  const dbs = new Set<string>();
  for (const p of filter.include) {
    const dot = p.indexOf('.');
    const db = dot < 0 ? p : p.slice(0, dot);
    if (/[*?]/.test(db) || dot < 0) return null;
    dbs.add(db);
  }
  return [...dbs];
}

/** A filter that captures everything (tests and tools). */
export function captureAll(): TableFilter {
  return { include: ['*'], exclude: [], excludeColumns: [], keyColumns: {} };
}
