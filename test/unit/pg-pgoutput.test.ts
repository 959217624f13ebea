import { describe, expect, it } from 'vitest';
import { decodePgoutput, UNCHANGED_TOAST } from '../../connectors/postgres-source/pgoutput.js';

/** Byte builder for pgoutput fixtures (big-endian, null-terminated strings). */
class Bytes {
  private parts: Buffer[] = [];
  char(c: string) {
    this.parts.push(Buffer.from(c, 'latin1'));
    return this;
  }
  u8(n: number) {
    const b = Buffer.alloc(1);
    b.writeUInt8(n);
    this.parts.push(b);
    return this;
  }
  i16(n: number) {
    const b = Buffer.alloc(2);
    b.writeInt16BE(n);
    this.parts.push(b);
    return this;
  }
  i32(n: number) {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    this.parts.push(b);
    return this;
  }
  u32(n: number) {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    this.parts.push(b);
    return this;
  }
  u64(n: bigint) {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(n);
    this.parts.push(b);
    return this;
  }
  i64(n: bigint) {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(n);
    this.parts.push(b);
    return this;
  }
  str(s: string) {
    this.parts.push(Buffer.from(s, 'utf8'), Buffer.from([0]));
    return this;
  }
  text(s: string) {
    const v = Buffer.from(s, 'utf8');
    this.char('t').i32(v.length);
    this.parts.push(v);
    return this;
  }
  build() {
    return Buffer.concat(this.parts);
  }
}

// 2024-01-02T03:04:05.123456Z in microseconds since 2000-01-01.
const COMMIT_US = BigInt(Date.UTC(2024, 0, 2, 3, 4, 5, 123) - Date.UTC(2000, 0, 1)) * 1000n + 456n;
const COMMIT_MS = Date.UTC(2024, 0, 2, 3, 4, 5, 123);

describe('pgoutput decoding (byte fixtures)', () => {
  it('Begin and Commit: LSNs, commit time in ms, xid', () => {
    expect(decodePgoutput(new Bytes().char('B').u64(0x16b3748n).i64(COMMIT_US).u32(4_000_000_000).build())).toEqual({
      tag: 'begin',
      finalLsn: 0x16b3748n,
      commitTimeMs: COMMIT_MS,
      xid: 4_000_000_000,
    });
    expect(decodePgoutput(new Bytes().char('C').u8(0).u64(0x16b3748n).u64(0x16b3780n).i64(COMMIT_US).build())).toEqual({
      tag: 'commit',
      flags: 0,
      commitLsn: 0x16b3748n,
      endLsn: 0x16b3780n,
      commitTimeMs: COMMIT_MS,
    });
  });

  it('commit times before 2000 are floored to the millisecond', () => {
    const m = decodePgoutput(new Bytes().char('B').u64(1n).i64(-1500n).u32(1).build());
    expect(m).toMatchObject({ commitTimeMs: Date.UTC(2000, 0, 1) - 2 });
  });

  it('Relation: columns with key flags, type oids and modifiers, replica identity', () => {
    const buf = new Bytes()
      .char('R')
      .u32(16384)
      .str('public')
      .str('orders')
      .char('d')
      .i16(2)
      .u8(1)
      .str('id')
      .u32(23)
      .i32(-1)
      .u8(0)
      .str('price')
      .u32(1700)
      .i32(((10 << 16) | 2) + 4)
      .build();
    expect(decodePgoutput(buf)).toEqual({
      tag: 'relation',
      oid: 16384,
      schema: 'public',
      name: 'orders',
      replicaIdentity: 'default',
      columns: [
        { isKey: true, name: 'id', typeOid: 23, typeMod: -1 },
        { isKey: false, name: 'price', typeOid: 1700, typeMod: 655366 },
      ],
    });
  });

  it('Insert: text values stay text (no pg.types parsing), NULL is null', () => {
    const buf = new Bytes()
      .char('I')
      .u32(16384)
      .char('N')
      .i16(3)
      .text('2024-01-02 03:04:05.123456+00')
      .char('n')
      .text('héllo 🚀')
      .build();
    expect(decodePgoutput(buf)).toEqual({
      tag: 'insert',
      relationOid: 16384,
      newTuple: ['2024-01-02 03:04:05.123456+00', null, 'héllo 🚀'],
    });
  });

  it('Update with old key (K), with old row (O), and with an unchanged TOAST value', () => {
    const withKey = new Bytes()
      .char('U')
      .u32(1)
      .char('K')
      .i16(2)
      .text('1')
      .char('n')
      .char('N')
      .i16(2)
      .text('2')
      .char('u')
      .build();
    const m = decodePgoutput(withKey);
    expect(m).toEqual({
      tag: 'update',
      relationOid: 1,
      keyTuple: ['1', null],
      oldTuple: null,
      newTuple: ['2', UNCHANGED_TOAST],
    });
    const withOld = new Bytes().char('U').u32(1).char('O').i16(1).text('a').char('N').i16(1).text('b').build();
    expect(decodePgoutput(withOld)).toMatchObject({ keyTuple: null, oldTuple: ['a'], newTuple: ['b'] });
    const plain = new Bytes().char('U').u32(1).char('N').i16(1).text('b').build();
    expect(decodePgoutput(plain)).toMatchObject({ keyTuple: null, oldTuple: null, newTuple: ['b'] });
  });

  it('Delete with key or old row; Truncate with its options; logical Message', () => {
    expect(decodePgoutput(new Bytes().char('D').u32(7).char('K').i16(1).text('9').build())).toEqual({
      tag: 'delete',
      relationOid: 7,
      keyTuple: ['9'],
      oldTuple: null,
    });
    expect(decodePgoutput(new Bytes().char('T').i32(2).u8(3).u32(7).u32(8).build())).toEqual({
      tag: 'truncate',
      cascade: true,
      restartIdentity: true,
      relationOids: [7, 8],
    });
    const msg = decodePgoutput(
      new Bytes().char('M').u8(1).u64(0x100n).str('ferry_heartbeat').i32(2).char('ab').build(),
    );
    expect(msg).toMatchObject({ tag: 'message', transactional: true, lsn: 0x100n, prefix: 'ferry_heartbeat' });
    expect(msg.tag === 'message' && msg.content.toString()).toBe('ab');
  });

  it('Type and Origin messages', () => {
    expect(decodePgoutput(new Bytes().char('Y').u32(16400).str('public').str('mood').build())).toEqual({
      tag: 'type',
      oid: 16400,
      schema: 'public',
      name: 'mood',
    });
    expect(decodePgoutput(new Bytes().char('O').u64(5n).str('node1').build())).toEqual({
      tag: 'origin',
      originLsn: 5n,
      name: 'node1',
    });
  });

  it('rejects truncated, binary and unknown messages with FERRY_DECODE', () => {
    expect(() => decodePgoutput(new Bytes().char('B').u64(1n).build())).toThrow(/truncated/);
    expect(() => decodePgoutput(new Bytes().char('I').u32(1).char('N').i16(1).char('b').i32(1).u8(1).build())).toThrow(
      /binary/,
    );
    expect(() => decodePgoutput(new Bytes().char('S').build())).toThrow(
      expect.objectContaining({ code: 'FERRY_DECODE' }),
    );
    expect(() => decodePgoutput(new Bytes().char('U').u32(1).char('X').build())).toThrow(/expected N/);
  });
});
