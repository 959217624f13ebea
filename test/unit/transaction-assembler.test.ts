import { describe, expect, it } from 'vitest';
import type { TableSchema } from '../../src/api/index.js';
import type { InRecord } from '../../src/runtime/sink/decode.js';
import { TransactionAssembler, type Unit } from '../../src/runtime/sink/transactions/assembler.js';
import { parseEnd } from '../../src/runtime/sink/transactions/runtime.js';
import { TransactionMarks } from '../../src/runtime/source/transactions.js';

const TX = 'p.__transactions';
const schema = { db: 'd', table: 't', primaryKey: ['id'], columns: [], version: '1' } as unknown as TableSchema;

function data(topic: string, partition: number, offset: number, id: number, tx?: [string, number, number]): InRecord {
  const r: InRecord = { topic, partition, offset: String(offset), key: null, value: null };
  r.decoded = {
    kind: 'event',
    label: 'd.t',
    event: { op: 'u', schema, before: null, after: { id }, tsMs: 0 },
    ...(tx ? { tx: { id: tx[0], totalOrder: tx[1], order: BigInt(tx[2]) } } : {}),
  };
  return r;
}
const end = (offset: number, id: string, count: number, order: number): [InRecord, ReturnType<typeof parseEnd>] => [
  { topic: TX, partition: 0, offset: String(offset), key: null, value: null },
  { id, eventCount: count, order: BigInt(order) },
];
const ids = (u: Unit | null) =>
  u ? u.items.map((i) => (i.record.decoded as unknown as { event: { after: { id: number } } }).event.after.id) : null;

function make(max = 100, applied: bigint | null = null) {
  const a = new TransactionAssembler(
    { transactionsTopic: TX, maxTransactionEvents: max, partitionCount: () => 2 },
    applied,
  );
  for (const [t, p] of [
    ['p.d.t', 0],
    ['p.d.t', 1],
    [TX, 0],
  ] as const)
    a.start(t, p, null);
  return a;
}

describe('TransactionAssembler', () => {
  it('applies a transaction only when its END and every event from every partition are there', () => {
    const a = make();
    a.addData(data('p.d.t', 0, 0, 1, ['T1', 1, 10]));
    a.addTransaction(...end(0, 'T1', 2, 10));
    expect(a.next(100)).toBeNull();
    a.addData(data('p.d.t', 1, 0, 2, ['T1', 2, 10]));
    const u = a.next(100)!;
    expect(ids(u)).toEqual([1, 2]);
    expect(u.transactions).toBe(1);
    expect(u.applied).toBe(10n);
    expect(u.offsets.sort((x, y) => x.topic.localeCompare(y.topic) || x.partition - y.partition)).toEqual([
      { topic: TX, partition: 0, nextOffset: '1' },
      { topic: 'p.d.t', partition: 0, nextOffset: '1' },
      { topic: 'p.d.t', partition: 1, nextOffset: '1' },
    ]);
    a.commit(u);
    expect(a.next(100)).toBeNull();
    expect(a.size).toBe(0);
  });

  it('keeps source commit order: a later complete transaction waits for an earlier incomplete one', () => {
    const a = make();
    a.addTransaction(...end(0, 'T1', 2, 10));
    a.addTransaction(...end(1, 'T2', 1, 20));
    a.addData(data('p.d.t', 0, 0, 1, ['T1', 1, 10]));
    a.addData(data('p.d.t', 1, 0, 3, ['T2', 1, 20]));
    expect(a.next(100)).toBeNull();
    a.addData(data('p.d.t', 0, 1, 2, ['T1', 2, 10]));
    const u = a.next(100)!;
    expect(ids(u)).toEqual([1, 2, 3]);
    expect(u.transactions).toBe(2);
    expect(u.applied).toBe(20n);
  });

  it('never splits a transaction when grouping, and stops grouping at maxEvents', () => {
    const a = make();
    a.addData(data('p.d.t', 0, 0, 1, ['T1', 1, 10]));
    a.addData(data('p.d.t', 0, 1, 2, ['T1', 2, 10]));
    a.addData(data('p.d.t', 0, 2, 3, ['T2', 1, 20]));
    a.addTransaction(...end(0, 'T1', 2, 10));
    a.addTransaction(...end(1, 'T2', 1, 20));
    const u = a.next(1)!;
    expect(ids(u)).toEqual([1, 2]);
    expect(u.offsets.find((o) => o.topic === 'p.d.t')?.nextOffset).toBe('2');
    a.commit(u);
    expect(ids(a.next(1))).toEqual([3]);
  });

  it('drops copies of applied transactions and counts a re-published event once', () => {
    const a = make(100, 10n);
    a.addData(data('p.d.t', 0, 0, 1, ['T1', 1, 10])); // applied before
    a.addData(data('p.d.t', 0, 1, 2, ['T2', 1, 20]));
    a.addData(data('p.d.t', 0, 2, 2, ['T2', 1, 20])); // the same event again
    a.addData(data('p.d.t', 0, 3, 4, ['T2', 2, 20]));
    a.addTransaction(...end(0, 'T1', 1, 10));
    a.addTransaction(...end(1, 'T2', 2, 20));
    const u = a.next(100)!;
    expect(ids(u)).toEqual([2, 2, 4]);
    expect(u.applied).toBe(20n);
    expect(u.offsets.find((o) => o.topic === 'p.d.t')?.nextOffset).toBe('4');
  });

  it('applies a row without a transaction (snapshot) in its place in the partition', () => {
    const a = make();
    a.addData(data('p.d.t', 0, 0, 1, ['T1', 1, 10]));
    a.addData(data('p.d.t', 0, 1, 5)); // snapshot row after T1
    expect(a.next(100)).toBeNull(); // waits behind T1
    a.addTransaction(...end(0, 'T1', 1, 10));
    expect(ids(a.next(100))).toEqual([1, 5]);
  });

  it('splits a transaction larger than maxTransactionEvents and applies it as its records arrive', () => {
    const a = make(2);
    a.addData(data('p.d.t', 0, 0, 1, ['T1', 1, 10]));
    a.addData(data('p.d.t', 1, 0, 2, ['T1', 2, 10]));
    a.addData(data('p.d.t', 0, 1, 3, ['T1', 3, 10]));
    expect(a.newlySplit).toEqual(['T1']);
    const u = a.next(100)!;
    expect(ids(u)?.sort()).toEqual([1, 2, 3]);
    expect(u.splitProgress).toEqual({ id: 'T1', count: 3 });
    expect(u.applied).toBeNull();
    a.commit(u);
    a.addData(data('p.d.t', 1, 1, 4, ['T1', 4, 10]));
    a.addTransaction(...end(0, 'T1', 4, 10));
    const v = a.next(100)!;
    expect(ids(v)).toEqual([4]);
    expect(v.applied).toBe(10n);
    expect(v.splitProgress).toBeNull();
  });
});

describe('TransactionMarks', () => {
  it('writes BEGIN before the first event and END with the counts at the commit', () => {
    const m = new TransactionMarks();
    const ev = (table: string, n: number) =>
      ({
        op: 'c',
        db: 'shop',
        table,
        tsMs: 5,
        transaction: { id: 'x', totalOrder: n, dataCollectionOrder: 1, commitOrder: '42' },
      }) as never;
    expect(m.beforeEvent(ev('a', 1))).toEqual([
      { status: 'BEGIN', id: 'x', event_count: null, data_collections: null, ts_ms: 5, commit_order: '42' },
    ]);
    expect(m.beforeEvent(ev('b', 2))).toEqual([]);
    expect(m.beforeEvent(ev('a', 3))).toEqual([]);
    expect(m.close()).toEqual([
      {
        status: 'END',
        id: 'x',
        event_count: 3,
        data_collections: [
          { data_collection: 'shop.a', event_count: 2 },
          { data_collection: 'shop.b', event_count: 1 },
        ],
        ts_ms: 5,
        commit_order: '42',
      },
    ]);
    expect(m.close()).toEqual([]);
    expect(
      parseEnd(Buffer.from(JSON.stringify({ status: 'END', id: 'x', event_count: 3, commit_order: '42' }))),
    ).toEqual({
      id: 'x',
      eventCount: 3,
      order: 42n,
    });
    expect(parseEnd(Buffer.from('{"status":"BEGIN","id":"x"}'))).toBeNull();
  });
});
