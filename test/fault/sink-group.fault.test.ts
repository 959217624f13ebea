/**
 * Two sink processes in one consumer group share the partitions; one is killed with SIGKILL;
 * the other takes its partitions over (seeking to the offsets stored in the target) and the
 * target ends equal to the source. PostgreSQL -> MariaDB.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
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

function assignments(logFile: string): number[] {
  const out: number[] = [];
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes('"partitions assigned"')) continue;
    try {
      out.push((JSON.parse(line) as { partitions: number }).partitions);
    } catch {
      // not a log line
    }
  }
  return out;
}

describe('sink: two processes in one group', () => {
  const kafka = kafkaClient('sink-group');
  let my: mysql.Connection;
  let pgc: pg.Client;

  beforeAll(() => ensureBuilt());
  useSinkDatabases((dbs) => ({ my, pgc } = dbs));

  it('one is killed, the other takes over; target == source', async () => {
    const pipeline = uniqueName('group');
    const srcNs = `${pipeline}_src`;
    const group = `${pipeline}-my`;
    const target = sandboxTarget('mysql', `${pipeline}_meta`);
    const logDir = join(projectRoot(), '.ferry', 'test-logs', pipeline);
    await pgc.query(`CREATE SCHEMA "${srcNs}"`);
    await pgc.query(
      `CREATE TABLE "${srcNs}".events (id bigint PRIMARY KEY, kind text NOT NULL, payload jsonb, at timestamptz NOT NULL)`,
    );
    const schema = tableSchema(
      srcNs,
      'events',
      [
        col('id', 'bigint', 'int64'),
        col('kind', 'text', 'string', { nullable: false }),
        col('payload', 'jsonb', 'json'),
        col('at', 'timestamp with time zone', 'timestamptz', { fsp: 6, nullable: false }),
      ],
      ['id'],
    );
    const db: DbConn = { engine: 'postgresql', conn: pgc };
    const src = new SourceTable(db, schema);
    const writer = new EventWriter(kafka, pipeline, 6);
    await writer.schema(schema);
    const topic = dataTopic(pipeline, srcNs, 'events');
    let nextId = 1;
    const chunk = async (n: number) => {
      const rows = Array.from({ length: n }, () => {
        const id = nextId++;
        return { id, kind: `k${id % 5}`, payload: `{"n": ${id}}`, at: '2024-05-01T10:00:00Z' };
      });
      await src.insertMany(rows);
      await src.update({ id: rows[0]!.id }, { kind: 'updated' });
      await src.delete({ id: rows[2]!.id });
      await writer.events(src.take());
    };
    // insertMany records the values given, so they are written in canonical form here.
    await chunk(2000);
    const opts = sinkMainOptions(pipeline, group, target, { batchSize: 1000, topics: [topic] });
    const a = spawnSink(opts, logDir, 'sink-a');
    const b = spawnSink(opts, logDir, 'sink-b');
    try {
      // Both members hold partitions.
      await waitFor(
        'both sinks to get partitions',
        async () => {
          const la = assignments(join(logDir, 'sink-a.log'));
          const lb = assignments(join(logDir, 'sink-b.log'));
          return (
            la.at(-1) !== undefined &&
            lb.at(-1) !== undefined &&
            la.at(-1)! + lb.at(-1)! === 6 &&
            la.at(-1)! > 0 &&
            lb.at(-1)! > 0
          );
        },
        60_000,
      );
      for (let i = 0; i < 4; i++) await chunk(1500);
      await waitFor(
        'some progress',
        async () => {
          const [rows] = await my.query(
            `SELECT count(*) AS n FROM \`${pipeline}_meta\`.ferry_offsets WHERE consumer_group = ?`,
            [group],
          );
          return Number((rows as Array<{ n: number }>)[0]?.n) === 6;
        },
        60_000,
      );
      await a.kill('SIGKILL');
      for (let i = 0; i < 4; i++) await chunk(1500);
      await waitForCaughtUp(kafka, pipeline, group, target, [topic], 90_000);
      expect(assignments(join(logDir, 'sink-b.log')).at(-1)).toBe(6);
    } finally {
      await a.kill('SIGKILL');
      await b.kill('SIGTERM');
      await writer.close();
    }
    expect(await b.exited).toBe(0);
    const diff = await compareTables({
      schema,
      source: db,
      sourceNamespace: srcNs,
      target: { engine: 'mysql', conn: my },
      targetNamespace: srcNs,
    });
    expect(diff.missing).toEqual([]);
    expect(diff.extra).toEqual([]);
    expect(diff.different).toEqual([]);
    expect(diff.sourceRows).toBe(2000 + 8 * 1500 - 9);
  });
});
