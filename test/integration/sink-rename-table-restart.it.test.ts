/**
 * Table renames survive a sink restart (docs/schema-changes.md): a sink that applied a RENAME
 * TABLE and then restarted still applies an event of the old table (one it had not applied yet,
 * e.g. from a lagging partition) to the renamed table, from the schema history alone; and a table
 * created later under the old name is told apart (by the versions published before the rename)
 * and gets a target table of its own.
 */
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { dataTopic } from '../../src/kafka/topics.js';
import { col, EventWriter, TableEvents, tableSchema } from '../helpers/events.js';
import { kafkaClient, uniqueName } from '../helpers/sandbox.js';
import { sandboxTarget, startSink, useSinkDatabases, waitForCaughtUp } from '../helpers/sink-harness.js';

describe('sink: RENAME TABLE across a sink restart', () => {
  const kafka = kafkaClient('sink-rename-restart');
  let pgc: pg.Client;
  useSinkDatabases((dbs) => ({ pgc } = dbs));

  it('applies a late event of the old table to the renamed table, and keeps a new table of the old name apart', async () => {
    const pipeline = uniqueName('rnrs');
    const ns = `${pipeline}_src`;
    const group = `${pipeline}-pg`;
    const target = sandboxTarget('postgres');
    const columns = [col('id', 'int', 'int32'), col('v', 'varchar(20)', 'string', { length: 20 })];
    const v1 = tableSchema(ns, 'a', columns, ['id']);
    const v2 = { ...tableSchema(ns, 'b', columns, ['id']), renamedFrom: { db: ns, table: 'a' } };
    const a = new TableEvents(v1, 'postgresql');
    const b = new TableEvents(v2, 'postgresql');
    const writer = new EventWriter(kafka, pipeline, 2);
    const topics = [dataTopic(pipeline, ns, 'a'), dataTopic(pipeline, ns, 'b')];
    const run = async () => {
      const sink = startSink({ pipeline, group, target, batchSize: 10 });
      try {
        await waitForCaughtUp(kafka, pipeline, group, target, topics, 60_000, [sink]);
      } finally {
        await sink.stop();
      }
      expect(sink.failure).toBeNull();
    };
    try {
      await writer.schema(v1);
      await writer.events([1, 2, 3].map((id) => a.insert({ id, v: `a${id}` })));
      await writer.schema(v2);
      await writer.events([b.insert({ id: 4, v: 'b4' })]);
      await run();
      const tables = async () =>
        (
          await pgc.query('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', [ns])
        ).rows.map((r) => r.table_name as string);
      expect(await tables()).toEqual(['b']);

      // An event of the old table that the sink had not applied, read by a restarted sink first.
      await writer.events([a.update({ id: 2, v: 'a2' }, { id: 2, v: 'late' })]);
      await run();
      expect(await tables()).toEqual(['b']);
      const rows = await pgc.query(`SELECT id, v FROM "${ns}".b ORDER BY id`);
      expect(rows.rows).toEqual([
        { id: 1, v: 'a1' },
        { id: 2, v: 'late' },
        { id: 3, v: 'a3' },
        { id: 4, v: 'b4' },
      ]);

      // A new table created under the old name (another shape): its own target table.
      const v3 = tableSchema(ns, 'a', [...columns, col('w', 'int', 'int32')], ['id']);
      const a3 = new TableEvents(v3, 'postgresql');
      await writer.schema(v3);
      await writer.events([a3.insert({ id: 1, v: 'new', w: 5 })]);
      await run();
      expect(await tables()).toEqual(['a', 'b']);
      expect((await pgc.query(`SELECT id, v, w FROM "${ns}".a`)).rows).toEqual([{ id: 1, v: 'new', w: 5 }]);
      expect((await pgc.query(`SELECT v FROM "${ns}".b WHERE id = 1`)).rows).toEqual([{ v: 'a1' }]);
    } finally {
      await writer.close();
      await pgc.query(`DROP SCHEMA IF EXISTS "${ns}" CASCADE`).catch(() => undefined);
    }
  }, 180_000);
});
