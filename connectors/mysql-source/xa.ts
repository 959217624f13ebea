/**
 * XA transactions in the binlog (pure; docs/mysql-source.md#xa-transactions). A prepared XA
 * transaction is its own event group: GTID (MariaDB flags it as prepared XA), the row events,
 * `XA END <xid>`, and an XA_PREPARE event. Its outcome comes later, in another group: a query
 * `XA COMMIT <xid>` or `XA ROLLBACK <xid>`. `XA COMMIT … ONE PHASE` is an ordinary transaction on
 * MariaDB (rows + XID event), and a prepare event with its one-phase flag set on MySQL.
 *
 * The decoder keeps the row events of each prepared transaction here until its outcome: they
 * are published on XA COMMIT and dropped on XA ROLLBACK. Until then the stored position must not
 * pass the start of the oldest open prepared group, or a restart would lose its rows; `held()`
 * gives that position.
 */
import type { SourceItem } from '../../src/api/index.js';
import type { MysqlPosition } from './position.js';

/** An XID as one string: `<formatId>:<gtrid hex>:<bqual hex>`. */
export type XidKey = string;

export function xidKey(formatId: number, gtrid: Buffer, bqual: Buffer): XidKey {
  return `${formatId}:${gtrid.toString('hex')}:${bqual.toString('hex')}`;
}

/**
 * The XID of `XA COMMIT|ROLLBACK|END <xid> [ONE PHASE]` (after the keywords): the server writes
 * `X'hex',X'hex',formatId`; a statement written as the user typed it may use quoted strings.
 */
export function parseXid(text: string): XidKey | null {
  const parts: string[] = [];
  let s = text.trim();
  for (let i = 0; i < 3 && s.length > 0; i++) {
    const m = /^(?:[Xx]'([0-9A-Fa-f]*)'|'((?:[^'\\]|''|\\.)*)'|"((?:[^"\\]|""|\\.)*)"|(\d+))\s*/.exec(s);
    if (!m) return null;
    if (m[1] !== undefined) parts.push(m[1].toLowerCase());
    else if (m[2] !== undefined) parts.push(Buffer.from(unquote(m[2], "'")).toString('hex'));
    else if (m[3] !== undefined) parts.push(Buffer.from(unquote(m[3], '"')).toString('hex'));
    else if (i === 2) parts.push(m[4]!);
    else return null;
    s = s.slice(m[0].length);
    if (s.startsWith(',')) s = s.slice(1).trimStart();
    else break;
  }
  if (parts.length === 0) return null;
  const [gtrid, bqual = '', format = '1'] = parts;
  return `${Number(format)}:${gtrid}:${bqual}`;
}

function unquote(s: string, q: string): string {
  return s.replaceAll(q + q, q).replace(/\\(.)/g, '$1');
}

interface Prepared {
  /** The stream position before the prepared group: a transaction boundary. */
  start: MysqlPosition;
  items: SourceItem[];
}

/** Prepared XA transactions whose outcome has not been read yet, in prepare order. */
export class PreparedXa {
  private readonly open = new Map<XidKey, Prepared>();

  /** Prepared transactions without captured rows: their outcome changes nothing, no position is held. */
  private readonly empty = new Set<XidKey>();

  prepare(xid: XidKey, start: MysqlPosition, items: SourceItem[]): void {
    // The same XID prepared again (after its outcome we did not see): the newer group wins.
    this.open.delete(xid);
    this.empty.delete(xid);
    if (items.length === 0) this.empty.add(xid);
    else this.open.set(xid, { start, items });
  }

  /** The events of a prepared transaction, forgotten; null when it was prepared before the stream's start. */
  finish(xid: XidKey): SourceItem[] | null {
    if (this.empty.delete(xid)) return [];
    const p = this.open.get(xid);
    if (!p) return null;
    this.open.delete(xid);
    return p.items;
  }

  /** The position to store while prepared transactions are open (the oldest's start), else null. */
  held(): MysqlPosition | null {
    for (const p of this.open.values()) return p.start;
    return null;
  }

  get size(): number {
    return this.open.size;
  }
}
