/**
 * Source positions as cutover compares them (pure): the final position recorded once writes
 * stopped, against the position the source runtime stored in `<pipeline>.__offsets`.
 *
 * - MySQL/MariaDB: binlog file + offset. The source stores a position at the end of every
 *   transaction that touched a captured table, and at most every `heartbeatIntervalMs` for other
 *   transactions; an idle server sends nothing at all. So "stored ≥ final" may never happen when
 *   the last transactions before the stop touched other tables; then the binlog between the two
 *   positions is read (SHOW BINLOG EVENTS) and, if it holds no change of a captured table, the
 *   source has published everything up to the final position (binlogEventTouchesCapture).
 * - PostgreSQL: the LSN. The source stores the end LSN of each transaction it published; cutover
 *   emits one logical message after recording the final LSN, whose commit lies past it, so the
 *   stored LSN passes the final one as soon as the source has read that far.
 */
import { binlogIndex } from '../../connectors/mysql-source/position.js';
import { formatLsn, isLsn, parseLsn } from '../../connectors/postgres-source/lsn.js';
import type { TableFilter } from '../api/connector.js';
import { isTableCaptured, literalDatabases } from '../api/filter.js';
import type { SourcePosition } from '../api/position.js';

export interface BinlogPosition {
  file: string;
  pos: number;
  /** MariaDB @@gtid_binlog_pos / MySQL @@gtid_executed, for the report. */
  gtid: string | null;
}

export interface LsnPosition {
  lsn: string;
}

export type FinalPosition = ({ kind: 'mysql' } & BinlogPosition) | ({ kind: 'postgres' } & LsnPosition);

export function describeFinal(p: FinalPosition): string {
  if (p.kind === 'postgres') return `LSN ${p.lsn}`;
  return `${p.file}:${p.pos}${p.gtid ? ` (GTID ${p.gtid})` : ''}`;
}

/** A stored MySQL position, or null when it is not one. */
export function storedBinlogPosition(p: SourcePosition | null | undefined): { file: string; pos: number } | null {
  if (!p) return null;
  const file = p['file'];
  const pos = p['pos'];
  return typeof file === 'string' && file !== '' && typeof pos === 'number' ? { file, pos } : null;
}

/**
 * -1, 0 or 1 as binlog position `a` is before, at or after `b`; null when they cannot be
 * compared (binlog files of different base names, e.g. after `log_bin` was renamed).
 */
export function compareBinlog(a: { file: string; pos: number }, b: { file: string; pos: number }): -1 | 0 | 1 | null {
  if (a.file === b.file) return a.pos === b.pos ? 0 : a.pos < b.pos ? -1 : 1;
  const base = (f: string) => f.replace(/\.\d+$/, '');
  const ai = binlogIndex(a.file);
  const bi = binlogIndex(b.file);
  if (ai === null || bi === null || base(a.file) !== base(b.file)) return null;
  return ai < bi ? -1 : ai > bi ? 1 : 0;
}

/** Bytes between two positions of the same binlog file (null across files). */
export function binlogBytesBehind(stored: { file: string; pos: number }, server: { file: string; pos: number }) {
  return stored.file === server.file ? Math.max(0, server.pos - stored.pos) : null;
}

/** The stored PostgreSQL LSN, or null. */
export function storedLsn(p: SourcePosition | null | undefined): bigint | null {
  const lsn = p?.['lsn'];
  return isLsn(lsn) ? parseLsn(lsn) : null;
}

export function lsnReached(stored: SourcePosition | null | undefined, final: string): boolean {
  const s = storedLsn(stored);
  return s !== null && s >= parseLsn(final);
}

export function lsnBytesBehind(stored: SourcePosition | null | undefined, server: string): number | null {
  const s = storedLsn(stored);
  if (s === null) return null;
  const d = parseLsn(server) - s;
  return d > 0n ? Number(d) : 0;
}

export { formatLsn };

/** One row of SHOW BINLOG EVENTS. */
export interface BinlogEventRow {
  file: string;
  pos: number;
  type: string;
  endPos: number;
  info: string;
}

const TX_CONTROL = /^\s*(BEGIN|COMMIT|ROLLBACK|XA\s|SAVEPOINT|RELEASE\s+SAVEPOINT|SET\s)/i;
const TABLE_DDL = /^\s*(?:use\s+`(?:[^`]|``)*`;\s*)?(ALTER|CREATE|DROP|RENAME|TRUNCATE)\b/i;
const NOT_TABLE_DDL =
  /^\s*(?:use\s+`(?:[^`]|``)*`;\s*)?(CREATE|DROP|ALTER)\s+(USER|ROLE|FUNCTION|PROCEDURE|EVENT|SERVER)\b/i;

/** True when `name` occurs in `sql` as a whole identifier (not as part of a longer name). */
export function mentionsName(sql: string, name: string): boolean {
  const esc = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^A-Za-z0-9_$\u0080-\uffff])${esc}($|[^A-Za-z0-9_$\u0080-\uffff])`).test(sql);
}

/** `db.table` candidates of a Table_map's info `table_id: 22 (shop.orders)` (a name may hold dots). */
export function tableMapNames(info: string): Array<{ db: string; table: string }> {
  const m = /\((.*)\)\s*$/.exec(info);
  if (!m) return [];
  const full = m[1]!;
  const out: Array<{ db: string; table: string }> = [];
  for (let i = full.indexOf('.'); i >= 0; i = full.indexOf('.', i + 1)) {
    out.push({ db: full.slice(0, i), table: full.slice(i + 1) });
  }
  return out;
}

/**
 * Whether a binlog event may carry something the source publishes for a captured table: a
 * Table_map of a captured table (every row event follows one), or a DDL / TRUNCATE statement
 * that may concern one (the source publishes new schema versions and truncates). Conservative:
 * when in doubt, true.
 */
export function binlogEventTouchesCapture(ev: BinlogEventRow, filter: TableFilter): boolean {
  const type = ev.type.toLowerCase();
  if (type === 'table_map') {
    const names = tableMapNames(ev.info);
    return names.length === 0 || names.some((n) => isTableCaptured(filter, n));
  }
  if (type === 'query') {
    if (TX_CONTROL.test(ev.info)) return false;
    if (!TABLE_DDL.test(ev.info) || NOT_TABLE_DDL.test(ev.info)) return false;
    const dbs = literalDatabases(filter);
    return !dbs || dbs.some((d) => mentionsName(ev.info, d));
  }
  return false;
}
