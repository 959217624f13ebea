/**
 * The PostgreSQL source connector driven directly (no runtime, no Kafka) against the sandbox's
 * PostgreSQL: preflight, exported snapshot, streaming, key changes, truncate, restart skipping,
 * and the rule that confirmed_flush_lsn only moves when the connector is told to acknowledge.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createPostgresSource } from '../../connectors/postgres-source/index.js';
import { formatLsn, parseLsn } from '../../connectors/postgres-source/lsn.js';
import { captureAll, type SourceItem, UNCHANGED } from '../../src/api/index.js';
import {
  collectUntil,
  confirmedFlush,
  ctxFor,
  events,
  filterFor,
  freshSchema,
  sourceOptions,
} from './pg-source.helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(prefix: string) {
  const s = await freshSchema(prefix);
  cleanups.push(s.cleanup);
  return s;
}

const checkpoints = (items: SourceItem[]) => items.filter((i) => i.type === 'checkpoint');

describe('postgres source connector (direct)', () => {
  it('preflight names the fix for a table without key, and creates the publication once it passes', async () => {
    const { schema, pipeline, db } = await setup('pgc_pre');
    await db.query(`CREATE TABLE "${schema}".nokey (a int, b text)`);
    await db.query(`CREATE TABLE "${schema}".ok (id int PRIMARY KEY)`);
    const source = createPostgresSource(sourceOptions());
    const ctx = ctxFor(pipeline, filterFor(schema));
    let checks = await source.preflight(ctx, null);
    const bad = checks.filter((c) => !c.ok);
    expect(bad.map((c) => c.name)).toEqual([`key of ${schema}.nokey`]);
    expect(bad[0]?.fix).toContain('REPLICA IDENTITY FULL');
    expect(checks.find((c) => c.name === 'publication')).toBeUndefined();

    await db.query(`ALTER TABLE "${schema}".nokey REPLICA IDENTITY FULL`);
    // FULL identity alone is no key a snapshot can follow: refused with the fix, never read short.
    checks = await source.preflight(ctx, null);
    expect(checks.filter((c) => !c.ok).map((c) => c.detail)).toEqual([
      `${schema}.nokey has REPLICA IDENTITY FULL but no primary key and no unique index on NOT NULL columns: snapshot chunks could not follow a key, and equal rows could not be told apart`,
    ]);
    // Nullable key columns named in the config: refused, naming the column.
    const keyed = ctxFor(pipeline, { ...filterFor(schema), keyColumns: { [`${schema}.nokey`]: ['a'] } });
    checks = await source.preflight(keyed, null);
    expect(checks.filter((c) => !c.ok).map((c) => c.detail)).toEqual([
      `${schema}.nokey: source.keyColumns["${schema}.nokey"] names nullable column(s) a`,
    ]);
    await db.query(`ALTER TABLE "${schema}".nokey ALTER COLUMN a SET NOT NULL`);
    await db.query(`CREATE UNIQUE INDEX ON "${schema}".nokey (a)`);
    checks = await source.preflight(ctx, null);
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(checks.find((c) => c.name === 'publication')?.detail).toContain('created');
    const pub = await db.query(
      'SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1 ORDER BY 2',
      [source.names(pipeline).publication],
    );
    expect(pub.rows.map((r) => r.tablename)).toEqual(['nokey', 'ok']);

    // A stored position without its slot: data would be lost.
    checks = await source.preflight(ctx, { phase: 'stream', position: { lsn: '0/1000' }, writtenAt: Date.now() });
    const slot = checks.find((c) => c.name === 'replication slot');
    expect(slot?.ok).toBe(false);
    expect(slot?.fix).toContain('--resnapshot');

    // createPublication: false only checks.
    await db.query(`CREATE TABLE "${schema}".later (id int PRIMARY KEY)`);
    const checking = createPostgresSource(sourceOptions({ createPublication: false }));
    checks = await checking.preflight(ctx, null);
    const publication = checks.find((c) => c.name === 'publication');
    expect(publication?.ok).toBe(false);
    expect(publication?.detail).toContain(`does not publish ${schema}.later`);
    expect(publication?.fix).toContain('ALTER PUBLICATION');
  });

  it('snapshot from an exported slot snapshot, then exactly the changes after it', async () => {
    const { schema, pipeline, db } = await setup('pgc_snap');
    await db.query(`CREATE TABLE "${schema}".t (id int PRIMARY KEY, v text, ts timestamptz(6))`);
    await db.query(
      `INSERT INTO "${schema}".t SELECT g, 'v' || g, '2024-01-02 03:04:05.123456+02' FROM generate_series(1, 25) g`,
    );
    const source = createPostgresSource(sourceOptions());
    const ctx = ctxFor(pipeline, filterFor(schema));
    expect((await source.preflight(ctx, null)).filter((c) => !c.ok)).toEqual([]);
    const session = await source.openSnapshot(ctx);
    // Written after the snapshot: must come through the stream, not the snapshot.
    await db.query(`INSERT INTO "${schema}".t VALUES (26, 'late', NULL)`);
    const table = session.tables[0]!;
    expect(table.primaryKey).toEqual(['id']);
    const rows = [];
    let after = null;
    for (;;) {
      const chunk = await session.readChunk(table, after, 10);
      rows.push(...chunk);
      if (chunk.length < 10) break;
      after = [chunk.at(-1)!['id']!];
    }
    await session.close();
    expect(rows).toHaveLength(25);
    expect(rows[0]).toEqual({ id: 1, v: 'v1', ts: '2024-01-02T01:04:05.123456Z' });
    expect(rows.map((r) => r['id'])).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));

    const it = source.stream(ctx, session.position)[Symbol.asyncIterator]();
    await db.query(`UPDATE "${schema}".t SET id = 100 WHERE id = 1`);
    await db.query(`DELETE FROM "${schema}".t WHERE id = 2`);
    await db.query(`TRUNCATE "${schema}".t`);
    const items = await collectUntil(it, (xs) => checkpoints(xs).length >= 4);
    await it.return?.();
    const evs = events(items);
    expect(evs.map((e) => e.op)).toEqual(['c', 'd', 'c', 'd', 't']);
    expect(evs[0]?.after).toEqual({ id: 26, v: 'late', ts: null });
    expect(evs[1]).toMatchObject({ op: 'd', key: { id: 1 }, before: { id: 1 }, after: null });
    expect(evs[2]).toMatchObject({
      op: 'c',
      key: { id: 100 },
      after: { id: 100, v: 'v1', ts: '2024-01-02T01:04:05.123456Z' },
    });
    expect(evs[4]).toMatchObject({ op: 't', key: null, table: 't', db: schema });
    expect(evs[0]?.source).toMatchObject({ connector: 'postgresql', schema });
    expect(typeof evs[0]?.source['txId']).toBe('number');
    expect(evs[1]?.transaction).toMatchObject({ totalOrder: 1 });
    expect(evs[2]?.transaction).toMatchObject({ totalOrder: 2, dataCollectionOrder: 2 });
    await source.close();
  });

  it('acknowledges only what it is told, and skips transactions up to the position it resumes from', async () => {
    const { schema, pipeline, db } = await setup('pgc_ack');
    await db.query(`CREATE TABLE "${schema}".t (id int PRIMARY KEY, big text)`);
    const source = createPostgresSource(sourceOptions({ statusIntervalMs: 200 }));
    const ctx = ctxFor(pipeline, filterFor(schema));
    await source.preflight(ctx, null);
    const session = await source.openSnapshot(ctx);
    await session.close();
    const slot = source.names(pipeline).slot;
    const start = parseLsn(session.position['lsn'] as string);
    expect(await confirmedFlush(db, slot)).toBe(start);

    const it = source.stream(ctx, session.position)[Symbol.asyncIterator]();
    for (let i = 1; i <= 3; i++) await db.query(`INSERT INTO "${schema}".t VALUES ($1, repeat('x', 10))`, [i]);
    const items = await collectUntil(it, (xs) => checkpoints(xs).length >= 3);
    const cps = checkpoints(items).map((c) => (c.type === 'checkpoint' ? (c.position['lsn'] as string) : ''));
    // Keepalives and status updates flow, but nothing was acknowledged yet.
    await new Promise((r) => setTimeout(r, 700));
    expect(await confirmedFlush(db, slot)).toBe(start);
    await source.acknowledge({ lsn: cps[0]! });
    await new Promise((r) => setTimeout(r, 700));
    expect(formatLsn((await confirmedFlush(db, slot))!)).toBe(cps[0]);
    await it.return?.();

    // Resume from the first checkpoint: transaction 1 is not sent again, 2 and 3 are.
    const again = source.stream(ctx, { lsn: cps[0]! })[Symbol.asyncIterator]();
    const replay = await collectUntil(again, (xs) => checkpoints(xs).length >= 2);
    await again.return?.();
    expect(events(replay).map((e) => e.after?.['id'])).toEqual([2, 3]);
    await source.close();
  });

  it('marks an unchanged TOASTed column UNCHANGED, and follows ALTER TABLE with a new schema', async () => {
    const { schema, pipeline, db } = await setup('pgc_toast');
    await db.query(`CREATE TABLE "${schema}".t (id int PRIMARY KEY, n int, big text)`);
    const source = createPostgresSource(sourceOptions());
    const ctx = ctxFor(pipeline, filterFor(schema));
    await source.preflight(ctx, null);
    const [before] = await source.discover(ctx);
    const session = await source.openSnapshot(ctx);
    await session.close();
    const it = source.stream(ctx, session.position)[Symbol.asyncIterator]();
    // Random text does not compress below the TOAST threshold.
    await db.query(
      `INSERT INTO "${schema}".t SELECT 1, 0, string_agg(md5(g::text), '') FROM generate_series(1, 32768) g`,
    );
    await db.query(`UPDATE "${schema}".t SET n = 1 WHERE id = 1`);
    await db.query(`ALTER TABLE "${schema}".t ADD COLUMN extra numeric(5,2) DEFAULT 1.5`);
    await db.query(`UPDATE "${schema}".t SET n = 2 WHERE id = 1`);
    const items = await collectUntil(it, (xs) => checkpoints(xs).length >= 3);
    await it.return?.();
    const evs = events(items);
    expect(String(evs[0]?.after?.['big']).length).toBe(1024 * 1024);
    expect(evs[1]?.after).toEqual({ id: 1, n: 1, big: UNCHANGED });
    const schemaItems = items.filter((i) => i.type === 'schema');
    expect(schemaItems).toHaveLength(1);
    const next = schemaItems[0]!.type === 'schema' ? schemaItems[0]!.schema : null;
    expect(next?.columns.map((c) => c.name)).toEqual(['id', 'n', 'big', 'extra']);
    expect(next?.columns[3]).toMatchObject({ kind: 'decimal', precision: 5, scale: 2 });
    expect(next?.version).not.toBe(before?.version);
    expect(evs[2]).toMatchObject({
      op: 'u',
      schemaVersion: next?.version,
      after: { id: 1, n: 2, big: UNCHANGED, extra: '1.50' },
    });
    // Schema item comes before the row that uses it.
    expect(items.findIndex((i) => i.type === 'schema')).toBeLessThan(
      items.findIndex((i) => i === items.find((x) => x.type === 'event' && x.event.after?.['n'] === 2)),
    );
    await source.close();
  });

  it('a table renamed while the source is stopped: a rename by its oid, and a chunk of the old name ends empty', async () => {
    const { schema, pipeline, db } = await setup('pgc_rnstop');
    await db.query(`CREATE TABLE "${schema}".t (id int PRIMARY KEY, v text)`);
    await db.query(`INSERT INTO "${schema}".t VALUES (1, 'a')`);
    const first = createPostgresSource(sourceOptions());
    const ctx = ctxFor(pipeline, filterFor(schema));
    await first.preflight(ctx, null);
    const [published] = await first.discover(ctx);
    const session = await first.openSnapshot(ctx);
    await session.close();
    await first.close();
    // Stopped: renamed, then written.
    await db.query(`ALTER TABLE "${schema}".t RENAME TO t2`);
    await db.query(`INSERT INTO "${schema}".t2 VALUES (2, 'b')`);

    const source = createPostgresSource(sourceOptions());
    const again = { ...ctx, schemaHistory: [published!] };
    const [found] = await source.discover(again);
    expect(found).toMatchObject({ table: 't2', renamedFrom: { db: schema, table: 't' } });
    expect(found!.version).not.toBe(published!.version);
    const reader = await source.openChunkReader(again);
    // A pending snapshot job of the old name: no endless retry, its chunk is empty and placed.
    expect((await reader.readChunk({ id: 'gone-1', table: published!, afterKey: null, limit: 10 })).rows).toEqual([]);
    expect(await reader.maxKey!(published!)).toBeNull();
    await reader.close();
    const it = source.stream(again, session.position)[Symbol.asyncIterator]();
    const items = await collectUntil(
      it,
      (xs) => xs.some((x) => x.type === 'watermark' && x.id === 'gone-1') && events(xs).length >= 1,
    );
    await it.return?.();
    const ev = events(items);
    expect(ev.map((e) => [e.table, e.after?.['id']])).toEqual([['t2', 2]]);
    // The stream's Relation gives the renamed version that discover announced (no other schema).
    expect(ev[0]?.schemaVersion).toBe(found!.version);
    expect(items.filter((i) => i.type === 'schema')).toEqual([]);
    await source.close();
  });

  it('creates its slot when streaming without a snapshot, and reports a lost slot', async () => {
    const { schema, pipeline, db } = await setup('pgc_lost');
    await db.query(`CREATE TABLE "${schema}".t (id int PRIMARY KEY)`);
    const source = createPostgresSource(sourceOptions());
    const ctx = ctxFor(pipeline, { ...captureAll(), include: [`${schema}.*`] });
    await source.preflight(ctx, null);
    const it = source.stream(ctx, { lsn: '0/1000' })[Symbol.asyncIterator]();
    await expect(it.next()).rejects.toMatchObject({ code: 'FERRY_POSITION_LOST' });
  });
});
