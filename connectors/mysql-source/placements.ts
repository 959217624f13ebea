import { binlogIndex } from './position.js';

/**
 * Snapshot chunks waiting to be placed in the binlog stream: each chunk was read in a view whose
 * binlog position is known exactly (MariaDB: Binlog_snapshot_file/position of the chunk's
 * consistent snapshot), and its watermark is due once the stream, at a transaction boundary, has
 * passed that position. Shared by the connector's chunk readers and its stream.
 */
export class Placements {
  private readonly pending = new Map<string, { file: string; pos: number }>();
  private waiter: (() => void) | null = null;
  private added = false;

  get size(): number {
    return this.pending.size;
  }

  add(id: string, file: string, pos: number): void {
    this.pending.set(id, { file, pos });
    this.added = true;
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  remove(id: string): void {
    this.pending.delete(id);
  }

  /** Resolves when a chunk is added (at once if one was added since the last call). */
  whenAdded(): Promise<void> {
    if (this.added) {
      this.added = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.waiter = () => {
        this.added = false;
        resolve();
      };
    });
  }

  /** Removes and returns, in position order, the chunks whose position `passed` says the stream passed. */
  due(passed: (file: string, pos: number) => boolean): string[] {
    const out: Array<{ id: string; file: string; pos: number }> = [];
    for (const [id, p] of this.pending) if (passed(p.file, p.pos)) out.push({ id, ...p });
    out.sort((a, b) => comparePositions(a, b));
    for (const o of out) this.pending.delete(o.id);
    return out.map((o) => o.id);
  }
}

/** Orders binlog positions: by file index, then offset. */
export function comparePositions(a: { file: string; pos: number }, b: { file: string; pos: number }): number {
  const fa = binlogIndex(a.file);
  const fb = binlogIndex(b.file);
  if (fa !== null && fb !== null && fa !== fb) return fa - fb;
  if (fa === null || fb === null) {
    if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  }
  return a.pos - b.pos;
}
