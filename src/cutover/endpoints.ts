/**
 * The two sides of a cutover as connections: the source admin endpoint (and its SourceAdmin),
 * the target endpoint, and what may be printed about them.
 */
import { FerryError } from '../api/errors.js';
import { type DbConnection, type PipelineConfig, parseDbUrl, secretsOf } from '../config/index.js';
import { redactString } from '../log/index.js';
import type { CutoverDb, CutoverEndpoint } from './db.js';
import type { SourceAdmin } from './source.js';
import { mysqlSourceAdmin } from './source-mysql.js';
import { postgresSourceAdmin } from './source-postgres.js';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);
const hostKey = (h: string) => (LOOPBACK.has(h.toLowerCase()) ? 'loopback' : h.toLowerCase());

/**
 * Why read-only on the source would also stop the sink, or null: a MySQL source and target on
 * the same server (read_only is global), or a PostgreSQL source and target in the same database.
 */
export function sharedServerReason(config: PipelineConfig): string | null {
  const s = config.source.connection;
  const t = config.sink.connection;
  if (config.source.kind !== config.sink.kind || hostKey(s.host) !== hostKey(t.host) || s.port !== t.port) return null;
  if (config.source.kind === 'mysql') {
    return 'the source and the target are the same MySQL server: read_only is global and would stop the sink too';
  }
  return s.database === t.database
    ? 'the source and the target are the same PostgreSQL database: read-only would stop the sink too'
    : null;
}

/** The source connection for admin actions: `--source-admin-url`, else the pipeline's source user. */
export function sourceAdminEndpoint(config: PipelineConfig, adminUrl?: string): CutoverEndpoint {
  const c = adminUrl ? parseDbUrl(adminUrl, config.source.kind, '--source-admin-url') : config.source.connection;
  return {
    kind: config.source.kind,
    host: c.host,
    port: c.port,
    user: c.user,
    password: c.password,
    // PostgreSQL: the captured database, whatever the admin URL names (catalogs are per database).
    database: config.source.kind === 'postgres' ? config.source.connection.database : c.database,
    tls: config.source.tls,
  };
}

/** The target endpoint: the sink's, or with `shard` the connection of that shard. */
export function targetEndpoint(config: PipelineConfig, shard?: DbConnection): CutoverEndpoint {
  const c = shard ?? config.sink.connection;
  if (config.sink.kind === 'redis') {
    throw new FerryError(
      'FERRY_USAGE',
      'cutover moves applications to a SQL target; sink.kind is redis, a secondary store',
    );
  }
  return {
    kind: config.sink.kind,
    host: c.host,
    port: c.port,
    user: c.user,
    password: c.password,
    database: c.database,
    tls: config.sink.tls,
  };
}

/** The target URL to print: password masked, known secrets replaced. */
export function maskedTargetUrl(config: PipelineConfig): string {
  const text = config.sink.url ?? (config.sink.shards ?? []).map((s) => `${s.name}: ${s.url}`).join(', ');
  return redactString(text, secretsOf(config));
}

/** The SourceAdmin of the source's engine on an open session to it. */
export function sourceAdminFor(config: PipelineConfig, db: CutoverDb): SourceAdmin {
  if (config.source.kind === 'mysql') return mysqlSourceAdmin(db);
  return postgresSourceAdmin(db, config.source.connection.database ?? 'postgres', config.source.slot);
}
