/**
 * Replaying the binlog across a type change (issue 14): the source restarts from a position
 * older than `ALTER TABLE … MODIFY c INT` (c was VARCHAR). The replayed events were written
 * while c was a VARCHAR and must carry exactly the strings that were written, under a schema
 * version whose c is a string; the events after the MODIFY carry integers.
 */
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableSchema } from '../../src/api/index.js';
import { events, readSchemas, sandboxKafka, waitForRecords } from '../helpers/kafka.js';
import { uniqueName } from '../helpers/sandbox.js';
import { filterFor, freshDatabase, startSource, until } from './mysql-source.helpers.js';

describe('MySQL source: replay across MODIFY', () => {
  const db = uniqueName('ferry_replay');
  let kafka: Kafka;
  let sql: (q: string, v?: unknown[]) => Promise<unknown>;
  let close: () => Promise<void>;

  beforeAll(async () => {
    kafka = sandboxKafka();
    const fresh = await freshDatabase(db);
    sql = fresh.sql;
    close = async () => {
      await fresh.conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
      await fresh.conn.end();
    };
  });

  afterAll(async () => {
    await close?.();
  });

  it('restart from a position before MODIFY: replayed events carry the old type values exactly', async () => {
    const pipeline = uniqueName('p');
    await sql('CREATE TABLE modify_replay (id INT PRIMARY KEY, c VARCHAR(20) NULL)');
    const filter = filterFor(db, { include: [`${db}.modify_replay`] });
    const first = startSource(kafka, pipeline, filter);
    await until(() => first.runtime.storedOffset()?.phase === 'stream', 60_000, 'the snapshot');
    await first.stop();
    // While the source is down: strings an INT would change, then the MODIFY, then an integer.
    await sql(`INSERT INTO modify_replay VALUES (1, '007'), (2, '12abc'), (3, ' 42'), (4, NULL)`);
    await sql(`UPDATE modify_replay SET c = '12' WHERE id = 2`);
    await sql(`UPDATE modify_replay SET c = '42' WHERE id = 3`);
    await sql('ALTER TABLE modify_replay MODIFY c INT NULL');
    await sql('INSERT INTO modify_replay VALUES (5, 9000)');
    await sql('UPDATE modify_replay SET c = c + 1 WHERE id = 1');
    const again = startSource(kafka, pipeline, filter);
    try {
      const recs = await waitForRecords(kafka, `${pipeline}.${db}.modify_replay`, (r) => events(r).length >= 8);
      const evs = events(recs).map((r) => r.value);
      expect(evs.map((e) => [e.op, e.before, e.after])).toEqual([
        ['c', null, { id: 1, c: '007' }],
        ['c', null, { id: 2, c: '12abc' }],
        ['c', null, { id: 3, c: ' 42' }],
        ['c', null, { id: 4, c: null }],
        ['u', { id: 2, c: '12abc' }, { id: 2, c: '12' }],
        ['u', { id: 3, c: ' 42' }, { id: 3, c: '42' }],
        ['c', null, { id: 5, c: 9000 }],
        ['u', { id: 1, c: 7 }, { id: 1, c: 8 }],
      ]);
      // The replayed events name a schema version whose c is a string; the later ones an integer.
      const schemas = new Map(
        (await readSchemas(kafka, pipeline))
          .filter((r) => r.value !== null)
          .map((r) => [r.key, JSON.parse(r.value!) as TableSchema]),
      );
      const kindOf = (e: (typeof evs)[number]) =>
        schemas.get(`${db}.modify_replay@${e.source['schema_version']}`)?.columns.find((c) => c.name === 'c')?.kind;
      expect(evs.map(kindOf)).toEqual([...Array(6).fill('string'), 'int32', 'int32']);
    } finally {
      await again.stop();
    }
  });
});
