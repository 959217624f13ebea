import { describe, expect, it } from 'vitest';
import { PgoutputDecoder } from '../../connectors/postgres-source/decode.js';
import type { PgMessage, PgRelation } from '../../connectors/postgres-source/pgoutput.js';
import { UNCHANGED_TOAST } from '../../connectors/postgres-source/pgoutput.js';
import { type SourceItem, type TableSchema, UNCHANGED, withVersion } from '../../src/api/index.js';

const REL: PgRelation = {
  tag: 'relation',
  oid: 100,
  schema: 'app',
  name: 'docs',
  replicaIdentity: 'default',
  columns: [
    { isKey: true, name: 'id', typeOid: 23, typeMod: -1 },
    { isKey: false, name: 'ts', typeOid: 1184, typeMod: -1 },
    { isKey: false, name: 'body', typeOid: 25, typeMod: -1 },
  ],
};

function schemaOf(rel: PgRelation): TableSchema {
  const kinds: Record<number, TableSchema['columns'][number]['kind']> = {
    23: 'int32',
    1184: 'timestamptz',
    25: 'string',
  };
  return withVersion({
    db: rel.schema,
    table: rel.name,
    primaryKey: rel.columns.filter((c) => c.isKey).map((c) => c.name),
    columns: rel.columns.map((c) => ({
      name: c.name,
      kind: kinds[c.typeOid]!,
      sourceType: String(c.typeOid),
      nullable: !c.isKey,
    })),
  });
}

function decoder(startLsn = 0n, captured = (r: PgRelation) => r.schema === 'app') {
  return new PgoutputDecoder({
    startLsn,
    resolveRelation: async (rel) => (captured(rel) ? schemaOf(rel) : null),
  });
}

async function feed(d: PgoutputDecoder, msgs: PgMessage[]): Promise<SourceItem[]> {
  const out: SourceItem[] = [];
  let lsn = 0x1000n;
  for (const m of msgs) out.push(...(await d.decode(m, lsn++)));
  return out;
}

const begin = (xid: number, finalLsn: bigint): PgMessage => ({
  tag: 'begin',
  xid,
  finalLsn,
  commitTimeMs: 1_700_000_000_123,
});
const commit = (commitLsn: bigint, endLsn: bigint): PgMessage => ({
  tag: 'commit',
  flags: 0,
  commitLsn,
  endLsn,
  commitTimeMs: 1_700_000_000_123,
});
const evs = (items: SourceItem[]) => items.flatMap((i) => (i.type === 'event' ? [i.event] : []));

describe('PgoutputDecoder', () => {
  it('turns a transaction into a schema item, events with canonical values, and a checkpoint at the commit end', async () => {
    const items = await feed(decoder(), [
      begin(7, 0x2000n),
      REL,
      { tag: 'insert', relationOid: 100, newTuple: ['1', '2024-01-02 03:04:05.123456+02', 'x'] },
      commit(0x2000n, 0x2030n),
    ]);
    expect(items.map((i) => i.type)).toEqual(['schema', 'event', 'checkpoint']);
    expect(items[2]).toEqual({ type: 'checkpoint', position: { lsn: '0/2030' }, commitTsMs: 1_700_000_000_123 });
    const [e] = evs(items);
    expect(e).toMatchObject({
      op: 'c',
      db: 'app',
      table: 'docs',
      key: { id: 1 },
      before: null,
      after: { id: 1, ts: '2024-01-02T01:04:05.123456Z', body: 'x' },
      tsMs: 1_700_000_000_123,
      snapshot: false,
      source: { connector: 'postgresql', schema: 'app', txId: 7, lsn: 0x1002, commit_lsn: '0/2000' },
      transaction: { id: '7', totalOrder: 1, dataCollectionOrder: 1 },
    });
  });

  it('an unchanged TOAST value becomes UNCHANGED, never null', async () => {
    const items = await feed(decoder(), [
      begin(1, 0x10n),
      REL,
      { tag: 'update', relationOid: 100, keyTuple: null, oldTuple: null, newTuple: ['1', null, UNCHANGED_TOAST] },
      commit(0x10n, 0x20n),
    ]);
    expect(evs(items)[0]).toMatchObject({ op: 'u', before: null, after: { id: 1, ts: null, body: UNCHANGED } });
  });

  it('REPLICA IDENTITY FULL: the old row fills unchanged TOAST values and is the before image', async () => {
    const full: PgRelation = { ...REL, replicaIdentity: 'full' };
    const items = await feed(decoder(), [
      begin(1, 0x10n),
      full,
      {
        tag: 'update',
        relationOid: 100,
        keyTuple: null,
        oldTuple: ['1', null, 'big'],
        newTuple: ['1', null, UNCHANGED_TOAST],
      },
      commit(0x10n, 0x20n),
    ]);
    expect(evs(items)[0]).toMatchObject({
      op: 'u',
      before: { id: 1, ts: null, body: 'big' },
      after: { id: 1, ts: null, body: 'big' },
    });
  });

  it('a primary-key change is a delete of the old key, then a create of the new one', async () => {
    const items = await feed(decoder(), [
      begin(1, 0x10n),
      REL,
      { tag: 'update', relationOid: 100, keyTuple: ['1', null, null], oldTuple: null, newTuple: ['2', null, 'x'] },
      commit(0x10n, 0x20n),
    ]);
    const [d, c] = evs(items);
    expect(d).toMatchObject({
      op: 'd',
      key: { id: 1 },
      before: { id: 1 },
      after: null,
      transaction: { totalOrder: 1 },
    });
    expect(c).toMatchObject({
      op: 'c',
      key: { id: 2 },
      before: null,
      after: { id: 2, ts: null, body: 'x' },
      transaction: { totalOrder: 2 },
    });
  });

  it('deletes carry the old key; truncates one event per captured table', async () => {
    const other: PgRelation = { ...REL, oid: 200, schema: 'other' };
    const items = await feed(decoder(), [
      begin(1, 0x10n),
      REL,
      other,
      { tag: 'delete', relationOid: 100, keyTuple: ['5', null, null], oldTuple: null },
      { tag: 'delete', relationOid: 200, keyTuple: ['5', null, null], oldTuple: null },
      { tag: 'truncate', cascade: false, restartIdentity: false, relationOids: [100, 200] },
      commit(0x10n, 0x20n),
    ]);
    expect(evs(items).map((e) => [e.op, e.table, e.key])).toEqual([
      ['d', 'docs', { id: 5 }],
      ['t', 'docs', null],
    ]);
  });

  it('skips transactions committed before the start position, but still learns their relations', async () => {
    const d = decoder(0x100n);
    const skipped = await feed(d, [
      begin(1, 0x80n),
      REL,
      { tag: 'insert', relationOid: 100, newTuple: ['1', null, 'x'] },
      commit(0x80n, 0x90n),
    ]);
    expect(skipped.map((i) => i.type)).toEqual(['schema']);
    const kept = await feed(d, [
      begin(2, 0x100n),
      { tag: 'insert', relationOid: 100, newTuple: ['2', null, 'y'] },
      commit(0x100n, 0x120n),
    ]);
    expect(kept.map((i) => i.type)).toEqual(['event', 'checkpoint']);
  });

  it('publishes a schema only when its shape changed', async () => {
    const known = new Map([['app.docs', schemaOf(REL).version]]);
    const d = new PgoutputDecoder({ startLsn: 0n, knownVersions: known, resolveRelation: async (r) => schemaOf(r) });
    expect(await feed(d, [begin(1, 1n), REL, commit(1n, 2n)])).toHaveLength(1);
    const added: PgRelation = {
      ...REL,
      columns: [...REL.columns, { isKey: false, name: 'n', typeOid: 23, typeMod: -1 }],
    };
    const items = await feed(d, [
      begin(2, 3n),
      added,
      { tag: 'insert', relationOid: 100, newTuple: ['1', null, 'x', '4'] },
      commit(3n, 4n),
    ]);
    expect(items.map((i) => i.type)).toEqual(['schema', 'event', 'checkpoint']);
    const schema = items[0]!.type === 'schema' ? items[0]!.schema : null;
    expect(evs(items)[0]).toMatchObject({
      schemaVersion: schema!.version,
      after: { id: 1, ts: null, body: 'x', n: 4 },
    });
    expect(known.get('app.docs')).toBe(schema!.version);
  });

  it('heartbeat transactions (a logical message only) still checkpoint', async () => {
    const items = await feed(decoder(), [
      begin(9, 0x500n),
      { tag: 'message', transactional: true, lsn: 0x500n, prefix: 'ferry_heartbeat', content: Buffer.from('x') },
      commit(0x500n, 0x540n),
    ]);
    expect(items).toEqual([{ type: 'checkpoint', position: { lsn: '0/540' }, commitTsMs: 1_700_000_000_123 }]);
  });

  it('fails clearly on changes of unknown relations, rows outside a transaction and bad values', async () => {
    await expect(feed(decoder(), [begin(1, 1n), { tag: 'insert', relationOid: 5, newTuple: [] }])).rejects.toThrow(
      /before its Relation message/,
    );
    await expect(feed(decoder(), [{ tag: 'insert', relationOid: 100, newTuple: [] }])).rejects.toThrow(
      /outside a transaction/,
    );
    await expect(
      feed(decoder(), [begin(1, 1n), REL, { tag: 'insert', relationOid: 100, newTuple: ['x', null, null] }]),
    ).rejects.toMatchObject({ code: 'FERRY_ENCODE' });
  });
});
