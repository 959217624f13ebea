import { FerryError, type SourcePosition } from '../../src/api/index.js';

/**
 * A binlog position at a transaction boundary: streaming resumes at `pos` of `file`, i.e. with the
 * first event of the next transaction. `gtid` is the server's GTID position there when known
 * (MariaDB `domain-server-seq[,…]`; MySQL a GTID set), kept for humans and for a later move to
 * GTID-based resume. `serverId` is the @@server_id of the server the position belongs to.
 */
export interface MysqlPosition {
  file: string;
  pos: number;
  gtid: string | null;
  serverId: number | null;
}

export function toSourcePosition(p: MysqlPosition): SourcePosition {
  return { file: p.file, pos: p.pos, gtid: p.gtid, serverId: p.serverId };
}

export function fromSourcePosition(p: SourcePosition): MysqlPosition {
  const file = p['file'];
  const pos = p['pos'];
  if (typeof file !== 'string' || file === '' || typeof pos !== 'number' || !Number.isInteger(pos) || pos < 4) {
    throw new FerryError(
      'FERRY_DECODE',
      `not a MySQL binlog position: ${JSON.stringify(p)}; expected {"file": "binlog.000001", "pos": 4, ...}`,
    );
  }
  const gtid = p['gtid'];
  const serverId = p['serverId'];
  return {
    file,
    pos,
    gtid: typeof gtid === 'string' && gtid !== '' ? gtid : null,
    serverId: typeof serverId === 'number' ? serverId : null,
  };
}

export function describeMysqlPosition(p: SourcePosition): string {
  return `${String(p['file'])}:${String(p['pos'])}`;
}

/** Numeric suffix of a binlog file name (`binlog.000012` → 12), or null. */
export function binlogIndex(file: string): number | null {
  const m = /\.(\d+)$/.exec(file);
  return m ? Number(m[1]) : null;
}

export interface BinaryLog {
  name: string;
  size: number;
}

/**
 * Whether a position can still be read, given SHOW BINARY LOGS: its file must be listed and the
 * offset within its size. Returns the reason when it cannot.
 */
export function positionAvailable(p: MysqlPosition, logs: BinaryLog[]): { ok: true } | { ok: false; reason: string } {
  const log = logs.find((l) => l.name === p.file);
  if (!log) {
    const oldest = logs[0]?.name ?? 'none';
    return {
      ok: false,
      reason: `binlog file ${p.file} is no longer on the server (purged; the oldest binlog is ${oldest})`,
    };
  }
  if (p.pos > log.size) {
    return { ok: false, reason: `position ${p.pos} is beyond the end of ${p.file} (${log.size} bytes)` };
  }
  return { ok: true };
}
