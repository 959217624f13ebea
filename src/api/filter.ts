import type { TableFilter } from './connector.js';
import type { TableId } from './schema.js';

/**
 * Table and column filters shared by every source connector. Patterns name `db.table` (tables)
 * or `db.table.column` (excluded columns), one part per identifier, separated by dots. In a part,
 * `*` matches any run of characters and `?` one character; a backslash makes the next character
 * literal (`\.` a dot inside a name, `\*`, `\?`, `\\`); every other character, spaces
 * included, is literal and case-sensitive. Each part is matched against one identifier, so a dot
 * inside a name never shifts the parts.
 */

export interface PatternPart {
  /** Matches one identifier. */
  re: RegExp;
  /** The identifier, when the part has no wildcard (escapes removed); else null. */
  literal: string | null;
}

/**
 * Splits a pattern into its parts (on the dots not escaped by a backslash); null when it ends
 * in a lone backslash.
 */
export function patternParts(pattern: string): PatternPart[] | null {
  const parts: PatternPart[] = [];
  let re = '';
  let literal = '';
  let wild = false;
  const close = () => {
    parts.push({ re: new RegExp(`^${re}$`, 's'), literal: wild ? null : literal });
    re = '';
    literal = '';
    wild = false;
  };
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === '\\') {
      const next = chars[++i];
      if (next === undefined) return null;
      re += escapeRe(next);
      literal += next;
    } else if (ch === '.') close();
    else if (ch === '*' || ch === '?') {
      re += ch === '*' ? '.*' : '.';
      wild = true;
    } else {
      re += escapeRe(ch);
      literal += ch;
    }
  }
  close();
  return parts;
}

function escapeRe(ch: string): string {
  return ch.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

/** A pattern of `n` non-empty parts, or why not (config validation). */
export function checkPattern(pattern: string, n: number, wildcards: boolean): string | null {
  const parts = patternParts(pattern);
  if (!parts) return 'ends with a lone backslash (write "\\\\" for a backslash in a name)';
  if (parts.length !== n || parts.some((p) => p.re.source === '^$')) {
    return `has ${parts.length} part(s) where ${n} non-empty ones are expected; write "\\." for a dot inside a name`;
  }
  if (!wildcards && parts.some((p) => p.literal === null)) {
    return 'has a wildcard where an exact name is expected; write "\\*" or "\\?" for those characters in a name';
  }
  return null;
}

const cache = new Map<string, PatternPart[] | null>();
function compiled(pattern: string): PatternPart[] | null {
  let parts = cache.get(pattern);
  if (parts === undefined) {
    parts = patternParts(pattern);
    if (cache.size > 10_000) cache.clear();
    cache.set(pattern, parts);
  }
  return parts;
}

/**
 * True when the pattern matches the identifiers part by part. A one-part pattern (`*`) is
 * matched against the identifiers joined by dots.
 */
export function matchesName(pattern: string, names: readonly string[]): boolean {
  const parts = compiled(pattern);
  if (!parts) return false;
  if (parts.length === 1 && names.length > 1) return parts[0]!.re.test(names.join('.'));
  return parts.length === names.length && parts.every((p, i) => p.re.test(names[i]!));
}

/** True when any pattern matches the identifiers (`[db, table]` or `[db, table, column]`). */
export function matchesAny(patterns: readonly string[], names: readonly string[]): boolean {
  return patterns.some((p) => matchesName(p, names));
}

/** A table is captured when an include pattern matches it and no exclude pattern does. */
export function isTableCaptured(filter: TableFilter, table: TableId): boolean {
  const names = [table.db, table.table];
  return matchesAny(filter.include, names) && !matchesAny(filter.exclude, names);
}

/** The configured key columns of a table (`source.keyColumns`, keyed by exact `db.table` names). */
export function configuredKeyColumns(filter: TableFilter, table: TableId): string[] | undefined {
  for (const [name, columns] of Object.entries(filter.keyColumns)) {
    const parts = compiled(name);
    if (parts?.length === 2 && parts[0]!.literal === table.db && parts[1]!.literal === table.table) return columns;
  }
  return undefined;
}

/** True when `db.table.column` matches an excluded-column pattern. */
export function isColumnExcluded(filter: TableFilter, table: TableId, column: string): boolean {
  return filter.excludeColumns.length > 0 && matchesAny(filter.excludeColumns, [table.db, table.table, column]);
}

/**
 * Databases (or schemas) named literally by include patterns, or null when a pattern has a
 * wildcard in its database part (then every database may hold captured tables).
 */
export function literalDatabases(filter: TableFilter): string[] | null {
  const dbs = new Set<string>();
  for (const p of filter.include) {
    const db = compiled(p)?.[0]?.literal;
    if (compiled(p)?.length !== 2 || db === null || db === undefined) return null;
    dbs.add(db);
  }
  return [...dbs];
}

/** A filter that captures everything (tests and tools). */
export function captureAll(): TableFilter {
  return { include: ['*'], exclude: [], excludeColumns: [], keyColumns: {} };
}
