import {
  type ChangeEvent,
  type ChunkReader,
  type ChunkRequest,
  type ChunkResult,
  evenBounds,
  type Row,
  type TableSchema,
} from '../../src/api/index.js';
import { change, FakeConnector } from './source-runtime.fakes.js';

/**
 * A fake source with watermarked chunk reads, like the PostgreSQL connector: a chunk reads the
 * rows as they are now, then appends its watermark to the log (after every change made so far).
 * `rows` always holds the current state: change it through apply(), which also logs the change.
 */
export class FakeChunkConnector extends FakeConnector {
  readonly chunkReads: ChunkRequest[] = [];
  /** Called between a chunk's read and its watermark (changes made there land inside the window). */
  betweenReadAndWatermark: ((req: ChunkRequest) => void) | null = null;
  /** While set, chunk reads wait for it. */
  readGate: Promise<void> | null = null;
  readersOpened = 0;

  /** Changes the current rows and logs the change as one transaction. */
  apply(schema: TableSchema, op: 'c' | 'u' | 'd', id: number, v: string | null = null): void {
    const rows = this.rows.get(schema.table) ?? [];
    const i = rows.findIndex((r) => r['id'] === id);
    if (op === 'd') {
      if (i >= 0) rows.splice(i, 1);
    } else {
      const row: Row = { id, v };
      if (i >= 0) rows[i] = row;
      else {
        rows.push(row);
        rows.sort((a, b) => (a['id'] as number) - (b['id'] as number));
      }
    }
    this.rows.set(schema.table, rows);
    this.commit(change(schema, op, id, v) as ChangeEvent);
  }

  async openChunkReader(): Promise<ChunkReader> {
    this.readersOpened++;
    return {
      estimateRows: async (t) => this.rows.get(t.table)?.length ?? 0,
      readChunk: async (req): Promise<ChunkResult> => {
        this.chunkReads.push(req);
        if (this.readGate) await this.readGate;
        const after = req.afterKey ? (req.afterKey[0] as number) : Number.NEGATIVE_INFINITY;
        const until = req.until ? (req.until[0] as number) : Number.POSITIVE_INFINITY;
        const rows = (this.rows.get(req.table.table) ?? [])
          .filter((r) => (r['id'] as number) > after && (r['id'] as number) <= until)
          .slice(0, req.limit)
          .map((r) => ({ ...r }));
        this.betweenReadAndWatermark?.(req);
        this.append({ type: 'watermark', id: req.id });
        this.append({ type: 'checkpoint', position: { i: this.log.length + 1 } });
        return { rows };
      },
      maxKey: async (t) => {
        const ids = (this.rows.get(t.table) ?? []).map((r) => r['id'] as number);
        return ids.length === 0 ? null : [Math.max(...ids)];
      },
      keyBounds: async (t, parts) => {
        const ids = (this.rows.get(t.table) ?? []).map((r) => r['id'] as number);
        if (ids.length === 0) return [];
        return evenBounds(BigInt(Math.min(...ids)), BigInt(Math.max(...ids)), parts);
      },
      close: async () => {},
    };
  }
}

/** The state a consumer of the topic ends with: applies every envelope in order. */
export function replay(envelopes: Array<{ value: Record<string, unknown> }>): Map<number, string | null> {
  const state = new Map<number, string | null>();
  for (const e of envelopes) {
    const op = e.value['op'];
    const after = e.value['after'] as { id: number; v: string | null } | null;
    const before = e.value['before'] as { id: number } | null;
    if (op === 'd') state.delete(before!.id);
    else if (after) state.set(after.id, after.v);
  }
  return state;
}

export function rowsOf(src: FakeConnector, table: string): Map<number, string | null> {
  return new Map((src.rows.get(table) ?? []).map((r) => [r['id'] as number, r['v'] as string | null]));
}
