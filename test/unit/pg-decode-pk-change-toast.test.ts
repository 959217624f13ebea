/**
 * Regression: a primary-key change of a row whose TOASTed column did not change lost that
 * column's value. pgoutput sends the column as "unchanged" (the WAL does not hold it without
 * REPLICA IDENTITY FULL); the source published d(old key) + c(new key) with the column UNCHANGED,
 * and the sink, having no earlier row of the new key to keep it from, inserted the row without it
 * (found by test/integration/e2e-postgres.it.test.ts: `UPDATE docs SET id = 20 WHERE id = 2` left
 * the 200 kB body NULL on both targets, a silent loss; docs/postgres-source.md only listed the
 * UNCHANGED marker as a limit). The create of the new key now reads the column from the table.
 */
import { describe, expect, it } from 'vitest';
import { PgoutputDecoder, type RowFetcher } from '../../connectors/postgres-source/decode.js';
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
    { isKey: false, name: 'n', typeOid: 23, typeMod: -1 },
    { isKey: false, name: 'body', typeOid: 25, typeMod: -1 },
  ],
};

const SCHEMA: TableSchema = withVersion({
  db: 'app',
  table: 'docs',
  primaryKey: ['id'],
  columns: [
    { name: 'id', kind: 'int32', sourceType: 'integer', nullable: false },
    { name: 'n', kind: 'int32', sourceType: 'integer', nullable: true },
    { name: 'body', kind: 'string', sourceType: 'text', nullable: true },
  ],
});

const keyChange = (rel: PgRelation, oldTuple: (string | null)[] | null) =>
  [
    { tag: 'begin', xid: 1, finalLsn: 0x10n, commitTimeMs: 1 },
    rel,
    {
      tag: 'update',
      relationOid: 100,
      keyTuple: oldTuple ? null : ['2', null, null],
      oldTuple,
      newTuple: ['20', '1', UNCHANGED_TOAST],
    },
    { tag: 'commit', flags: 0, commitLsn: 0x10n, endLsn: 0x20n, commitTimeMs: 1 },
  ] as PgMessage[];

async function decode(msgs: PgMessage[], fetchRow?: RowFetcher): Promise<SourceItem[]> {
  const d = new PgoutputDecoder({
    startLsn: 0n,
    resolveRelation: async () => SCHEMA,
    ...(fetchRow ? { fetchRow } : {}),
  });
  const out: SourceItem[] = [];
  for (const m of msgs) out.push(...(await d.decode(m, 0x11n)));
  return out;
}

const evs = (items: SourceItem[]) => items.flatMap((i) => (i.type === 'event' ? [i.event] : []));

describe('PostgreSQL source: a primary-key change of a row with an unchanged TOASTed column', () => {
  it('creates the new key with the column read from the table, never UNCHANGED', async () => {
    const calls: unknown[] = [];
    const items = await decode(keyChange(REL, null), async (table, key, columns) => {
      calls.push([`${table.db}.${table.table}`, key, columns]);
      return ['the big body'];
    });
    expect(calls).toEqual([['app.docs', [{ column: 'id', text: '20' }], ['body']]]);
    const [d, c] = evs(items);
    expect(d).toMatchObject({ op: 'd', key: { id: 2 } });
    expect(c).toMatchObject({ op: 'c', key: { id: 20 }, after: { id: 20, n: 1, body: 'the big body' } });
    expect(Object.values(c!.after!)).not.toContain(UNCHANGED);
  });

  it('leaves the create out when the row is gone by now (a later change in the log deletes the key)', async () => {
    const items = await decode(keyChange(REL, null), async () => null);
    expect(evs(items).map((e) => [e.op, e.key])).toEqual([['d', { id: 2 }]]);
  });

  it('without a way to read the table, stops with a decode error instead of losing the value', async () => {
    await expect(decode(keyChange(REL, null))).rejects.toMatchObject({
      code: 'FERRY_DECODE',
      message: expect.stringMatching(/TOASTed column\(s\) body .*REPLICA IDENTITY FULL/),
    });
  });

  it('REPLICA IDENTITY FULL: the old row holds the value; nothing is read', async () => {
    const items = await decode(keyChange({ ...REL, replicaIdentity: 'full' }, ['2', '0', 'old body']), async () => {
      throw new Error('must not be called');
    });
    expect(evs(items)[1]).toMatchObject({ op: 'c', after: { id: 20, n: 1, body: 'old body' } });
  });
});
