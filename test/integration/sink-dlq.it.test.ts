/**
 * Poison records go to `<pipeline>.dlq` with their reason and origin in headers; everything
 * else in the same batches is applied. Poison here: a value that is not JSON, an event of an
 * unknown schema version, text with U+0000 (PostgreSQL cannot store it) and a MySQL zero date
 * in a NOT NULL column (no PostgreSQL equivalent).
 */
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { dataTopic, dlqTopic } from '../../src/kafka/topics.js';
import { compareTables, type DbConn } from '../helpers/compare.js';
import { col, EventWriter, SourceTable, tableSchema } from '../helpers/events.js';
import { kafkaClient, uniqueName } from '../helpers/sandbox.js';
import {
  dlqCount,
  readWithHeaders,
  sandboxTarget,
  startSink,
  useSinkDatabases,
  waitForCaughtUp,
} from '../helpers/sink-harness.js';

describe('sink: dead-letter topic', () => {
  const kafka = kafkaClient('sink-dlq');
  let my: mysql.Connection;
  let pgc: pg.Client;
  useSinkDatabases((dbs) => ({ my, pgc } = dbs));

  it('routes poison records to the DLQ with headers and applies the rest', async () => {
    const pipeline = uniqueName('dlq');
    const srcDb = `${pipeline}_src`;
    const target = sandboxTarget('postgres');
    const group = `${pipeline}-pg`;
    await my.query(`CREATE DATABASE \`${srcDb}\``);
    await my.query(
      `CREATE TABLE \`${srcDb}\`.people (id INT NOT NULL PRIMARY KEY, name VARCHAR(20) NULL, born DATE NOT NULL)`,
    );
    const schema = tableSchema(
      srcDb,
      'people',
      [
        col('id', 'int', 'int32'),
        col('name', 'varchar(20)', 'string', { length: 20 }),
        col('born', 'date', 'date', { nullable: false }),
      ],
      ['id'],
    );
    const db: DbConn = { engine: 'mysql', conn: my };
    const src = new SourceTable(db, schema);
    // One partition: every record is in the same ordered stream, the poison ones in the middle.
    const writer = new EventWriter(kafka, pipeline, 1);
    await writer.schema(schema);
    const topic = dataTopic(pipeline, srcDb, 'people');
    await src.insert([1, 2, 3, 4].map((id) => ({ id, name: `p${id}`, born: '1990-01-0' + id })));
    await writer.events(src.take());
    await writer.raw(topic, '{"id":99}', 'this is {not json');
    await src.insert([{ id: 5, name: 'nul \u0000 inside', born: '2000-01-01' }]);
    await src.insert([{ id: 6, name: 'p6', born: '2000-01-06' }]);
    await src.insert([{ id: 7, name: 'zero', born: '0000-00-00' }]);
    await writer.events(src.take());
    const unknown = JSON.parse(
      (await writer.messages([src.tableEvents.insert({ id: 98, name: 'x', born: '2000-01-01' })]))[0]!.value as string,
    );
    unknown.source.schema_version = 'feedfacefeedface';
    await writer.raw(topic, '{"id":98}', JSON.stringify(unknown));
    await src.insert([8, 9, 10].map((id) => ({ id, name: `p${id}`, born: '2001-01-01' })));
    await src.update({ id: 2 }, { name: 'p2 updated' });
    await writer.events(src.take());

    const sink = startSink({ pipeline, group, target, batchSize: 100 });
    try {
      await waitForCaughtUp(kafka, pipeline, group, target, [topic], 60_000, [sink]);
      const letters = await readWithHeaders(kafka, dlqTopic(pipeline), 4);
      expect(letters).toHaveLength(4);
      const summary = letters.map((l) => ({
        code: l.headers['ferry.error_code'],
        topic: l.headers['ferry.topic'],
        partition: l.headers['ferry.partition'],
        key: l.key,
      }));
      expect(summary).toEqual(
        expect.arrayContaining([
          { code: 'FERRY_DECODE', topic, partition: '0', key: '{"id":99}' },
          { code: 'FERRY_SCHEMA', topic, partition: '0', key: '{"id":98}' },
          { code: 'FERRY_APPLY', topic, partition: '0', key: '{"id":5}' },
          { code: 'FERRY_APPLY', topic, partition: '0', key: '{"id":7}' },
        ]),
      );
      for (const l of letters) {
        expect(l.headers['ferry.reason']).toBeTruthy();
        expect(Number(l.headers['ferry.offset'])).toBeGreaterThanOrEqual(0);
      }
      const nul = letters.find((l) => l.key === '{"id":5}')!;
      expect(nul.headers['ferry.reason']).toMatch(/U\+0000/);
      expect(nul.headers['ferry.table']).toBe(`${srcDb}.people`);
      const zero = letters.find((l) => l.key === '{"id":7}')!;
      expect(zero.headers['ferry.reason']).toMatch(/zero date/);
      // The poison record's value is copied unchanged.
      expect(letters.find((l) => l.key === '{"id":99}')!.value).toBe('this is {not json');

      const diff = await compareTables({
        schema,
        source: db,
        sourceNamespace: srcDb,
        target: { engine: 'postgresql', conn: pgc },
        targetNamespace: srcDb,
      });
      expect(diff.different).toEqual([]);
      expect(diff.extra).toEqual([]);
      expect(diff.missing.sort()).toEqual(['[5]', '[7]']);
      expect(diff.targetRows).toBe(8);
      expect(await dlqCount(sink)).toBe(4);
    } finally {
      await sink.stop();
      await writer.close();
    }
  });
});
