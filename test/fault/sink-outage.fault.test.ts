/**
 * The target PostgreSQL is stopped for about 20 seconds while events keep arriving, then started
 * again: the sink retries with backoff, loses nothing and ends with target == source.
 */
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataTopic } from '../../src/kafka/topics.js';
import { startServer, stopServer } from '../../src/sandbox/index.js';
import { compareTables, type DbConn } from '../helpers/compare.js';
import { col, EventWriter, SourceTable, tableSchema } from '../helpers/events.js';
import { kafkaClient, sandboxDir, uniqueName } from '../helpers/sandbox.js';
import { mariadb, postgres, sandboxTarget, startSink, waitFor, waitForCaughtUp } from '../helpers/sink-harness.js';

describe('sink: target outage', () => {
  const kafka = kafkaClient('sink-outage');
  let my: mysql.Connection;

  beforeAll(async () => {
    my = await mariadb();
  });
  afterAll(async () => {
    await my?.end();
  });

  it('PostgreSQL down for 20 s mid-stream: nothing lost', async () => {
    const pipeline = uniqueName('outage');
    const srcDb = `${pipeline}_src`;
    const group = `${pipeline}-pg`;
    const target = sandboxTarget('postgres');
    await my.query(`CREATE DATABASE \`${srcDb}\``);
    await my.query(
      `CREATE TABLE \`${srcDb}\`.orders (id INT NOT NULL PRIMARY KEY, qty INT NOT NULL, note VARCHAR(40) NULL)`,
    );
    const schema = tableSchema(
      srcDb,
      'orders',
      [
        col('id', 'int', 'int32'),
        col('qty', 'int', 'int32', { nullable: false }),
        col('note', 'varchar(40)', 'string', { length: 40 }),
      ],
      ['id'],
    );
    const db: DbConn = { engine: 'mysql', conn: my };
    const src = new SourceTable(db, schema);
    const writer = new EventWriter(kafka, pipeline, 3);
    await writer.schema(schema);
    const topic = dataTopic(pipeline, srcDb, 'orders');
    let nextId = 1;
    const chunk = async (n: number) => {
      const rows = Array.from({ length: n }, () => {
        const id = nextId++;
        return { id, qty: id % 7, note: `order ${id}` };
      });
      await src.insertMany(rows);
      await src.update({ id: rows[0]!.id }, { qty: 999, note: 'updated' });
      await src.delete({ id: rows[1]!.id });
      await writer.events(src.take());
    };
    await chunk(2000);
    const sink = startSink({ pipeline, group, target, batchSize: 500, retryMaxMs: 3000 });
    const dir = sandboxDir();
    try {
      await waitForCaughtUp(kafka, pipeline, group, target, [topic], 60_000, [sink]);
      await chunk(500);
      await stopServer('postgres', { dir });
      const downAt = Date.now();
      try {
        // Events keep arriving while the target is down.
        while (Date.now() - downAt < 20_000) {
          await chunk(300);
          await new Promise((r) => setTimeout(r, 2000));
        }
      } finally {
        await startServer('postgres', { dir });
      }
      expect(sink.failure).toBeNull();
      await waitForCaughtUp(kafka, pipeline, group, target, [topic], 90_000, [sink]);
      const errors = await sink.metrics.errors.get();
      expect(errors.values.some((v) => v.labels['code'] === 'FERRY_CONNECTION' && v.value > 0)).toBe(true);
      const pgc = await waitFor('PostgreSQL to accept connections', () => postgres(), 30_000);
      try {
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
        expect(diff.sourceRows).toBeGreaterThan(4000);
      } finally {
        await pgc.end();
      }
    } finally {
      await sink.stop();
      await writer.close();
    }
  });
});
