/**
 * Rules that involve two fields at once: the URL scheme must match the kind, and fields that
 * only apply to one kind must not be set for the other. They run on the interpolated input
 * next to the schema, so that all problems are reported together.
 */
import { ConfigError } from '../api/errors.js';
import type { ConfigIssue } from './issues.js';
import { SINK_KINDS, SOURCE_KINDS, SOURCE_TRANSACTIONS_DEFAULT } from './schema.js';
import { type DbKind, parseDbUrl } from './url.js';

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function kindOf(section: Record<string, unknown> | undefined, kinds: readonly string[]): DbKind | undefined {
  const kind = section?.['kind'];
  return typeof kind === 'string' && kinds.includes(kind) ? (kind as DbKind) : undefined;
}

function checkUrl(section: Record<string, unknown>, kind: DbKind, path: string, issues: ConfigIssue[]): void {
  const url = section['url'];
  if (typeof url !== 'string' || url.length === 0) return;
  try {
    parseDbUrl(url, kind, path);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    issues.push({ path, message: err.message.slice(path.length + 2) });
  }
}

function onlyFor(
  section: Record<string, unknown>,
  keys: readonly string[],
  sectionName: string,
  wanted: DbKind,
  actual: DbKind,
  hint: string,
  issues: ConfigIssue[],
): void {
  for (const key of keys) {
    if (section[key] === undefined) continue;
    issues.push({
      path: `${sectionName}.${key}`,
      message: `only applies when ${sectionName}.kind is ${wanted}, but it is ${actual}; ${hint}`,
    });
  }
}

/** `sink.url` or `sink.shards` (not both), shard URLs and names, `sink.routing` only with shards. */
function shardIssues(sink: Record<string, unknown>, kind: DbKind | undefined, issues: ConfigIssue[]): void {
  const shards = Array.isArray(sink['shards']) ? (sink['shards'] as unknown[]) : undefined;
  if (!shards) {
    if (sink['url'] === undefined) {
      issues.push({ path: 'sink.url', message: 'required: the target database URL (or sink.shards for several)' });
    }
    if (sink['routing'] !== undefined) {
      issues.push({ path: 'sink.routing', message: 'only applies with sink.shards; remove it or add sink.shards' });
    }
    return;
  }
  if (sink['url'] !== undefined) {
    issues.push({ path: 'sink.url', message: 'remove it: with sink.shards each shard names its own url' });
  }
  if (kind === 'redis') {
    issues.push({ path: 'sink.shards', message: 'sharding applies to postgres and mysql sinks; use one redis url' });
  }
  const seen = new Set<string>();
  shards.forEach((entry, i) => {
    const shard = record(entry);
    if (!shard) return;
    const name = shard['name'];
    if (typeof name === 'string') {
      if (seen.has(name))
        issues.push({ path: `sink.shards[${i}].name`, message: `${name} is used twice; names must be unique` });
      seen.add(name);
    }
    if (kind && kind !== 'redis') checkUrl(shard, kind, `sink.shards[${i}].url`, issues);
  });
}

/** Cross-field problems of an (interpolated) config object. Fields the schema rejects are skipped. */
export function crossFieldIssues(input: unknown): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const root = record(input);
  const source = record(root?.['source']);
  const sink = record(root?.['sink']);
  const sourceKind = kindOf(source, SOURCE_KINDS);
  const sinkKind = kindOf(sink, SINK_KINDS);
  if (source && sourceKind) {
    checkUrl(source, sourceKind, 'source.url', issues);
    if (sourceKind === 'postgres')
      onlyFor(source, ['serverId', 'statementDml'], 'source', 'mysql', sourceKind, 'remove it', issues);
    else
      onlyFor(
        source,
        ['slot', 'publication', 'createPublication', 'discoverIntervalMs'],
        'source',
        'postgres',
        sourceKind,
        'remove it',
        issues,
      );
  }
  if (root) shardIssues(sink ?? {}, sinkKind, issues);
  if (sink && sinkKind) {
    checkUrl(sink, sinkKind, 'sink.url', issues);
    if (sinkKind !== 'redis') onlyFor(sink, ['redis'], 'sink', 'redis', sinkKind, 'remove it', issues);
    if (sinkKind === 'redis') {
      const hint = 'a redis sink keeps the source names in its keys (see sink.redis.tables)';
      onlyFor(sink, ['schema'], 'sink', 'postgres', sinkKind, hint, issues);
      onlyFor(sink, ['database'], 'sink', 'mysql', sinkKind, hint, issues);
      if (sink['consistency'] === 'transaction') {
        issues.push({
          path: 'sink.consistency',
          message:
            'transaction mode applies to SQL targets (postgres, mysql) only; a redis sink applies per row: use ' +
            'consistency: row (docs/transactions.md#targets)',
        });
      }
    } else if (sinkKind === 'postgres') {
      onlyFor(
        sink,
        ['database'],
        'sink',
        'mysql',
        sinkKind,
        'a postgres sink uses sink.schema (sink.url names the database)',
        issues,
      );
    } else {
      onlyFor(sink, ['schema'], 'sink', 'postgres', sinkKind, 'a mysql sink uses sink.database', issues);
    }
  }
  if (source?.['snapshotTransport'] === 'direct') directLaneIssues(source, sink, sinkKind, issues);
  const metadata = source?.['transactions'] ?? SOURCE_TRANSACTIONS_DEFAULT;
  if (sink?.['consistency'] === 'transaction' && metadata === false) {
    issues.push({
      path: 'sink.consistency',
      message:
        'sink.consistency: transaction needs the source transaction metadata, but source.transactions is false: ' +
        'set source.transactions: true (docs/transactions.md)',
    });
  }
  return issues;
}

/** `source.snapshotTransport: direct` writes into one SQL target from the source process, row by row consistency. */
function directLaneIssues(
  source: Record<string, unknown>,
  sink: Record<string, unknown> | undefined,
  sinkKind: DbKind | undefined,
  issues: ConfigIssue[],
): void {
  const path = 'source.snapshotTransport';
  const why = (what: string, fix: string) =>
    issues.push({ path, message: `direct applies ${what}; ${fix}, or use snapshotTransport: kafka` });
  if (sinkKind === 'redis') why('to postgres and mysql sinks', 'use a SQL sink');
  if (sink && Array.isArray(sink['shards'])) why('to a sink without shards', 'remove sink.shards');
  if (sink?.['consistency'] === 'transaction') why('with sink.consistency: row', 'set consistency: row');
  if (source['failover'] === true) why('without source.failover', 'remove source.failover');
}
