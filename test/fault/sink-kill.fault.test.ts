/**
 * The sink process is killed with SIGKILL while it applies a large backlog, several times.
 * After each kill the offsets stored in the target match the applied rows exactly (never ahead,
 * never behind: rows and offsets commit in one transaction); at the end target == source and
 * there are no duplicates.
 */
import { join } from 'node:path';
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { readTopicToEnd } from '../../src/kafka/read-topic.js';
import { dataTopic } from '../../src/kafka/topics.js';
import { projectRoot } from '../../src/sandbox/index.js';
import { compareTables, type DbConn } from '../helpers/compare.js';
import { col, EventWriter, SourceTable, tableSchema } from '../helpers/events.js';
import { kafkaClient, uniqueName } from '../helpers/sandbox.js';
import {
  ensureBuilt,
  sandboxTarget,
  sinkMainOptions,
  spawnSink,
  useSinkDatabases,
  waitFor,
  waitForCaughtUp,
} from '../helpers/sink-harness.js';

const ROWS = 30_000;

describe('sink: SIGKILL during large batches', () => {
  const kafka = kafkaClient('sink-kill');
  let my: mysql.Connection;
  let pgc: pg.Client;

  beforeAll(() => ensureBuilt());
  useSinkDatabases((dbs) => ({ my, pgc } = dbs));

  it('keeps offsets and rows in step across kills; target == source at the end', async () => {
    const pipeline = uniqueName('kill');
    const srcDb = `${pipeline}_src`;
    const group = `${pipeline}-pg`;
    const target = sandboxTarget('postgres');
    const logDir = join(projectRoot(), '.ferry', 'test-logs', pipeline);
    await my.query(`CREATE DATABASE \`${srcDb}\``);
    await my.query(
      `CREATE TABLE \`${srcDb}\`.big (id INT NOT NULL PRIMARY KEY, v INT NOT NULL, s VARCHAR(64) NOT NULL)`,
    );
    const schema = tableSchema(
      srcDb,
      'big',
      [
        col('id', 'int', 'int32'),
        col('v', 'int', 'int32', { nullable: false }),
        col('s', 'varchar(64)', 'string', { length: 64, nullable: false }),
      ],
      ['id'],
    );
    const db: DbConn = { engine: 'mysql', conn: my };
    const src = new SourceTable(db, schema);
    const writer = new EventWriter(kafka, pipeline, 4);
    await writer.schema(schema);
    await src.insertMany(
      Array.from({ length: ROWS }, (_, i) => ({ id: i + 1, v: i, s: `row ${i + 1} ${'x'.repeat(i % 40)}` })),
    );
    await writer.events(src.take());
    const topic = dataTopic(pipeline, srcDb, 'big');
    // Where each row's event sits: partition and offset.
    const records = await readTopicToEnd(kafka, topic);
    expect(records).toHaveLength(ROWS);
    const idAt = (r: { key: string | null }) => (JSON.parse(r.key!) as { id: number }).id;

    const table = `"${srcDb}".big`;
    const storedOffsets = async (): Promise<Map<number, bigint>> => {
      const res = await pgc.query(
        'SELECT "partition", next_offset::text AS n FROM public.ferry_offsets WHERE pipeline = $1 AND consumer_group = $2',
        [pipeline, group],
      );
      return new Map(res.rows.map((r: { partition: number; n: string }) => [r.partition, BigInt(r.n)]));
    };
    const applied = async (): Promise<bigint> => {
      let n = 0n;
      for (const v of (await storedOffsets()).values()) n += v;
      return n;
    };

    const opts = sinkMainOptions(pipeline, group, target, { batchSize: 3000, topics: [topic] });
    let kills = 0;
    for (const share of [0.15, 0.4, 0.65]) {
      const proc = spawnSink(opts, logDir, `sink-${kills}`);
      const threshold = BigInt(Math.floor(ROWS * share));
      await waitFor(
        `the sink to apply ${threshold} events`,
        async () => (await applied()) >= threshold || proc.child.exitCode !== null,
        60_000,
        20,
      );
      expect(proc.child.exitCode).toBeNull();
      // Kill while the sink has a batch transaction open in the target.
      await waitFor(
        'the sink to be inside a batch transaction',
        async () => {
          const res = await pgc.query(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'ferry-sink' AND xact_start IS NOT NULL AND state <> 'idle'",
          );
          return res.rows[0].n > 0;
        },
        20_000,
        5,
      );
      await proc.kill('SIGKILL');
      kills++;
      // The offsets stored in the target describe exactly the rows in the target.
      const stored = await storedOffsets();
      const expected = new Set<number>();
      for (const r of records) {
        const next = stored.get(r.partition);
        if (next !== undefined && BigInt(r.offset) < next) expected.add(idAt(r));
      }
      const ids = await pgc.query(`SELECT id FROM ${table}`);
      const actual = new Set(ids.rows.map((r: { id: number }) => Number(r.id)));
      expect(actual.size, `after kill ${kills}`).toBe(expected.size);
      expect(
        [...expected].filter((id) => !actual.has(id)),
        `rows missing below stored offsets after kill ${kills}`,
      ).toEqual([]);
      expect(actual.size).toBeLessThan(ROWS);
    }
    expect(kills).toBe(3);

    // More changes while no sink runs, then one last sink that runs to the end.
    await my.query(`UPDATE \`${srcDb}\`.big SET v = v + 1000000 WHERE id % 10 = 0`);
    await my.query(`DELETE FROM \`${srcDb}\`.big WHERE id % 13 = 0`);
    const events = [];
    for (let id = 10; id <= ROWS; id += 10) {
      const before = { id, v: id - 1, s: `row ${id} ${'x'.repeat((id - 1) % 40)}` };
      events.push(src.tableEvents.update(before, { ...before, v: id - 1 + 1_000_000 }));
    }
    for (let id = 13; id <= ROWS; id += 13) {
      events.push(
        src.tableEvents.delete({
          id,
          v: id - 1 + (id % 10 === 0 ? 1_000_000 : 0),
          s: `row ${id} ${'x'.repeat((id - 1) % 40)}`,
        }),
      );
    }
    await writer.events(events);
    const last = spawnSink(opts, logDir, 'sink-last');
    try {
      await waitForCaughtUp(kafka, pipeline, group, target, [topic], 90_000);
    } finally {
      await last.kill('SIGTERM');
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
    const counts = await pgc.query(`SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM ${table}`);
    expect(counts.rows[0]).toEqual({ n: diff.sourceRows, d: diff.sourceRows });
    expect(await last.exited).toBe(0);
  });
});
