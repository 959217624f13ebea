/**
 * Pure decoding of pgoutput messages (protocol versions 1 and 2, without streamed transactions):
 * bytes in, plain message objects out, no I/O. Column values stay the text PostgreSQL sent, so
 * nothing passes through pg.types parsers (which would turn timestamps into millisecond Dates);
 * canonical encoding happens later (values.ts). An unchanged TOASTed value is UNCHANGED_TOAST,
 * never undefined or null.
 *
 * Message formats: https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html
 */
import { FerryError } from '../../src/api/index.js';

/** A TOASTed value the UPDATE did not change; PostgreSQL does not send it. */
export const UNCHANGED_TOAST: unique symbol = Symbol('pgoutput.unchanged-toast');

/** One column of a tuple: its text form, SQL NULL, or "unchanged TOAST". */
export type TupleValue = string | null | typeof UNCHANGED_TOAST;

/** Microseconds between 1970-01-01 and 2000-01-01 (the PostgreSQL epoch). */
const PG_EPOCH_MS = 946_684_800_000n;

export interface PgBegin {
  tag: 'begin';
  /** LSN of the transaction's commit record. */
  finalLsn: bigint;
  /** Commit time, ms since the Unix epoch. */
  commitTimeMs: number;
  xid: number;
}

export interface PgCommit {
  tag: 'commit';
  flags: number;
  /** LSN of the commit record. */
  commitLsn: bigint;
  /** End of the commit record: the position to confirm once the transaction is safely stored. */
  endLsn: bigint;
  commitTimeMs: number;
}

export interface PgOrigin {
  tag: 'origin';
  originLsn: bigint;
  name: string;
}

export interface PgRelationColumn {
  /** Part of the replica identity (the key PostgreSQL sends for updates and deletes). */
  isKey: boolean;
  name: string;
  typeOid: number;
  typeMod: number;
}

export type ReplicaIdentity = 'default' | 'nothing' | 'full' | 'index';

export interface PgRelation {
  tag: 'relation';
  oid: number;
  /** Schema name; PostgreSQL sends '' for pg_catalog. */
  schema: string;
  name: string;
  replicaIdentity: ReplicaIdentity;
  columns: PgRelationColumn[];
}

export interface PgType {
  tag: 'type';
  oid: number;
  schema: string;
  name: string;
}

export interface PgInsert {
  tag: 'insert';
  relationOid: number;
  newTuple: TupleValue[];
}

export interface PgUpdate {
  tag: 'update';
  relationOid: number;
  /** Old replica-identity key ('K'): sent when the key changed (REPLICA IDENTITY DEFAULT/INDEX). */
  keyTuple: TupleValue[] | null;
  /** Old row ('O'): sent with REPLICA IDENTITY FULL. */
  oldTuple: TupleValue[] | null;
  newTuple: TupleValue[];
}

export interface PgDelete {
  tag: 'delete';
  relationOid: number;
  keyTuple: TupleValue[] | null;
  oldTuple: TupleValue[] | null;
}

export interface PgTruncate {
  tag: 'truncate';
  cascade: boolean;
  restartIdentity: boolean;
  relationOids: number[];
}

export interface PgLogicalMessage {
  tag: 'message';
  transactional: boolean;
  lsn: bigint;
  prefix: string;
  content: Buffer;
}

export type PgMessage =
  | PgBegin
  | PgCommit
  | PgOrigin
  | PgRelation
  | PgType
  | PgInsert
  | PgUpdate
  | PgDelete
  | PgTruncate
  | PgLogicalMessage;

const IDENTITY: Record<string, ReplicaIdentity> = { d: 'default', n: 'nothing', f: 'full', i: 'index' };

class Reader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  private need(n: number): void {
    if (this.pos + n > this.buf.length) {
      throw new FerryError('FERRY_DECODE', `pgoutput message truncated: needed ${n} bytes at offset ${this.pos}`);
    }
  }
  u8(): number {
    this.need(1);
    return this.buf.readUInt8(this.pos++);
  }
  i16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  u64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }
  i64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }
  /** Null-terminated string. */
  cstring(): string {
    const end = this.buf.indexOf(0, this.pos);
    if (end < 0) throw new FerryError('FERRY_DECODE', 'pgoutput string without terminator');
    const s = this.buf.toString('utf8', this.pos, end);
    this.pos = end + 1;
    return s;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  char(): string {
    return String.fromCharCode(this.u8());
  }
}

function timeMs(us: bigint): number {
  // Floor division keeps pre-2000 times right.
  const ms = us >= 0n ? us / 1000n : (us - 999n) / 1000n;
  return Number(ms + PG_EPOCH_MS);
}

function tuple(r: Reader): TupleValue[] {
  const n = r.i16();
  const out: TupleValue[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const kind = r.char();
    if (kind === 'n') out[i] = null;
    else if (kind === 'u') out[i] = UNCHANGED_TOAST;
    else if (kind === 't') out[i] = r.bytes(r.i32()).toString('utf8');
    else if (kind === 'b') {
      throw new FerryError('FERRY_DECODE', 'pgoutput sent a binary column value; ferry requests text values only');
    } else throw new FerryError('FERRY_DECODE', `unknown pgoutput tuple column kind ${JSON.stringify(kind)}`);
  }
  return out;
}

function expectTupleTag(r: Reader, want: string): void {
  const tag = r.char();
  if (tag !== want)
    throw new FerryError('FERRY_DECODE', `pgoutput: expected tuple tag ${want}, got ${JSON.stringify(tag)}`);
}

/** Decodes one pgoutput message (the payload of an XLogData frame). */
export function decodePgoutput(buf: Buffer): PgMessage {
  const r = new Reader(buf);
  const tag = r.char();
  switch (tag) {
    case 'B':
      return { tag: 'begin', finalLsn: r.u64(), commitTimeMs: timeMs(r.i64()), xid: r.u32() };
    case 'C':
      return { tag: 'commit', flags: r.u8(), commitLsn: r.u64(), endLsn: r.u64(), commitTimeMs: timeMs(r.i64()) };
    case 'O':
      return { tag: 'origin', originLsn: r.u64(), name: r.cstring() };
    case 'R': {
      const oid = r.u32();
      const schema = r.cstring();
      const name = r.cstring();
      const ident = r.char();
      const replicaIdentity = IDENTITY[ident];
      if (!replicaIdentity) throw new FerryError('FERRY_DECODE', `unknown replica identity ${JSON.stringify(ident)}`);
      const n = r.i16();
      const columns: PgRelationColumn[] = [];
      for (let i = 0; i < n; i++) {
        const flags = r.u8();
        columns.push({ isKey: (flags & 1) === 1, name: r.cstring(), typeOid: r.u32(), typeMod: r.i32() });
      }
      return { tag: 'relation', oid, schema, name, replicaIdentity, columns };
    }
    case 'Y':
      return { tag: 'type', oid: r.u32(), schema: r.cstring(), name: r.cstring() };
    case 'I': {
      const relationOid = r.u32();
      expectTupleTag(r, 'N');
      return { tag: 'insert', relationOid, newTuple: tuple(r) };
    }
    case 'U': {
      const relationOid = r.u32();
      let keyTuple: TupleValue[] | null = null;
      let oldTuple: TupleValue[] | null = null;
      let sub = r.char();
      if (sub === 'K' || sub === 'O') {
        if (sub === 'K') keyTuple = tuple(r);
        else oldTuple = tuple(r);
        sub = r.char();
      }
      if (sub !== 'N') throw new FerryError('FERRY_DECODE', `pgoutput update: expected N, got ${JSON.stringify(sub)}`);
      return { tag: 'update', relationOid, keyTuple, oldTuple, newTuple: tuple(r) };
    }
    case 'D': {
      const relationOid = r.u32();
      const sub = r.char();
      if (sub === 'K') return { tag: 'delete', relationOid, keyTuple: tuple(r), oldTuple: null };
      if (sub === 'O') return { tag: 'delete', relationOid, keyTuple: null, oldTuple: tuple(r) };
      throw new FerryError('FERRY_DECODE', `pgoutput delete: expected K or O, got ${JSON.stringify(sub)}`);
    }
    case 'T': {
      const n = r.i32();
      const options = r.u8();
      const relationOids: number[] = [];
      for (let i = 0; i < n; i++) relationOids.push(r.u32());
      return { tag: 'truncate', cascade: (options & 1) !== 0, restartIdentity: (options & 2) !== 0, relationOids };
    }
    case 'M': {
      const flags = r.u8();
      const lsn = r.u64();
      const prefix = r.cstring();
      const content = Buffer.from(r.bytes(r.i32()));
      return { tag: 'message', transactional: (flags & 1) === 1, lsn, prefix, content };
    }
    default:
      throw new FerryError(
        'FERRY_DECODE',
        `unknown pgoutput message type ${JSON.stringify(tag)} (ferry does not request streamed or two-phase transactions)`,
      );
  }
}
