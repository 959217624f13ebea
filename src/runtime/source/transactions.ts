/**
 * Transaction metadata of the source (docs/transactions.md): the BEGIN and END records of
 * `<pipeline>.__transactions`, in Debezium's shape. A transaction begins with the first event
 * that carries a new transaction id and ends at the next checkpoint (a commit), or when an event
 * of another transaction arrives first. END carries the number of events and the count per table,
 * so a consumer can tell when it holds the whole transaction. Snapshot rows carry no transaction.
 */
import type { ChangeEvent } from '../../api/index.js';

export interface TransactionRecord {
  status: 'BEGIN' | 'END';
  id: string;
  /** END: events of the transaction; BEGIN: null. */
  event_count: number | null;
  /** END: per table (`db.table`), its events; BEGIN: null. */
  data_collections: Array<{ data_collection: string; event_count: number }> | null;
  /** Commit time at the source, ms. */
  ts_ms: number;
  /** ferry: the transaction's place in the source's commit order (TransactionInfo.commitOrder). */
  commit_order?: string;
}

interface Open {
  id: string;
  tsMs: number;
  order: string | undefined;
  events: number;
  tables: Map<string, number>;
}

export class TransactionMarks {
  private open: Open | null = null;

  /** The records to publish before `event`: END of a transaction left open, BEGIN of a new one. */
  beforeEvent(event: ChangeEvent): TransactionRecord[] {
    const tx = event.transaction;
    if (!tx) return this.close();
    const out: TransactionRecord[] = [];
    if (this.open && this.open.id !== tx.id) out.push(...this.close());
    if (!this.open) {
      this.open = { id: tx.id, tsMs: event.tsMs, order: tx.commitOrder, events: 0, tables: new Map() };
      out.push(
        withOrder(
          { status: 'BEGIN', id: tx.id, event_count: null, data_collections: null, ts_ms: event.tsMs },
          tx.commitOrder,
        ),
      );
    }
    const name = `${event.db}.${event.table}`;
    this.open.events++;
    this.open.tables.set(name, (this.open.tables.get(name) ?? 0) + 1);
    return out;
  }

  /** A commit (checkpoint): END of the open transaction, if any. */
  close(): TransactionRecord[] {
    const o = this.open;
    if (!o) return [];
    this.open = null;
    const collections = [...o.tables].map(([data_collection, event_count]) => ({ data_collection, event_count }));
    return [
      withOrder(
        { status: 'END', id: o.id, event_count: o.events, data_collections: collections, ts_ms: o.tsMs },
        o.order,
      ),
    ];
  }

  /** A new stream starts (reconnect): a transaction left open was cut off and is read again. */
  reset(): void {
    this.open = null;
  }
}

function withOrder(r: TransactionRecord, order: string | undefined): TransactionRecord {
  return order === undefined ? r : { ...r, commit_order: order };
}
