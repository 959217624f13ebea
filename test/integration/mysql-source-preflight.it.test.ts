import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FerryError } from '../../src/api/index.js';
import { readTopicToEnd } from '../../src/kafka/read-topic.js';
import { listTopics, sandboxKafka, storedOffset, waitForRecords } from '../helpers/kafka.js';
import { mysqlRoot, uniqueName } from '../helpers/sandbox.js';
import { filterFor, freshDatabase, startSource, until } from './mysql-source.helpers.js';

async function failure(done: Promise<void>): Promise<FerryError> {
  const err = await done.then(
    () => new Error('the source did not fail'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FerryError);
  return err as FerryError;
}

describe('MySQL source preflight: stops with a clear error and publishes nothing', () => {
  let kafka: Kafka;
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(() => {
    kafka = sandboxKafka();
  });

  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('binlog_format=STATEMENT', async () => {
    const db = uniqueName('ferry_pf_fmt');
    const { conn, sql } = await freshDatabase(db);
    cleanups.push(() => conn.end());
    await sql('CREATE TABLE t (id INT PRIMARY KEY)');
    const pipeline = uniqueName('p');
    await sql("SET GLOBAL binlog_format = 'STATEMENT'");
    try {
      const err = await failure(startSource(kafka, pipeline, filterFor(db)).done);
      expect(err.code).toBe('FERRY_PREFLIGHT');
      expect(err.message).toContain('binlog_format is STATEMENT');
      expect(err.message).toContain("SET GLOBAL binlog_format = 'ROW'");
      expect(err.message).toContain('nothing was published');
    } finally {
      await sql("SET GLOBAL binlog_format = 'ROW'");
    }
    expect(await listTopics(kafka, `${pipeline}.`)).toEqual([]);
  });

  it('a captured table without a primary key', async () => {
    const db = uniqueName('ferry_pf_pk');
    const { conn, sql } = await freshDatabase(db);
    cleanups.push(() => conn.end());
    await sql('CREATE TABLE ok (id INT PRIMARY KEY)');
    await sql('CREATE TABLE nopk (a INT, b INT)');
    await sql('INSERT INTO nopk VALUES (1, 2)');
    const pipeline = uniqueName('p');
    const err = await failure(startSource(kafka, pipeline, filterFor(db)).done);
    expect(err.code).toBe('FERRY_PREFLIGHT');
    expect(err.message).toContain(`${db}.nopk has no primary key`);
    expect(err.message).toContain(`source.keyColumns["${db}.nopk"]`);
    expect(await listTopics(kafka, `${pipeline}.`)).toEqual([]);

    // Nullable key columns would make the snapshot skip rows: refused, naming the column.
    const nullable = await failure(
      startSource(kafka, pipeline, filterFor(db, { keyColumns: { [`${db}.nopk`]: ['a'] } })).done,
    );
    expect(nullable.code).toBe('FERRY_PREFLIGHT');
    expect(nullable.message).toContain(`source.keyColumns["${db}.nopk"] names nullable column(s) a`);
    expect(await listTopics(kafka, `${pipeline}.`)).toEqual([]);

    // The documented fix works: NOT NULL unique columns named in source.keyColumns.
    await sql('ALTER TABLE nopk MODIFY a INT NOT NULL, ADD UNIQUE KEY (a)');
    const fixed = startSource(kafka, pipeline, filterFor(db, { keyColumns: { [`${db}.nopk`]: ['a'] } }));
    await until(() => fixed.runtime.storedOffset()?.phase === 'stream', 60_000, 'the snapshot');
    await fixed.stop();
    const recs = await waitForRecords(kafka, `${pipeline}.${db}.nopk`, (r) => r.length === 1);
    expect(recs[0]!.key).toBe('{"a":1}');
  });

  it('a stored position whose binlog was purged; --resnapshot starts over', async () => {
    const db = uniqueName('ferry_pf_purge');
    const { conn, sql } = await freshDatabase(db);
    cleanups.push(() => conn.end());
    await sql('CREATE TABLE t (id INT PRIMARY KEY, v INT)');
    await sql('INSERT INTO t VALUES (1, 1)');
    const pipeline = uniqueName('p');
    const first = startSource(kafka, pipeline, filterFor(db));
    await until(() => first.runtime.storedOffset()?.phase === 'stream', 60_000, 'the snapshot');
    await first.stop();
    const stored = await storedOffset(kafka, pipeline);
    expect(stored?.phase).toBe('stream');

    // Changes happen while the source is down, then the binlog holding them is purged.
    await sql('INSERT INTO t VALUES (2, 2)');
    const root = await mysqlRoot();
    try {
      // A file is purged only once no dump thread reads it and InnoDB checkpointed it: retry.
      await until(
        async () => {
          await root.query('FLUSH BINARY LOGS');
          const [logs] = (await root.query('SHOW BINARY LOGS')) as unknown as [Array<{ Log_name: string }>];
          await root.query(`PURGE BINARY LOGS TO '${logs.at(-1)!.Log_name}'`);
          const [left] = (await root.query('SHOW BINARY LOGS')) as unknown as [Array<{ Log_name: string }>];
          return !left.some((l) => l.Log_name === stored!.position['file']);
        },
        30_000,
        'the binlog to be purged',
      );
    } finally {
      await root.end();
    }
    const topic = `${pipeline}.${db}.t`;
    const before = (await readTopicToEnd(kafka, topic)).length;
    const offsetsBefore = (await readTopicToEnd(kafka, `${pipeline}.__offsets`)).length;

    const err = await failure(startSource(kafka, pipeline, filterFor(db)).done);
    expect(err.code).toBe('FERRY_PREFLIGHT');
    expect(err.message).toContain(`binlog file ${String(stored!.position['file'])} is no longer on the server`);
    expect(err.message).toContain('--resnapshot');
    expect((await readTopicToEnd(kafka, topic)).length).toBe(before);
    expect((await readTopicToEnd(kafka, `${pipeline}.__offsets`)).length).toBe(offsetsBefore);

    const again = startSource(kafka, pipeline, filterFor(db), { resnapshot: true });
    await until(() => again.runtime.storedOffset()?.phase === 'stream', 60_000, 'the new snapshot');
    await again.stop();
    const recs = await waitForRecords(kafka, topic, (r) => r.some((x) => x.key === '{"id":2}'));
    expect(recs.filter((r) => r.value?.op === 'r').map((r) => r.key)).toContain('{"id":2}');
  });
});
