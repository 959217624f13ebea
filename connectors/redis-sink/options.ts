/**
 * Options of the Redis sink (docs/redis-sink.md) and the per-table settings resolved from them:
 * the key template, the value format, TTL and the change stream.
 */
import { ConfigError, type TableId, type TlsSettings } from '../../src/api/index.js';

export type RedisFormat = 'hash' | 'json';

/** Settings of one table (`db.table` in `tables`); each falls back to the sink-wide one. */
export interface RedisTableOptions {
  /** Key template with `{column}` placeholders for every key column; default `<db>.<table>:{k1}:{k2}…`. */
  key?: string;
  format?: RedisFormat;
  /** Seconds a row key lives after its last write; unset: no expiry. */
  ttlSeconds?: number;
  /** XADD every change to the table's change stream. */
  streams?: boolean;
  /** Key of the change stream; default `<db>.<table>.changes`. */
  streamKey?: string;
}

export interface RedisSinkOptions {
  /** `redis://[user[:password]@]host[:port][/db]` or `rediss://…` (TLS); or the parts below (the parts win). */
  url?: string;
  host?: string;
  port?: number;
  /** ACL user; default the `default` user. */
  username?: string;
  password?: string;
  tls?: boolean;
  /** TLS settings (`sink.tls`, or verify-full for a `rediss://` URL); win over `tls`. */
  tlsSettings?: TlsSettings;
  /** Logical database number; default 0. */
  database?: number;
  /** Prepended to every key ferry writes (rows, streams, key index, offsets). Default none. */
  keyPrefix?: string;
  /** Default `hash`. */
  format?: RedisFormat;
  ttlSeconds?: number;
  streams?: boolean;
  /** Approximate MAXLEN of change streams (XADD MAXLEN ~); default 100 000. */
  streamMaxLen?: number;
  /** Per-table settings, keyed `db.table` (as the source names it). */
  tables?: Record<string, RedisTableOptions>;
  /** Connect timeout, ms; default 10 000. */
  connectTimeoutMs?: number;
}

/** Everything the sink needs to know about one table. */
export interface TablePlan {
  /** Template parts: literal text and key-column placeholders, in order. */
  key: Array<{ text: string } | { column: string }>;
  format: RedisFormat;
  ttlSeconds: number | null;
  stream: string | null;
  /** The set holding every row key ferry wrote for the table (truncate deletes exactly those). */
  index: string;
}

const PLACEHOLDER = /\{([^{}]+)\}/g;

/** Splits a key template into literal parts and `{column}` placeholders. */
export function parseKeyTemplate(template: string, path: string): TablePlan['key'] {
  const parts: TablePlan['key'] = [];
  let last = 0;
  for (const m of template.matchAll(PLACEHOLDER)) {
    if (m.index > last) parts.push({ text: template.slice(last, m.index) });
    parts.push({ column: m[1]! });
    last = m.index + m[0].length;
  }
  if (last < template.length) parts.push({ text: template.slice(last) });
  const rest = parts.filter((p): p is { text: string } => 'text' in p).map((p) => p.text);
  if (rest.some((t) => t.includes('{') || t.includes('}'))) {
    throw new ConfigError(path, `key template ${JSON.stringify(template)} has an unmatched brace; write {column}`);
  }
  return parts;
}

function positiveInt(value: number | undefined, path: string): number | null {
  if (value === undefined) return null;
  if (!Number.isInteger(value) || value < 1) throw new ConfigError(path, `must be a whole number ≥ 1, got ${value}`);
  return value;
}

/** The meta keys of a pipeline: `<prefix>ferry:<pipeline>:`. */
export function metaPrefix(opts: RedisSinkOptions, pipeline: string): string {
  return `${opts.keyPrefix ?? ''}ferry:${pipeline}:`;
}

/**
 * The plan of a table: its key template (every key column must appear in it, else two rows
 * could share a key), format, TTL and stream. Throws a ConfigError naming the option.
 */
export function planTable(opts: RedisSinkOptions, pipeline: string, table: TableId, primaryKey: string[]): TablePlan {
  const name = `${table.db}.${table.table}`;
  const t = opts.tables?.[name] ?? {};
  const path = `sink.tables["${name}"]`;
  const prefix = opts.keyPrefix ?? '';
  const template = t.key ?? `${name}:${primaryKey.map((k) => `{${k}}`).join(':')}`;
  const key = parseKeyTemplate(`${prefix}${template}`, `${path}.key`);
  const used = new Set(key.flatMap((p) => ('column' in p ? [p.column] : [])));
  for (const c of used) {
    if (!primaryKey.includes(c)) {
      throw new ConfigError(
        `${path}.key`,
        `names {${c}}, which is not a key column of ${name} (key: ${primaryKey.join(', ')}); only key columns may appear, ` +
          'since a row keeps its Redis key for life',
      );
    }
  }
  const missing = primaryKey.filter((k) => !used.has(k));
  if (missing.length > 0) {
    throw new ConfigError(
      `${path}.key`,
      `must name every key column of ${name} (missing ${missing.map((m) => `{${m}}`).join(', ')}), or two rows would share one Redis key`,
    );
  }
  const format = t.format ?? opts.format ?? 'hash';
  if (format !== 'hash' && format !== 'json') {
    throw new ConfigError(`${path}.format`, `must be hash or json, got ${JSON.stringify(format)}`);
  }
  const streams = t.streams ?? opts.streams ?? false;
  return {
    key,
    format,
    ttlSeconds: positiveInt(t.ttlSeconds ?? opts.ttlSeconds, `${path}.ttlSeconds`),
    stream: streams ? `${prefix}${t.streamKey ?? `${name}.changes`}` : null,
    index: `${metaPrefix(opts, pipeline)}keys:${name}`,
  };
}
