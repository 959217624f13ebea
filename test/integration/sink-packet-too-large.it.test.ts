/**
 * MySQL sink, a row larger than the target's max_allowed_packet (errno 1153,
 * ER_NET_PACKET_TOO_LARGE): a data error, not a connection error. The row goes to the
 * dead-letter topic with errno 1153 in its reason; the sink reconnects (the server closed the
 * connection) and applies every other row of the batch, in order.
 *
 * MariaDB's session max_allowed_packet is read-only, so the test lowers the GLOBAL value (new
 * connections take it) and restores it at the end; integration test files run one at a time.
 */
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataTopic, dlqTopic } from '../../src/kafka/topics.js';
import { col, EventWriter, TableEvents, tableSchema } from '../helpers/events.js';
import { kafkaClient, uniqueName } from '../helpers/sandbox.js';
import {
  dlqCount,
  mariadb,
  readWithHeaders,
  sandboxTarget,
  startSink,
  waitForCaughtUp,
} from '../helpers/sink-harness.js';

const LOW_PACKET = 64 * 1024;

describe('MySQL sink: a row larger than max_allowed_packet', () => {
  const kafka = kafkaClient('sink-packet');
  let my: mysql.Connection;
  let saved = 0;

  beforeAll(async () => {
    my = await mariadb();
    const [rows] = await my.query('SELECT @@GLOBAL.max_allowed_packet AS p');
    saved = Number((rows as Array<{ p: string | number }>)[0]!.p);
    await my.query('SET GLOBAL max_allowed_packet = ?', [LOW_PACKET]);
  });
  afterAll(async () => {
    if (saved > 0) await my?.query('SET GLOBAL max_allowed_packet = ?', [saved]);
    await my?.end();
  });

  it('sink packet too large: dead-letters the oversized row with errno 1153 and applies the rest', async () => {
    const pipeline = uniqueName('packet');
    const ns = `${pipeline}_src`;
    const group = `${pipeline}-my`;
    const target = sandboxTarget('mysql', `${pipeline}_meta`);
    const schema = tableSchema(
      ns,
      'docs',
      [col('id', 'int', 'int32'), col('body', 'longtext', 'string', { length: 4294967295 })],
      ['id'],
    );
    const events = new TableEvents(schema, 'mysql');
    // One partition: the oversized row sits in the middle of one ordered stream.
    const writer = new EventWriter(kafka, pipeline, 1);
    await writer.schema(schema);
    const big = 'x'.repeat(LOW_PACKET * 3);
    await writer.events([
      events.insert({ id: 1, body: 'one' }),
      events.insert({ id: 2, body: 'two' }),
      events.insert({ id: 3, body: big }),
      events.insert({ id: 4, body: 'four' }),
      events.update({ id: 2, body: 'two' }, { id: 2, body: 'two, later' }),
      events.insert({ id: 5, body: 'five' }),
      events.delete({ id: 1, body: 'one' }),
    ]);
    const sink = startSink({ pipeline, group, target, batchSize: 100 });
    try {
      const topic = dataTopic(pipeline, ns, 'docs');
      await waitForCaughtUp(kafka, pipeline, group, target, [topic], 60_000, [sink]);
      const letters = await readWithHeaders(kafka, dlqTopic(pipeline), 1);
      expect(letters).toHaveLength(1);
      const letter = letters[0]!;
      expect(letter.key).toBe('{"id":3}');
      expect(letter.headers['ferry.error_code']).toBe('FERRY_APPLY');
      expect(letter.headers['ferry.reason']).toMatch(/errno 1153/);
      expect(letter.headers['ferry.offset']).toBe('2');
      expect(await dlqCount(sink)).toBe(1);
      const [rows] = await my.query(`SELECT id, body FROM \`${ns}\`.docs ORDER BY id`);
      expect(rows).toEqual([
        { id: 2, body: 'two, later' },
        { id: 4, body: 'four' },
        { id: 5, body: 'five' },
      ]);
    } finally {
      await sink.stop();
      await writer.close();
    }
  });
});
