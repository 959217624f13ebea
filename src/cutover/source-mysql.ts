/**
 * Cutover on a MySQL/MariaDB source.
 *
 * - Read-only: `SET GLOBAL read_only = ON` (needs READ_ONLY ADMIN on MariaDB ≥ 10.5.2, SUPER
 *   before; SUPER or SYSTEM_VARIABLES_ADMIN on MySQL). It waits for running transactions and
 *   table locks, bounded by the session's lock_wait_timeout. Existing sessions are stopped at
 *   once, except those of users that bypass read_only (MariaDB: READ_ONLY ADMIN, older: SUPER;
 *   MySQL: SUPER / CONNECTION_ADMIN unless super_read_only): they are listed as warnings.
 * - Final position: SHOW BINARY LOG STATUS (MySQL 8.4) or SHOW MASTER STATUS, plus the GTID
 *   position (@@gtid_binlog_pos on MariaDB, @@gtid_executed on MySQL).
 * - Published: the stored position is at or past the final one, or the binlog between them holds
 *   no change of a captured table (positions.ts).
 */
import type { TableFilter } from '../api/connector.js';
import type { TableId } from '../api/schema.js';
import type { CutoverDb } from './db.js';
import {
  type BinlogEventRow,
  binlogBytesBehind,
  binlogEventTouchesCapture,
  compareBinlog,
  type FinalPosition,
  storedBinlogPosition,
} from './positions.js';
import type { PublishedCheck, ReadOnlyPrivilege, SessionReport, SourceAdmin, SourceAutoColumn } from './source.js';
import { str } from './values.js';

/** Binlog events read per SHOW BINLOG EVENTS, and at most per check. */
const SCAN_PAGE = 1000;
const SCAN_MAX = 50_000;

/** Users that are never application writers. */
const SYSTEM_USERS = new Set(['system user', 'event_scheduler', 'unauthenticated user', 'replication_manager']);

/** `'user'@'host'` (information_schema GRANTEE form) of CURRENT_USER()'s `user@host`. */
export function granteeOf(currentUser: string): string {
  const at = currentUser.lastIndexOf('@');
  const user = at >= 0 ? currentUser.slice(0, at) : currentUser;
  const host = at >= 0 ? currentUser.slice(at + 1) : '%';
  return `'${user}'@'${host}'`;
}

/** Privileges that let a user write while read_only is ON, per flavor. */
export function bypassPrivileges(flavor: string): string[] {
  return flavor === 'mariadb' ? ['READ_ONLY ADMIN', 'SUPER'] : ['SUPER', 'CONNECTION_ADMIN'];
}

export function mysqlSourceAdmin(db: CutoverDb): SourceAdmin {
  let scanCache: { key: string; result: PublishedCheck } | null = null;

  async function scanBinlog(
    from: { file: string; pos: number },
    to: { file: string; pos: number },
    filter: TableFilter,
  ): Promise<'clean' | 'captured' | 'unknown'> {
    const logs = (await db.query('SHOW BINARY LOGS')).map((r) => str(r[0]));
    const files = logs.filter((f) => {
      const a = compareBinlog({ file: f, pos: 0 }, { file: from.file, pos: 0 });
      const b = compareBinlog({ file: f, pos: 0 }, { file: to.file, pos: 0 });
      return a !== null && b !== null && a >= 0 && b <= 0;
    });
    if (!files.includes(from.file)) return 'unknown';
    let scanned = 0;
    for (const file of files) {
      let pos = file === from.file ? from.pos : 4;
      for (;;) {
        if (file === to.file && pos >= to.pos) break;
        const rows = await db.query(`SHOW BINLOG EVENTS IN ? FROM ? LIMIT ${SCAN_PAGE}`, [file, pos]);
        const events: BinlogEventRow[] = rows.map((r) => ({
          file: str(r[0]),
          pos: Number(r[1]),
          type: str(r[2]),
          endPos: Number(r[4]),
          info: str(r[5]),
        }));
        for (const ev of events) {
          if (file === to.file && ev.pos >= to.pos) break;
          if (binlogEventTouchesCapture(ev, filter)) return 'captured';
        }
        scanned += events.length;
        if (scanned > SCAN_MAX) return 'unknown';
        const last = events[events.length - 1];
        if (events.length < SCAN_PAGE || !last || last.endPos <= pos) break;
        pos = last.endPos;
      }
    }
    return 'clean';
  }

  const admin: SourceAdmin = {
    kind: 'mysql',
    db,

    readOnlyStatement: (on) => `SET GLOBAL read_only = ${on ? 'ON' : 'OFF'}`,

    async isReadOnly() {
      const rows = await db.query('SELECT @@GLOBAL.read_only');
      return Number(rows[0]?.[0]) === 1;
    },

    async canSetReadOnly(): Promise<ReadOnlyPrivilege> {
      const needed = db.flavor === 'mariadb' ? ['READ_ONLY ADMIN', 'SUPER'] : ['SUPER', 'SYSTEM_VARIABLES_ADMIN'];
      try {
        const user = str((await db.query('SELECT CURRENT_USER()'))[0]?.[0]);
        const rows = await db.query('SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ?', [
          granteeOf(user),
        ]);
        const has = rows.map((r) => str(r[0]).toUpperCase()).filter((p) => needed.includes(p));
        if (db.flavor === 'mariadb' && has.length === 1 && has[0] === 'SUPER') {
          return {
            allowed: null,
            detail: `${user} has SUPER but not READ_ONLY ADMIN, which newer MariaDB versions require`,
          };
        }
        if (has.length > 0) return { allowed: true, detail: `${user} has ${has.join(', ')}` };
        return {
          allowed: rows.length > 0 ? false : null,
          detail: `${user} has none of ${needed.join(' / ')} (privileges granted through roles are not seen)`,
        };
      } catch (err) {
        return { allowed: null, detail: `cannot read the privileges: ${(err as Error).message}` };
      }
    },

    async setReadOnly(on, lockWaitSeconds) {
      await db.query(`SET SESSION lock_wait_timeout = ${Math.max(1, Math.floor(lockWaitSeconds))}`);
      await db.query(admin.readOnlyStatement(on));
    },

    async sessions(_terminate, pipelineUser): Promise<SessionReport> {
      const report: SessionReport = { others: [], warnings: [], terminated: 0 };
      const rows = await db.query(
        `SELECT USER, HOST, COMMAND FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID()`,
      );
      const byUser = new Map<string, number>();
      for (const r of rows) {
        const user = str(r[0]);
        const command = str(r[2]);
        if (SYSTEM_USERS.has(user) || /^Binlog Dump/i.test(command) || command === 'Daemon') continue;
        const host = str(r[1]).replace(/:\d+$/, '');
        const key = `${user}@${host}`;
        byUser.set(key, (byUser.get(key) ?? 0) + 1);
      }
      const mark = (k: string) => (k.slice(0, k.lastIndexOf('@')) === pipelineUser ? ', the pipeline user' : '');
      report.others = [...byUser.entries()].map(([k, n]) => `${k} (${n}${mark(k)})`);
      if (byUser.size === 0) return report;
      // Which of them may write anyway. USER_PRIVILEGES shows other users only to those with
      // SELECT on the mysql schema; otherwise this finds nothing and says so.
      let bypass: Set<string> | null = null;
      try {
        const privileges = bypassPrivileges(db.flavor);
        const granted = await db.query(
          `SELECT DISTINCT GRANTEE FROM information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE IN (${privileges
            .map(() => '?')
            .join(', ')})`,
          privileges,
        );
        bypass = new Set(granted.map((g) => /^'(.*)'@'.*'$/.exec(str(g[0]))?.[1] ?? ''));
      } catch {
        bypass = null;
      }
      const writers = [...byUser.entries()].filter(([k]) => bypass?.has(k.slice(0, k.lastIndexOf('@'))));
      if (writers.length > 0) {
        report.warnings.push(
          `sessions of users that read_only does not stop (they hold ${bypassPrivileges(db.flavor).join(' or ')}): ` +
            `${writers.map(([k, n]) => `${k} (${n})`).join(', ')} — make sure these applications stopped writing`,
        );
      } else if (bypass === null) {
        report.warnings.push(
          'cannot tell which connected users bypass read_only (no access to other users’ privileges); users with ' +
            `${bypassPrivileges(db.flavor).join(' or ')} can still write`,
        );
      }
      return report;
    },

    async currentPosition(): Promise<FinalPosition> {
      let rows: unknown[][];
      try {
        rows = await db.query('SHOW MASTER STATUS');
      } catch {
        rows = await db.query('SHOW BINARY LOG STATUS'); // MySQL 8.4 dropped SHOW MASTER STATUS
      }
      const r = rows[0];
      if (!r) throw new Error('SHOW MASTER STATUS returned nothing: is the binlog enabled on the source?');
      const gtidSql = db.flavor === 'mariadb' ? 'SELECT @@GLOBAL.gtid_binlog_pos' : 'SELECT @@GLOBAL.gtid_executed';
      let gtid: string | null = null;
      try {
        gtid = str((await db.query(gtidSql))[0]?.[0]).replace(/\s/g, '') || null;
      } catch {
        gtid = null;
      }
      return { kind: 'mysql', file: str(r[0]), pos: Number(r[1]), gtid };
    },

    async nudge() {
      return null;
    },

    async published(stored, final, filter): Promise<PublishedCheck> {
      if (final.kind !== 'mysql') throw new Error('a MySQL source needs a binlog position');
      if (!stored) return { done: false, detail: 'the source has stored no position yet (is the pipeline running?)' };
      if (stored.phase !== 'stream') return { done: false, detail: 'the initial snapshot is still running' };
      const at = storedBinlogPosition(stored.position);
      if (!at) return { done: false, detail: `the stored position is not a binlog position: ${stored.describe ?? ''}` };
      const where = `stored ${at.file}:${at.pos}, final ${final.file}:${final.pos}`;
      const cmp = compareBinlog(at, final);
      if (cmp !== null && cmp >= 0) return { done: true, detail: `${where}: reached` };
      // Same stored and final positions as last time: the binlog between is the same.
      const key = `${at.file}:${at.pos}|${final.file}:${final.pos}`;
      if (scanCache?.key === key) return scanCache.result;
      let result: PublishedCheck;
      try {
        const scan = await scanBinlog(at, final, filter);
        result =
          scan === 'clean'
            ? { done: true, detail: `${where}: the binlog between holds no change of a captured table` }
            : {
                done: false,
                detail:
                  scan === 'captured'
                    ? `${where}: changes of captured tables not published yet`
                    : `${where}: waiting for the source to store a position past it`,
              };
      } catch (err) {
        result = { done: false, detail: `${where} (cannot read the binlog between: ${(err as Error).message})` };
      }
      scanCache = { key, result };
      return result;
    },

    bytesBehind(stored, server) {
      const at = storedBinlogPosition(stored?.position);
      return at && server.kind === 'mysql' ? binlogBytesBehind(at, server) : null;
    },

    async autoColumns(tables: TableId[]): Promise<SourceAutoColumn[]> {
      const out: SourceAutoColumn[] = [];
      await db.query('SET SESSION information_schema_stats_expiry = 0').catch(() => undefined);
      for (const t of tables) {
        const cols = await db.query(
          `SELECT COLUMN_NAME FROM information_schema.COLUMNS
            WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND EXTRA LIKE '%auto_increment%'`,
          [t.db, t.table],
        );
        if (cols.length === 0) continue;
        const counter = await db.query(
          'SELECT AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
          [t.db, t.table],
        );
        const next = str(counter[0]?.[0]);
        const highestIssued = /^\d+$/.test(next) && BigInt(next) > 1n ? (BigInt(next) - 1n).toString() : null;
        for (const c of cols) out.push({ table: t, column: str(c[0]), generator: 'auto_increment', highestIssued });
      }
      return out;
    },

    close: () => db.close(),
  };
  return admin;
}
