/**
 * Reassembles source transactions from every partition of the data topics and the
 * `<pipeline>.__transactions` topic (docs/transactions.md). Pure: no I/O.
 *
 * - Records arrive per partition in offset order. An END record says how many events its
 *   transaction has; the transaction is complete once that many distinct events (by
 *   `total_order`; a re-published copy counts once) are held. A truncate counts as complete
 *   only with its copy from every partition of its topic.
 * - ENDs are taken in the order of the transactions topic, which is the source's commit order.
 *   A transaction is applied once it is complete, and once every record before its records in
 *   each partition is applied (per-key order holds across transactions and snapshot rows).
 * - Records without a transaction (snapshot rows) are applied when they reach the head of their
 *   partition, in order with the transactions around them.
 * - `applied` is the commit order of the last transaction applied (stored in the target with the
 *   offsets): records and ENDs of transactions at or before it are copies and are dropped.
 * - A transaction with more events than `maxTransactionEvents` is split: its records are
 *   applied as they reach the head of their partition, like in row mode.
 *
 * `next()` returns the next unit to apply (rows and whole transactions, in order, up to about
 * `maxEvents`) with the offsets it covers; `commit()` records that it was applied.
 */
import type { InRecord, TxRef } from '../decode.js';

export interface EndRecord {
  id: string;
  eventCount: number;
  order: bigint | null;
}

export interface Item {
  tp: string;
  offset: bigint;
  record: InRecord;
  tx: TxRef | null;
  /** Truncate copy (one per partition of its topic). */
  truncate: boolean;
  state: 'pending' | 'taken' | 'done';
}

interface Tx {
  id: string;
  order: bigint | null;
  items: Item[];
  orders: Set<number>;
  /** total_order of a truncate → partitions whose copy is held. */
  truncates: Map<number, Set<string>>;
  split: boolean;
  /** Split: distinct events applied (before this process started: `base`). */
  base: number;
  appliedOrders: Set<number>;
}

interface Partition {
  tp: string;
  topic: string;
  items: Item[];
  /** Every item before this index is taken or done (items never become pending again). */
  head: number;
  /** Offset after the last record received. */
  received: bigint;
  /**
   * What the target holds for it (null: nothing) once every unit taken so far is committed:
   * units are committed in the order they were taken, so each one's fence expects what the one
   * before it wrote.
   */
  stored: string | null;
}

export interface Unit {
  /** Records to apply, in order. */
  items: Item[];
  /** Transactions applied whole in this unit. */
  transactions: number;
  /** Split transactions some of whose records are in this unit. */
  split: string[];
  /** New next offsets, and what the target holds for those partitions now (the fence). */
  offsets: Array<{ topic: string; partition: number; nextOffset: string }>;
  expected: Array<{ topic: string; partition: number; nextOffset: string | null; truncateBarrier: null }>;
  /** Commit order of the last transaction in it (null: unchanged). */
  applied: bigint | null;
  ends: Item[];
  /** The split transaction under way after this unit and its events applied; null: none (cleared). */
  splitProgress?: { id: string; count: number } | null;
}

export interface AssemblerOptions {
  transactionsTopic: string;
  maxTransactionEvents: number;
  /** Partitions of a data topic (truncate copies). */
  partitionCount(topic: string): number;
}

const RECENT = 10_000;

export class TransactionAssembler {
  private readonly o: AssemblerOptions;
  private readonly partitions = new Map<string, Partition>();
  private readonly txs = new Map<string, Tx>();
  /** ENDs not taken yet: `ends[endsAt..]`, in commit order. */
  private ends: Array<{ item: Item; end: EndRecord }> = [];
  private endsAt = 0;
  /** Ids of recently applied transactions without a commit order (Debezium-made topics). */
  private readonly recent = new Set<string>();
  private appliedOrder: bigint | null;
  /** Commit order of the last transaction taken (applied or in flight). */
  private takenOrder: bigint | null;
  private held = 0;
  /** Split transactions seen (logged once by the caller). */
  readonly newlySplit: string[] = [];

  private readonly resume: { id: string; count: number } | null;

  /** `applied`: stored commit order; `resume`: a split transaction partly applied before (stored). */
  constructor(opts: AssemblerOptions, applied: bigint | null, resume: { id: string; count: number } | null = null) {
    this.o = opts;
    this.appliedOrder = applied;
    this.takenOrder = applied;
    this.resume = resume;
  }

  /** Events held in memory. */
  get size(): number {
    return this.held;
  }

  get applied(): bigint | null {
    return this.appliedOrder;
  }

  /** The stored next offset of a partition (from the target), before any record of it arrives. */
  start(topic: string, partition: number, stored: string | null): void {
    const tp = `${topic}\u0000${partition}`;
    this.partitions.set(tp, { tp, topic, items: [], head: 0, received: BigInt(stored ?? '0'), stored });
  }

  /** A data record, decoded (a tombstone or a record below the stored offset is recorded as done). */
  addData(record: InRecord): void {
    const p = this.partition(record.topic, record.partition);
    const offset = BigInt(record.offset);
    if (offset < p.received) return; // below what the target holds, or seen already
    p.received = offset + 1n;
    const d = record.decoded;
    const tx = d && d.kind !== 'skip' ? (d.tx ?? null) : null;
    if (d?.kind === 'skip') return; // tombstones carry nothing
    const item: Item = {
      tp: p.tp,
      offset,
      record,
      tx,
      truncate: d?.kind === 'event' && d.event.op === 't',
      state: 'pending',
    };
    if (tx && this.isApplied(tx.id, tx.order)) {
      item.state = 'done';
      p.items.push(item);
      return;
    }
    p.items.push(item);
    this.held++;
    if (!tx) return;
    let t = this.txs.get(tx.id);
    if (!t) {
      t = {
        id: tx.id,
        order: tx.order,
        items: [],
        orders: new Set(),
        truncates: new Map(),
        split: false,
        base: 0,
        appliedOrders: new Set(),
      };
      this.txs.set(tx.id, t);
      if (this.resume?.id === tx.id) {
        t.split = true;
        t.base = this.resume.count;
      }
    }
    t.items.push(item);
    t.orders.add(tx.totalOrder);
    if (item.truncate) {
      const copies = t.truncates.get(tx.totalOrder) ?? new Set<string>();
      copies.add(p.tp);
      t.truncates.set(tx.totalOrder, copies);
    }
    if (!t.split && t.items.length > this.o.maxTransactionEvents) this.split(t);
  }

  /** A record of the transactions topic: BEGIN (nothing to do) or END (null: BEGIN or unreadable). */
  addTransaction(record: InRecord, end: EndRecord | null): void {
    const p = this.partition(record.topic, record.partition);
    const offset = BigInt(record.offset);
    if (offset < p.received) return;
    p.received = offset + 1n;
    const item: Item = { tp: p.tp, offset, record, tx: null, truncate: false, state: 'pending' };
    if (!end || this.isApplied(end.id, end.order)) {
      item.state = 'done';
      p.items.push(item);
      return;
    }
    p.items.push(item);
    this.ends.push({ item, end });
    const t = this.txs.get(end.id);
    if (t && !t.split && end.eventCount > this.o.maxTransactionEvents) this.split(t);
  }

  /** The next unit to apply, or null when nothing can be applied yet. Marks its records taken. */
  next(maxEvents: number): Unit | null {
    const items: Item[] = [];
    const split = new Set<string>();
    const ends: Item[] = [];
    let transactions = 0;
    let applied: bigint | null = null;
    let splitProgress: Unit['splitProgress'];
    const touched = new Set<string>();
    for (let progress = true; progress && items.length < maxEvents; ) {
      progress = false;
      // Records at the head of their partition that need no transaction.
      for (const p of this.partitions.values()) {
        for (let at = this.head(p); at < p.items.length; at++) {
          const it = p.items[at]!;
          if (it.state !== 'pending') continue;
          if (it.tx === null && p.topic === this.o.transactionsTopic) break; // an END waits for its turn
          const t = it.tx ? this.txs.get(it.tx.id) : undefined;
          if (it.tx && !t?.split) break;
          it.state = 'taken';
          items.push(it);
          touched.add(p.tp);
          if (t && it.tx) {
            split.add(t.id);
            t.appliedOrders.add(it.tx.totalOrder);
            splitProgress = { id: t.id, count: t.base + t.appliedOrders.size };
          }
          progress = true;
        }
      }
      // The next transactions in commit order, when complete and at the head of their partitions.
      while (this.endsAt < this.ends.length && items.length < maxEvents) {
        const { item, end } = this.ends[this.endsAt]!;
        const t = this.txs.get(end.id);
        if (!t && this.resume?.id === end.id) {
          // A split transaction whose records were all applied before this process started.
          if (this.resume.count < end.eventCount) break;
          splitProgress = null;
        } else if (t?.split) {
          // Split: its records go as they reach their heads; the END waits until all are applied.
          if (t.base + t.appliedOrders.size < end.eventCount || t.items.some((i) => i.state === 'pending')) break;
          splitProgress = null;
        } else {
          if (!t || !this.complete(t, end)) break;
          if (!t.items.every((i) => this.headReady(i, t))) break;
          for (const i of t.items) {
            i.state = 'taken';
            items.push(i);
            touched.add(i.tp);
          }
          transactions++;
        }
        this.endsAt++;
        item.state = 'taken';
        ends.push(item);
        touched.add(item.tp);
        if (end.order !== null) applied = end.order;
        this.txs.delete(end.id);
        this.remember(end.id, end.order, applied);
        progress = true;
      }
    }
    if (items.length === 0 && ends.length === 0) return null;
    const offsets: Unit['offsets'] = [];
    const expected: Unit['expected'] = [];
    for (const tp of touched) {
      const p = this.partitions.get(tp)!;
      const first = p.items[this.head(p)];
      const nextOffset = (first ? first.offset : p.received).toString();
      if (nextOffset === p.stored) continue;
      const [topic, partition] = splitTp(tp);
      offsets.push({ topic, partition, nextOffset });
      expected.push({ topic, partition, nextOffset: p.stored, truncateBarrier: null });
      p.stored = nextOffset;
    }
    if (applied !== null && (this.takenOrder === null || applied > this.takenOrder)) this.takenOrder = applied;
    const unit: Unit = { items, transactions, split: [...split], offsets, expected, applied, ends };
    if (splitProgress !== undefined) unit.splitProgress = splitProgress;
    return unit;
  }

  /**
   * The unit is in the target: its records are done. Units are committed in the order `next()`
   * returned them (several may be taken before the first is committed).
   */
  commit(unit: Unit): void {
    for (const i of unit.items) i.state = 'done';
    for (const i of unit.ends) i.state = 'done';
    this.held -= unit.items.length;
    if (unit.applied !== null && (this.appliedOrder === null || unit.applied > this.appliedOrder)) {
      this.appliedOrder = unit.applied;
    }
    for (const p of this.partitions.values()) {
      let n = 0;
      while (n < p.items.length && p.items[n]!.state === 'done') n++;
      if (n > 0) {
        p.items.splice(0, n);
        p.head = Math.max(0, p.head - n);
      }
    }
    if (this.endsAt > 1024 && this.endsAt * 2 > this.ends.length) {
      this.ends = this.ends.slice(this.endsAt);
      this.endsAt = 0;
    }
  }

  /** Whether the transaction is applied already (a copy re-published after a source restart). */
  private isApplied(id: string, order: bigint | null): boolean {
    if (order !== null) return this.takenOrder !== null && order <= this.takenOrder;
    return this.recent.has(id);
  }

  private remember(id: string, order: bigint | null, applied: bigint | null): void {
    if (order !== null && applied !== null) return; // the commit order covers it
    this.recent.add(id);
    if (this.recent.size > RECENT) this.recent.delete(this.recent.values().next().value as string);
  }

  private complete(t: Tx, end: EndRecord): boolean {
    if (t.orders.size < end.eventCount) return false;
    for (const [, copies] of t.truncates) {
      const topic = splitTp(t.items.find((i) => i.truncate)!.tp)[0];
      if (copies.size < this.o.partitionCount(topic)) return false;
    }
    return true;
  }

  /** Every record before `item` in its partition is applied, taken, or of the same transaction. */
  private headReady(item: Item, t: Tx): boolean {
    const p = this.partitions.get(item.tp)!;
    for (let at = this.head(p); at < p.items.length; at++) {
      const i = p.items[at]!;
      if (i === item) return true;
      if (i.state === 'pending' && !(i.tx && i.tx.id === t.id)) return false;
    }
    return true;
  }

  /** Index of the first pending item of the partition (its length when none). */
  private head(p: Partition): number {
    while (p.head < p.items.length && p.items[p.head]!.state !== 'pending') p.head++;
    return p.head;
  }

  private split(t: Tx): void {
    t.split = true;
    this.newlySplit.push(t.id);
  }

  private partition(topic: string, partition: number): Partition {
    const tp = `${topic}\u0000${partition}`;
    let p = this.partitions.get(tp);
    if (!p) {
      p = { tp, topic, items: [], head: 0, received: 0n, stored: null };
      this.partitions.set(tp, p);
    }
    return p;
  }
}

function splitTp(tp: string): [string, number] {
  const at = tp.lastIndexOf('\u0000');
  return [tp.slice(0, at), Number(tp.slice(at + 1))];
}
