import { describe, expect, it } from 'vitest';
import { type TableChanges, type TableSchema, UNCHANGED } from '../../src/api/index.js';
import { ParallelScheduler, type WriteSet, waitFor, writeSetOf } from '../../src/runtime/sink/transactions/parallel.js';

const schema = (table: string, version = '1') =>
  ({ db: 'd', table, primaryKey: ['id'], columns: [], version }) as unknown as TableSchema;
const changes = (table: string, ids: number[], extra: Partial<TableChanges> = {}): TableChanges => ({
  schema: schema(table),
  truncate: false,
  upserts: ids.map((id) => ({ id, v: id })),
  deletes: [],
  ...extra,
});
const ws = (ids: number[], flags: Partial<WriteSet> = {}): WriteSet => ({
  barrier: false,
  strict: false,
  keys: new Set(ids.map((id) => `t${id}`)),
  deletes: new Set(),
  ...flags,
});
const tick = () => new Promise<void>((r) => setTimeout(r, 0));

/**
 * A fake target: a unit's writes are held in its transaction and become visible at commit, in
 * the order commits happen; a failure rolls them back. `log` records starts, commits, rollbacks.
 */
class FakeTarget {
  readonly rows = new Map<string, string>();
  readonly log: string[] = [];
  readonly gates = new Map<string, { open: () => void; promise: Promise<void> }>();

  /** A gate the named unit's writes wait for (released by open()). */
  gate(name: string): void {
    let open!: () => void;
    const promise = new Promise<void>((r) => {
      open = r;
    });
    this.gates.set(name, { open, promise });
  }

  open(name: string): void {
    this.gates.get(name)!.open();
  }

  run(name: string, writes: Record<string, string>, fail?: Error) {
    return async (beforeCommit: () => Promise<void>) => {
      this.log.push(`start ${name}`);
      const pending = new Map(Object.entries(writes));
      try {
        await this.gates.get(name)?.promise;
        if (fail) throw fail;
        await beforeCommit();
      } catch (err) {
        this.log.push(`rollback ${name}`);
        throw err;
      }
      for (const [k, v] of pending) this.rows.set(k, v);
      this.log.push(`commit ${name}`);
    };
  }
}

describe('writeSetOf', () => {
  it('holds (table, key) of every upsert and delete, both keys of a key change', () => {
    const known = new Set<string>();
    writeSetOf([changes('a', [])], known);
    const w = writeSetOf([changes('a', [2], { deletes: [{ id: 1 }] })], known);
    expect(w.barrier).toBe(false);
    expect(w.strict).toBe(false);
    expect([...w.keys].sort()).toEqual(['d\u0000a\u0000[1]', 'd\u0000a\u0000[2]']);
    expect([...w.deletes]).toEqual(['d\u0000a\u0000[1]']);
  });

  it('waits for the writes of an overlapping unit, for its commit when deleting one of its rows', () => {
    expect(waitFor(ws([1]), ws([2]))).toBe('none');
    expect(waitFor(ws([1, 2]), ws([2]))).toBe('written');
    expect(waitFor(ws([1, 2]), ws([2], { deletes: new Set(['t2']) }))).toBe('committed');
    expect(waitFor(ws([1, 2]), ws([3], { deletes: new Set(['t3']) }))).toBe('none');
    expect(waitFor(ws([1]), ws([1], { strict: true }))).toBe('committed');
    expect(waitFor(ws([1]), ws([2], { strict: true }))).toBe('none');
    expect(waitFor(ws([1], { barrier: true }), ws([2]))).toBe('committed');
    expect(waitFor(ws([1]), ws([2], { barrier: true }))).toBe('committed');
  });

  it('makes a truncate and a schema version not seen before barriers, and rows read back strict', () => {
    const known = new Set<string>();
    expect(writeSetOf([changes('a', [1])], known).barrier).toBe(true);
    expect(writeSetOf([changes('a', [1])], known).barrier).toBe(false);
    expect(writeSetOf([changes('a', [1], { truncate: true })], known).barrier).toBe(true);
    expect(writeSetOf([{ ...changes('a', [1]), schema: schema('a', '2') }], known).barrier).toBe(true);
    const partial = writeSetOf([changes('a', [], { upserts: [{ id: 3, v: UNCHANGED }] })], known);
    expect(partial).toMatchObject({ barrier: false, strict: true });
  });
});

describe('ParallelScheduler', () => {
  it('runs units with disjoint write sets at once and commits them in the order they were added', async () => {
    const target = new FakeTarget();
    const committed: string[] = [];
    const s = new ParallelScheduler(4);
    target.gate('A');
    s.add(ws([1]), target.run('A', { k1: 'A' }), () => committed.push('A'));
    s.add(ws([2]), target.run('B', { k2: 'B' }), () => committed.push('B'));
    await tick();
    // B started while A still writes, and B waits for A's commit although its writes are done.
    expect(target.log).toEqual(['start A', 'start B']);
    expect(s.inFlight).toBe(2);
    target.open('A');
    await s.drain();
    expect(target.log).toEqual(['start A', 'start B', 'commit A', 'commit B']);
    expect(committed).toEqual(['A', 'B']);
    expect(s.peak).toBe(2);
    expect(s.failure).toBeNull();
  });

  it('starts a unit whose write set overlaps only after the earlier one did its writes, and commits after it', async () => {
    const target = new FakeTarget();
    const s = new ParallelScheduler(4);
    target.gate('A');
    s.add(ws([1, 2]), target.run('A', { k1: 'A' }), () => undefined);
    s.add(ws([2, 3]), target.run('B', { k1: 'B' }), () => undefined);
    await tick();
    expect(target.log).toEqual(['start A']);
    target.open('A');
    await s.drain();
    expect(target.log).toEqual(['start A', 'start B', 'commit A', 'commit B']);
    expect(target.rows.get('k1')).toBe('B');
  });

  it('starts a strict unit or a barrier only after the overlapping units committed', async () => {
    for (const flags of [{ strict: true }, { barrier: true }]) {
      const target = new FakeTarget();
      const s = new ParallelScheduler(4);
      s.add(ws([1]), target.run('A', { k1: 'A' }), () => undefined);
      s.add(ws(flags.barrier ? [9] : [1], flags), target.run('B', { k1: 'B' }), () => undefined);
      s.add(ws([5]), target.run('C', { k5: 'C' }), () => undefined);
      await s.drain();
      expect(target.log.indexOf('start B')).toBeGreaterThan(target.log.indexOf('commit A'));
      if (flags.barrier) expect(target.log.indexOf('start C')).toBeGreaterThan(target.log.indexOf('commit B'));
      expect(target.log.filter((l) => l.startsWith('commit'))).toEqual(['commit A', 'commit B', 'commit C']);
    }
  });

  it('keeps at most `parallelism` units in flight', async () => {
    const target = new FakeTarget();
    const s = new ParallelScheduler(2);
    target.gate('A');
    s.add(ws([1]), target.run('A', {}), () => undefined);
    s.add(ws([2]), target.run('B', {}), () => undefined);
    expect(s.full).toBe(true);
    target.open('A');
    await s.drain();
    expect(s.full).toBe(false);
  });

  it('on a failure, commits the units before it and rolls back every unit after it', async () => {
    const target = new FakeTarget();
    const committed: string[] = [];
    const settled: number[] = [];
    const s = new ParallelScheduler(4, () => settled.push(s.inFlight));
    target.gate('A');
    target.gate('B');
    s.add(ws([1]), target.run('A', { k1: 'A' }), () => committed.push('A'));
    s.add(ws([2]), target.run('B', { k2: 'B' }, new Error('lock timeout')), () => committed.push('B'));
    s.add(ws([3]), target.run('C', { k3: 'C' }), () => committed.push('C'));
    s.add(ws([3]), target.run('D', { k3: 'D' }), () => committed.push('D'));
    await tick();
    target.open('B'); // B fails while A still writes
    await tick();
    expect(s.full).toBe(true); // nothing is added after a failure
    expect(() => s.add(ws([9]), target.run('E', {}), () => undefined)).toThrow(/failed/);
    target.open('A');
    await s.drain();
    expect(committed).toEqual(['A']);
    expect([...target.rows.keys()]).toEqual(['k1']);
    expect(target.log).toContain('rollback B');
    expect(target.log).toContain('rollback C');
    expect(target.log).toContain('rollback D');
    expect(target.log.filter((l) => l.startsWith('commit'))).toEqual(['commit A']);
    expect(s.failure).toMatchObject({ notApplied: 3 });
    expect((s.failure!.error as Error).message).toBe('lock timeout');
    expect(settled).toHaveLength(4);
  });

  it('with a serial retry of the units not applied, the target ends as if every unit was applied in order', async () => {
    // Units write the same key in turn; unit 3 fails once in parallel.
    const units = [1, 2, 3, 4, 5].map((n) => ({ name: `U${n}`, writes: { k: `U${n}`, [`own${n}`]: 'x' } }));
    const target = new FakeTarget();
    const applied: string[] = [];
    const s = new ParallelScheduler(3);
    let next = 0;
    let failOnce = true;
    while (next < units.length && !s.full) {
      const u = units[next++]!;
      const fail = u.name === 'U3' && failOnce ? new Error('deadlock') : undefined;
      if (fail) failOnce = false;
      s.add(ws([0, next]), target.run(u.name, u.writes, fail), () => applied.push(u.name));
    }
    while (!s.failure && next < units.length) {
      await tick();
      while (next < units.length && !s.full) {
        const u = units[next++]!;
        s.add(ws([0, next]), target.run(u.name, u.writes), () => applied.push(u.name));
      }
    }
    await s.drain();
    const failure = s.failure!;
    // What the runtime does: everything from the failed unit on again, one at a time.
    const again = units.slice(applied.length);
    expect(again.length).toBeGreaterThanOrEqual(failure.notApplied);
    const serial = new ParallelScheduler(1);
    for (const u of again) {
      serial.add(ws([0]), target.run(u.name, u.writes), () => applied.push(u.name));
      await serial.drain();
    }
    expect(applied).toEqual(['U1', 'U2', 'U3', 'U4', 'U5']);
    expect(target.rows.get('k')).toBe('U5');
    expect(target.log.filter((l) => l.startsWith('commit'))).toEqual(applied.map((n) => `commit ${n}`));
  });
});
