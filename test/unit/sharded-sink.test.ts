import { describe, expect, it } from 'vitest';
import {
  FerryError,
  type PartitionOffset,
  type Row,
  type SinkBatch,
  type SinkConnector,
  type TableSchema,
  withVersion,
} from '../../src/api/index.js';
import { createLogger } from '../../src/log/index.js';
import type { RoutedRecord } from '../../src/runtime/sink/shards/routed.js';
import { ShardedSink } from '../../src/runtime/sink/shards/sharded-sink.js';
import { shardsOfEvent } from '../../src/runtime/sink/shards/split.js';
import { ShardRouting } from '../../src/sharding/index.js';

const schema: TableSchema = withVersion({
  db: 'shop',
  table: 'items',
  primaryKey: ['id'],
  columns: [
    { name: 'id', kind: 'int32', sourceType: 'int', nullable: false },
    { name: 'v', kind: 'string', sourceType: 'text', nullable: true },
  ],
});

/** A target that keeps rows and offsets in memory, and can be switched off. */
class FakeTarget implements SinkConnector {
  readonly kind = 'postgres' as const;
  rows = new Map<number, Row>();
  offsets = new Map<string, string>();
  up = true;
  applies = 0;
  private check() {
    if (!this.up) throw new FerryError('FERRY_CONNECTION', 'connection refused', { retriable: true });
  }
  async start() {
    this.check();
  }
  async ensureTable() {
    this.check();
  }
  async readOffsets(topics: string[]): Promise<PartitionOffset[]> {
    this.check();
    return [...this.offsets]
      .map(([tp, next]) => ({ topic: tp.split('/')[0]!, partition: Number(tp.split('/')[1]), nextOffset: next }))
      .filter((o) => topics.includes(o.topic));
  }
  async apply(batch: SinkBatch) {
    this.check();
    for (const e of batch.expected ?? []) {
      const stored = this.offsets.get(`${e.topic}/${e.partition}`) ?? null;
      if (stored !== e.nextOffset)
        throw new FerryError('FERRY_APPLY', 'fenced', { retriable: true, details: { fenced: true } });
    }
    this.applies++;
    for (const t of batch.tables) {
      for (const d of t.deletes) this.rows.delete(d['id'] as number);
      for (const u of t.upserts) this.rows.set(u['id'] as number, u);
    }
    for (const o of batch.offsets) this.offsets.set(`${o.topic}/${o.partition}`, o.nextOffset);
  }
  async close() {}
}

const logger = createLogger({ level: 'error', format: 'json' });
const ctx = { pipeline: 'p', group: 'g', logger };
const routing = new ShardRouting({ shards: ['a', 'b', 'c'], rule: 'hash' });
const shardOf = (id: number) => routing.routerFor(schema).shardsOf([id])[0]!;

function rec(offset: number, op: 'c' | 'd' | 'u', id: number, before?: number): RoutedRecord {
  return {
    topic: 't',
    partition: 0,
    offset: String(offset),
    event: {
      op,
      schema,
      before: op === 'd' ? { id } : before !== undefined ? { id: before, v: 'old' } : null,
      after: op === 'd' ? null : { id, v: `v${offset}` },
      tsMs: 0,
    },
  };
}

function batchOf(records: RoutedRecord[]): SinkBatch {
  const last = records[records.length - 1]!;
  return { tables: [], offsets: [{ topic: 't', partition: 0, nextOffset: String(Number(last.offset) + 1) }] };
}

function setup() {
  const targets = [new FakeTarget(), new FakeTarget(), new FakeTarget()];
  const sink = new ShardedSink({
    shards: targets.map((t, i) => ({ name: ['a', 'b', 'c'][i]!, connector: t })),
    routing,
    probeMinMs: 10,
    probeMaxMs: 20,
  });
  return { targets, sink };
}

describe('ShardedSink', () => {
  it('puts each row on its shard only, with each shard storing the offsets', async () => {
    const { targets, sink } = setup();
    await sink.start(ctx);
    await sink.readOffsets(['t']);
    const records = Array.from({ length: 30 }, (_, i) => rec(i, 'c', i));
    await sink.applyRouted(records, batchOf(records));
    for (let id = 0; id < 30; id++) {
      for (const [i, t] of targets.entries()) expect(t.rows.has(id)).toBe(i === shardOf(id));
    }
    for (const t of targets) expect(t.offsets.get('t/0')).toBe('30');
  });

  it('a key change across shards deletes on the old shard and inserts on the new one', () => {
    const a = 0;
    let b = 1;
    while (shardOf(a) === shardOf(b)) b++;
    const out = shardsOfEvent(routing, rec(5, 'u', b, a).event);
    expect(out.map((o) => [o.shard, o.event.op])).toEqual([
      [shardOf(b), 'u'],
      [shardOf(a), 'd'],
    ]);
  });

  it('an unreachable shard does not stop the others; it catches up from the lowest offset, the others skip', async () => {
    const { targets, sink } = setup();
    await sink.start(ctx);
    expect(await sink.readOffsets(['t'])).toEqual([]);
    const first = Array.from({ length: 30 }, (_, i) => rec(i, 'c', i));
    await sink.applyRouted(first, batchOf(first));
    targets[1]!.up = false;
    const second = Array.from({ length: 30 }, (_, i) => rec(30 + i, 'c', 30 + i));
    await sink.applyRouted(second, batchOf(second));
    expect(sink.shards[1]!.down).toBe(true);
    expect(targets[0]!.offsets.get('t/0')).toBe('60');
    expect(targets[1]!.offsets.get('t/0')).toBe('30');
    // While it is down, every shard down would fail; here two are up, so batches go on.
    targets[1]!.up = true;
    await expect
      .poll(async () => {
        try {
          await sink.applyRouted([], { tables: [], offsets: [] });
          return 'applied';
        } catch (err) {
          return (err as FerryError).details['fenced'] === true ? 'fenced' : 'other';
        }
      })
      .toBe('fenced');
    // The runtime re-reads: the lowest next offset over the shards.
    expect(await sink.readOffsets(['t'])).toEqual([
      { topic: 't', partition: 0, nextOffset: '30', truncateBarrier: null },
    ]);
    const appliesBefore = targets.map((t) => t.applies);
    await sink.applyRouted(second, batchOf(second));
    expect(targets[1]!.offsets.get('t/0')).toBe('60');
    // Shards that held the records skipped them: no transaction at all.
    expect(targets[0]!.applies).toBe(appliesBefore[0]);
    expect(targets[2]!.applies).toBe(appliesBefore[2]);
    for (let id = 0; id < 60; id++) {
      for (const [i, t] of targets.entries()) expect(t.rows.has(id)).toBe(i === shardOf(id));
    }
  });

  it('every shard unreachable: the batch fails (retriable) and nothing advances', async () => {
    const { targets, sink } = setup();
    await sink.start(ctx);
    await sink.readOffsets(['t']);
    for (const t of targets) t.up = false;
    const records = [rec(0, 'c', 1)];
    await expect(sink.applyRouted(records, batchOf(records))).rejects.toMatchObject({ retriable: true });
    await expect(sink.applyRouted(records, batchOf(records))).rejects.toMatchObject({ code: 'FERRY_CONNECTION' });
    await sink.close();
  });

  it('after a crash between shard commits, a replay applies each record once per shard', async () => {
    const { targets, sink } = setup();
    await sink.start(ctx);
    await sink.readOffsets(['t']);
    const records = Array.from({ length: 12 }, (_, i) => rec(i, 'c', i));
    await sink.applyRouted(records, batchOf(records));
    // Shard c lost its last batch (as if the process died before c committed).
    const c = targets[2]!;
    c.offsets.set('t/0', '6');
    for (let id = 6; id < 12; id++) c.rows.delete(id);
    const restarted = new ShardedSink({
      shards: targets.map((t, i) => ({ name: ['a', 'b', 'c'][i]!, connector: t })),
      routing,
    });
    await restarted.start(ctx);
    expect(await restarted.readOffsets(['t'])).toEqual([
      { topic: 't', partition: 0, nextOffset: '6', truncateBarrier: null },
    ]);
    const replay = records.slice(6);
    const applies = targets.map((t) => t.applies);
    await restarted.applyRouted(replay, batchOf(replay));
    expect(targets[0]!.applies).toBe(applies[0]);
    expect(targets[1]!.applies).toBe(applies[1]);
    expect(c.applies).toBe(applies[2]! + 1);
    for (let id = 0; id < 12; id++) {
      for (const [i, t] of targets.entries()) expect(t.rows.has(id)).toBe(i === shardOf(id));
    }
  });

  it('a data error on one shard is thrown naming the shard, after the other shards committed', async () => {
    const { targets, sink } = setup();
    await sink.start(ctx);
    await sink.readOffsets(['t']);
    targets[0]!.apply = async () => {
      throw new FerryError('FERRY_APPLY', 'value too long');
    };
    const records = Array.from({ length: 9 }, (_, i) => rec(i, 'c', i));
    await expect(sink.applyRouted(records, batchOf(records))).rejects.toThrow(/shard a: value too long/);
    expect(targets[1]!.offsets.get('t/0')).toBe('9');
  });
});
