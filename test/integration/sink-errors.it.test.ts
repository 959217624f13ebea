/**
 * Systemic errors stop the sink with a clear FerryError instead of retrying or dead-lettering:
 * refused credentials (FERRY_AUTH) and a target column whose type cannot take the source's
 * (FERRY_SCHEMA). Nothing is applied past them.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataTopic } from '../../src/kafka/topics.js';
import { createLogger } from '../../src/log/index.js';
import { col, EventWriter, TableEvents, tableSchema } from '../helpers/events.js';
import { kafkaClient, uniqueName } from '../helpers/sandbox.js';
import { postgres, sandboxTarget, sinkProgress, startSink } from '../helpers/sink-harness.js';

const silent = createLogger({ level: 'silent' });

describe('sink: systemic errors', () => {
  const kafka = kafkaClient('sink-errors');
  let pgc: pg.Client;

  beforeAll(async () => {
    pgc = await postgres();
  });
  afterAll(async () => {
    await pgc?.end();
  });

  it('stops with FERRY_AUTH when the target refuses the credentials', async () => {
    const pipeline = uniqueName('auth');
    const target = { ...sandboxTarget('postgres'), password: 'wrong-password' };
    const sink = startSink({ pipeline, group: `${pipeline}-pg`, target, logger: silent });
    await expect(sink.done).rejects.toMatchObject({ code: 'FERRY_AUTH', retriable: false });
    await expect(sink.done).rejects.toThrow(/password authentication failed.*Check sink\.url/s);
  });

  it('stops with FERRY_SCHEMA when an existing target column cannot hold the source type', async () => {
    const pipeline = uniqueName('schema');
    const ns = `${pipeline}_src`;
    const group = `${pipeline}-pg`;
    const target = sandboxTarget('postgres');
    // The target table exists already, with a column too narrow for the source's.
    await pgc.query(`CREATE SCHEMA "${ns}"`);
    await pgc.query(`CREATE TABLE "${ns}".t (id integer PRIMARY KEY, v integer)`);
    const schema = tableSchema(
      ns,
      't',
      [col('id', 'int', 'int32'), col('v', 'varchar(10)', 'string', { length: 10 })],
      ['id'],
    );
    const writer = new EventWriter(kafka, pipeline, 1);
    await writer.schema(schema);
    const events = new TableEvents(schema, 'mysql');
    await writer.events([events.insert({ id: 1, v: 'text' })]);
    const sink = startSink({ pipeline, group, target, logger: silent });
    try {
      await expect(sink.done).rejects.toMatchObject({ code: 'FERRY_SCHEMA' });
      await expect(sink.done).rejects.toThrow(/column "v" .* is integer.*ALTER the target column/s);
      const progress = await sinkProgress(kafka, pipeline, group, target, [dataTopic(pipeline, ns, 't')]);
      expect(progress.partitions[0]?.nextOffset ?? null).toBeNull();
      const rows = await pgc.query(`SELECT count(*)::int AS n FROM "${ns}".t`);
      expect(rows.rows[0].n).toBe(0);
    } finally {
      await sink.stop();
      await writer.close();
    }
  });
});
