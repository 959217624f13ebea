import type { Connection, RowDataPacket } from 'mysql2/promise';
import type { CheckResult, SourceContext, StoredSourceOffset } from '../../src/api/index.js';
import type { MysqlSourceConfig } from './config.js';
import { type BinaryLog, fromSourcePosition, positionAvailable } from './position.js';
import { readSchemas } from './schema.js';

/** How to recover when the stored position is gone (coordinated with the CLI's `--resnapshot`). */
export const RESNAPSHOT_HINT =
  'To start over with a new initial snapshot, forget the stored position: run `ferry source -c <config> --resnapshot` ' +
  '(docs/snapshots.md#re-snapshot). Keep binlogs longer (binlog_expire_logs_seconds) so it does not happen again.';

export interface ServerSettings {
  logBin: string | null;
  binlogFormat: string | null;
  rowImage: string | null;
  /** null when the server has no binlog_row_metadata (MariaDB < 10.5, MySQL < 8.0.1). */
  rowMetadata: string | null;
  serverId: number | null;
  version: string;
}

/** The server-setting checks (pure). */
export function settingChecks(s: ServerSettings): CheckResult[] {
  const check = (name: string, ok: boolean, detail: string, fix: string): CheckResult =>
    ok ? { name, ok } : { name, ok, detail, fix };
  const upper = (v: string | null) => (v ?? '').toUpperCase();
  return [
    check(
      'binlog enabled',
      upper(s.logBin) === 'ON' || s.logBin === '1',
      `log_bin is ${s.logBin ?? 'unknown'}`,
      'start the server with --log-bin (and restart it)',
    ),
    check(
      'binlog_format',
      upper(s.binlogFormat) === 'ROW',
      `binlog_format is ${s.binlogFormat ?? 'unknown'}`,
      "SET GLOBAL binlog_format = 'ROW' and put binlog_format=ROW in the server config (existing sessions keep the old format until they reconnect)",
    ),
    check(
      'binlog_row_image',
      upper(s.rowImage) === 'FULL',
      `binlog_row_image is ${s.rowImage ?? 'unknown'}`,
      "SET GLOBAL binlog_row_image = 'FULL' and put binlog_row_image=FULL in the server config",
    ),
    check(
      'binlog_row_metadata',
      upper(s.rowMetadata) === 'FULL',
      s.rowMetadata === null
        ? `the server (${s.version}) has no binlog_row_metadata`
        : `binlog_row_metadata is ${s.rowMetadata}`,
      s.rowMetadata === null
        ? 'use MariaDB 10.5+ or MySQL 8.0.1+'
        : "SET GLOBAL binlog_row_metadata = 'FULL' and put binlog_row_metadata=FULL in the server config",
    ),
  ];
}

/** Global privileges named in SHOW GRANTS output (pure). */
export function globalPrivileges(grants: string[]): Set<string> {
  const out = new Set<string>();
  for (const g of grants) {
    const m = /^GRANT\s+(.+?)\s+ON\s+\*\.\*\s+TO\b/i.exec(g.trim());
    if (!m) continue;
    for (const p of m[1]!.split(',')) out.add(p.trim().toUpperCase());
  }
  return out;
}

export function replicationPrivilegeCheck(grants: string[]): CheckResult {
  const privs = globalPrivileges(grants);
  const all = privs.has('ALL PRIVILEGES') || privs.has('ALL');
  const missing: string[] = [];
  if (!all && !privs.has('REPLICATION SLAVE')) missing.push('REPLICATION SLAVE');
  if (!all && !privs.has('REPLICATION CLIENT') && !privs.has('BINLOG MONITOR')) {
    missing.push('REPLICATION CLIENT (MariaDB: BINLOG MONITOR)');
  }
  if (missing.length === 0) return { name: 'privileges', ok: true };
  return {
    name: 'privileges',
    ok: false,
    detail: `the user lacks ${missing.join(' and ')}`,
    fix: `GRANT ${missing.map((m) => m.replace(/ \(.*\)$/, '')).join(', ')} ON *.* TO <user>`,
  };
}

type Rows = RowDataPacket[];

async function variable(conn: Connection, name: string): Promise<string | null> {
  try {
    const [rows] = await conn.query<Rows>(`SELECT @@GLOBAL.${name} AS v`);
    const v = rows[0]?.['v'];
    return v === null || v === undefined ? null : String(v);
  } catch {
    return null;
  }
}

export async function readSettings(conn: Connection): Promise<ServerSettings> {
  const [ver] = await conn.query<Rows>('SELECT VERSION() AS v');
  const serverId = await variable(conn, 'server_id');
  return {
    logBin: await variable(conn, 'log_bin'),
    binlogFormat: await variable(conn, 'binlog_format'),
    rowImage: await variable(conn, 'binlog_row_image'),
    rowMetadata: await variable(conn, 'binlog_row_metadata'),
    serverId: serverId === null ? null : Number(serverId),
    version: String(ver[0]?.['v'] ?? 'unknown'),
  };
}

export async function showBinaryLogs(conn: Connection): Promise<BinaryLog[]> {
  const [rows] = await conn.query<Rows>('SHOW BINARY LOGS');
  return rows.map((r) => ({ name: String(r['Log_name']), size: Number(r['File_size']) }));
}

/** Every preflight check of the MySQL source (docs/mysql-source.md#preflight). */
export async function runPreflight(
  conn: Connection,
  cfg: MysqlSourceConfig,
  ctx: SourceContext,
  stored: StoredSourceOffset | null,
): Promise<CheckResult[]> {
  const settings = await readSettings(conn);
  const results = settingChecks(settings);
  if (settings.serverId !== null && settings.serverId === cfg.serverId) {
    results.push({
      name: 'replication server id',
      ok: false,
      detail: `ferry's serverId ${cfg.serverId} equals the server's own server_id`,
      fix: 'set source.serverId to a number no server or replica of the topology uses',
    });
  }
  const [grants] = await conn.query<Rows>('SHOW GRANTS FOR CURRENT_USER()');
  results.push(replicationPrivilegeCheck(grants.map((r) => String(Object.values(r)[0]))));

  let logs: BinaryLog[] | null = null;
  try {
    logs = await showBinaryLogs(conn);
  } catch (err) {
    results.push({
      name: 'binary logs',
      ok: false,
      detail: `SHOW BINARY LOGS failed: ${(err as Error).message}`,
      fix: 'GRANT REPLICATION CLIENT (MariaDB: BINLOG MONITOR) ON *.* TO <user>, and enable the binlog',
    });
  }

  const read = await readSchemas(conn, ctx.filter);
  if (read.tables.length === 0 && read.problems.length === 0) {
    results.push({
      name: 'captured tables',
      ok: false,
      detail: `no table matches source.tables ${JSON.stringify(ctx.filter.include)} (minus source.exclude)`,
      fix: 'check the patterns (`db.table`, `*` matches any characters) and that the user can see the tables',
    });
  }
  for (const p of read.problems) results.push({ name: `table ${p.table}`, ok: false, detail: p.reason, fix: p.fix });
  for (const t of read.tables) {
    const name = `\`${t.schema.db.replace(/`/g, '``')}\`.\`${t.schema.table.replace(/`/g, '``')}\``;
    try {
      await conn.query(`SELECT 1 FROM ${name} LIMIT 0`);
    } catch (err) {
      results.push({
        name: `table ${t.schema.db}.${t.schema.table}`,
        ok: false,
        detail: `cannot read it: ${(err as Error).message}`,
        fix: `GRANT SELECT ON ${name} TO <user>`,
      });
    }
  }

  if (stored && logs) results.push(storedPositionCheck(stored, logs, settings.serverId));
  return results;
}

/** The stored position must still be on the server, and on the same server (pure). */
export function storedPositionCheck(
  stored: StoredSourceOffset,
  logs: BinaryLog[],
  serverId: number | null,
): CheckResult {
  const name = 'stored position';
  let p: ReturnType<typeof fromSourcePosition>;
  try {
    p = fromSourcePosition(stored.position);
  } catch (err) {
    return { name, ok: false, detail: (err as Error).message, fix: RESNAPSHOT_HINT };
  }
  if (p.serverId !== null && serverId !== null && p.serverId !== serverId) {
    return {
      name,
      ok: false,
      detail: `the stored position ${p.file}:${p.pos} belongs to server_id ${p.serverId}, but this server is ${serverId}`,
      fix: `point source.url at the original server, or: ${RESNAPSHOT_HINT}`,
    };
  }
  const available = positionAvailable(p, logs);
  if (available.ok) return { name, ok: true };
  const during = stored.phase === 'snapshot' ? ' (the interrupted snapshot resumes from it)' : '';
  return {
    name,
    ok: false,
    detail: `cannot resume from ${p.file}:${p.pos}${during}: ${available.reason}; changes made since are no longer in the binlog`,
    fix: RESNAPSHOT_HINT,
  };
}
