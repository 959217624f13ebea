/**
 * Regression: RENAME TABLE while the sink lags (docs/schema-changes.md#rename-table-and-a-lagging-sink).
 * The source publishes a marker with the old topic's end offsets into every partition of the new
 * topic, before the renamed table's first event; the sink holds a new-topic partition at its
 * marker until the old topic's stored offsets reach those ends.
 */
import { describe, expect, it } from 'vitest';
import { withVersion } from '../../src/api/index.js';
import { encodeRenameMarker, parseRenameMarker } from '../../src/event/rename-marker.js';
import { renameMarkerPassed } from '../../src/runtime/sink/rename-barrier.js';
import { change, FakeConnector, FakeKafka, fakeSourceRuntime, table, waitFor } from './source-runtime.fakes.js';

describe('rename markers', () => {
  it('round-trip, and no event envelope or tombstone is taken for one', () => {
    const m = { id: 'app.b@v1', fromTopic: 'p.app.a', ends: { '0': '12', '1': '0' } };
    expect(parseRenameMarker(Buffer.from(encodeRenameMarker(m)))).toEqual(m);
    expect(parseRenameMarker(null)).toBeUndefined();
    expect(parseRenameMarker(Buffer.from('{"before":null,"after":{"id":1},"op":"c"}'))).toBeUndefined();
    expect(parseRenameMarker(Buffer.from('{"ferry_rename_barrier":1,"id":"x","from_topic":"t","ends":{"0":-1}}'))).toBe(
      undefined,
    );
  });

  it('passes once every partition of the old topic is applied up to its end (or its records are gone)', () => {
    const m = { id: 'app.b@v1', fromTopic: 'p.app.a', ends: { '0': '12', '1': '0', '2': '5' } };
    const none = new Map<number, bigint>();
    expect(renameMarkerPassed(m, new Map([[0, 12n]]), none)).toBe(false);
    expect(
      renameMarkerPassed(
        m,
        new Map([
          [0, 12n],
          [2, 4n],
        ]),
        none,
      ),
    ).toBe(false);
    expect(
      renameMarkerPassed(
        m,
        new Map([
          [0, 13n],
          [2, 5n],
        ]),
        none,
      ),
    ).toBe(true);
    // Partition 2's records before the end were deleted (retention): nothing left to wait for.
    expect(renameMarkerPassed(m, new Map([[0, 12n]]), new Map([[2, 6n]]))).toBe(true);
  });
});

describe('SourceRuntime: RENAME TABLE while the sink lags', () => {
  it('publishes a marker with the old topic ends into every partition of the new topic before its first event', async () => {
    const a = table('a');
    const { version: _v, ...shape } = table('b');
    const b = withVersion({ ...shape, renamedFrom: { db: 'app', table: 'a' } });
    const kafka = new FakeKafka();
    const src = new FakeConnector([a]);
    const rt = fakeSourceRuntime(kafka, src, { snapshot: 'never', partitions: 3 });
    const running = rt.run();
    src.commit(change(a, 'c', 1, 'x'), change(a, 'u', 1, 'y'), change(a, 'c', 2, 'z'));
    src.append({ type: 'schema', schema: b });
    src.commit(change(b, 'u', 1, 'after'));
    // The same rename seen again by this process (a later version of b) publishes no new markers.
    src.commit(change(b, 'u', 2, 'again'));
    await waitFor(() => (kafka.topics.get('p.app.b')?.records.length ?? 0) >= 5);
    await rt.stop();
    await running;
    const old = kafka.topics.get('p.app.a')!.records;
    const ends: Record<string, string> = {};
    for (let p = 0; p < 3; p++) ends[String(p)] = String(old.filter((r) => r.partition === p).length);
    expect(Object.values(ends).reduce((n, e) => n + Number(e), 0)).toBe(3);
    const records = kafka.topics.get('p.app.b')!.records;
    const markers = records.filter((r) => parseRenameMarker(r.value === null ? null : Buffer.from(r.value)));
    expect(markers.map((r) => r.partition).sort()).toEqual([0, 1, 2]);
    for (const r of markers) {
      expect(parseRenameMarker(Buffer.from(r.value!))).toEqual({
        id: `app.b@${b.version}`,
        fromTopic: 'p.app.a',
        ends,
      });
      // Keyed (a compacted topic refuses records without a key), by a key no row has.
      expect(r.key).toBe(`{"ferry_rename_barrier":"app.b@${b.version}"}`);
    }
    // Every marker precedes the first event of b in its partition.
    const firstEvent = records.findIndex((r) => !parseRenameMarker(Buffer.from(r.value!)));
    expect(firstEvent).toBe(3);
    expect(records.length).toBe(5);
  });
});

describe('SourceRuntime: RENAME COLUMN while the sink lags', () => {
  it("publishes a marker with the table's own topic ends into every partition before the renamed version's first event", async () => {
    const a = table('a');
    const { version: _v, ...shape } = a;
    // v renamed to w: the version after the rename marks it.
    const renamed = withVersion({
      ...shape,
      columns: shape.columns.map((c) => (c.name === 'v' ? { ...c, name: 'w', renamedFrom: 'v' } : c)),
    });
    const kafka = new FakeKafka();
    const src = new FakeConnector([a]);
    const rt = fakeSourceRuntime(kafka, src, { snapshot: 'never', partitions: 3 });
    const running = rt.run();
    src.commit(change(a, 'c', 1, 'x'), change(a, 'c', 2, 'y'), change(a, 'c', 3, 'z'), change(a, 'u', 1, 'x2'));
    src.append({ type: 'schema', schema: renamed });
    const renamedChange = (id: number): ReturnType<typeof change> => {
      const e = change(renamed, 'u', id, null);
      return { ...e, after: { id, w: `w${id}` } };
    };
    src.commit(renamedChange(1));
    // Later events of the same version publish no new markers.
    src.commit(renamedChange(2));
    await waitFor(() => (kafka.topics.get('p.app.a')?.records.length ?? 0) >= 9);
    await rt.stop();
    await running;
    const records = kafka.topics.get('p.app.a')!.records;
    const isMarker = (r: (typeof records)[number]) => parseRenameMarker(r.value === null ? null : Buffer.from(r.value));
    const markers = records.filter(isMarker);
    expect(markers.map((r) => r.partition).sort()).toEqual([0, 1, 2]);
    const before = records.slice(0, records.indexOf(markers[0]!));
    expect(before).toHaveLength(4);
    const ends: Record<string, string> = {};
    for (let p = 0; p < 3; p++) ends[String(p)] = String(before.filter((r) => r.partition === p).length);
    for (const r of markers) {
      expect(parseRenameMarker(Buffer.from(r.value!))).toEqual({
        id: `app.a@${renamed.version}`,
        fromTopic: 'p.app.a',
        ends,
      });
    }
    // The markers sit between the events before the rename and those after it.
    expect(records.slice(4, 7).every(isMarker)).toBe(true);
    expect(records.slice(7).some(isMarker)).toBe(false);
    expect(records).toHaveLength(9);
  });
});
