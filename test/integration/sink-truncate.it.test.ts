/**
 * Truncates published to every partition (as ferry sources do) are applied once, in their place:
 * older events of lagging partitions are skipped up to their own copy, newer ones kept. Small
 * batches make the partitions reach their copies in different transactions, and a restart in
 * the middle makes the barriers come back from the offsets table.
 */
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { dataTopic } from '../../src/kafka/topics.js';
import { compareTables, type DbConn } from '../helpers/compare.js';
import { col, EventWriter, SourceTable, tableSchema } from '../helpers/events.js';
import { kafkaClient, uniqueName } from '../helpers/sandbox.js';
import {
  sandboxTarget,
  sinkProgress,
  startSink,
  useSinkDatabases,
  waitFor,
  waitForCaughtUp,
} from '../helpers/sink-harness.js';

describe('sink: truncate across partitions', () => {
  const kafka = kafkaClient('sink-truncate');
  let my: mysql.Connection;
  let pgc: pg.Client;
  useSinkDatabases((dbs) => ({ my, pgc } = dbs));

  it('applies each truncate once and keeps the rows written after it', async () => {
    const pipeline = uniqueName('trunc');
    const srcDb = `${pipeline}_src`;
    const group = `${pipeline}-pg`;
    const target = sandboxTarget('postgres');
    await my.query(`CREATE DATABASE \`${srcDb}\``);
    await my.query(`CREATE TABLE \`${srcDb}\`.t (id INT NOT NULL PRIMARY KEY, v VARCHAR(20) NOT NULL)`);
    const schema = tableSchema(
      srcDb,
      't',
      [col('id', 'int', 'int32'), col('v', 'varchar(20)', 'string', { length: 20, nullable: false })],
      ['id'],
    );
    const db: DbConn = { engine: 'mysql', conn: my };
    const src = new SourceTable(db, schema);
    const writer = new EventWriter(kafka, pipeline, 4);
    await writer.schema(schema);
    const rows = (from: number, to: number, v: string) =>
      Array.from({ length: to - from + 1 }, (_, i) => ({ id: from + i, v }));
    await src.insertMany(rows(1, 200, 'first'));
    await src.update({ id: 5 }, { v: 'updated' });
    await src.truncate();
    await src.insertMany(rows(150, 300, 'second'));
    await src.update({ id: 160 }, { v: 'updated 2' });
    await src.delete({ id: 161 });
    await src.truncate();
    await src.insertMany(rows(290, 340, 'third'));
    await src.update({ id: 300 }, { v: 'updated 3' });
    await writer.events(src.take());
    const topic = dataTopic(pipeline, srcDb, 't');

    const first = startSink({ pipeline, group, target, batchSize: 7 });
    try {
      await waitFor(
        'some progress',
        async () => {
          const p = await sinkProgress(kafka, pipeline, group, target, [topic]);
          return p.partitions.some((x) => x.nextOffset !== null) && p.totalLag > 0 && p.totalLag < 300;
        },
        60_000,
        50,
      );
    } finally {
      await first.stop();
    }
    expect(first.failure).toBeNull();
    const second = startSink({ pipeline, group, target, batchSize: 7 });
    try {
      await waitForCaughtUp(kafka, pipeline, group, target, [topic], 60_000, [second]);
    } finally {
      await second.stop();
      await writer.close();
    }
    const diff = await compareTables({
      schema,
      source: db,
      sourceNamespace: srcDb,
      target: { engine: 'postgresql', conn: pgc },
      targetNamespace: srcDb,
    });
    expect(diff.missing).toEqual([]);
    expect(diff.extra).toEqual([]);
    expect(diff.different).toEqual([]);
    expect(diff.sourceRows).toBe(51);
    const barriers = await pgc.query(
      'SELECT count(*)::int AS n FROM public.ferry_offsets WHERE pipeline = $1 AND truncate_barrier IS NOT NULL',
      [pipeline],
    );
    expect(barriers.rows[0].n).toBe(0);
  });
});
