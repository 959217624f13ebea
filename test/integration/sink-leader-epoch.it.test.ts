/**
 * Source failover seen from the sink (docs/failover.md#fencing): a record whose
 * `ferry-leader-epoch` is lower than one before it in its partition was sent by a former active
 * source instance after a takeover, and is skipped. Row mode on MariaDB and transaction mode on
 * PostgreSQL, each starting on a ferry_offsets table of an older ferry (without leader_epoch, so it
 * is migrated in place), each restarted, where only the stored epoch tells that the next stale
 * record is stale.
 */
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { ChangeEvent } from '../../src/api/index.js';
import { createRecordProducer } from '../../src/kafka/producer.js';
import { dataTopic } from '../../src/kafka/topics.js';
import type { FerryMetrics } from '../../src/metrics/metrics.js';
import { EPOCH_HEADER } from '../../src/offsets/leader-epoch.js';
import { col, EventWriter, TableEvents, tableSchema } from '../helpers/events.js';
import { kafkaClient, uniqueName } from '../helpers/sandbox.js';
import { sandboxTarget, startSink, useSinkDatabases, waitForCaughtUp } from '../helpers/sink-harness.js';

const kafka = kafkaClient('sink-leader-epoch');

async function staleCount(metrics: FerryMetrics): Promise<number> {
  return (await metrics.sinkStaleEpochRecords.get()).values.reduce((n, v) => n + v.value, 0);
}

describe('sink: records of a former active source instance (lower leader epoch)', () => {
  let my: mysql.Connection;
  let pgc: pg.Client;
  useSinkDatabases((dbs) => ({ my, pgc } = dbs));

  for (const mode of ['row', 'transaction'] as const) {
    it(`${mode} mode: skips them, counts them, and keeps the epoch across a restart`, async () => {
      const pipeline = uniqueName(`epoch_${mode === 'row' ? 'row' : 'txn'}`);
      const db = `${pipeline}_t`;
      const group = `${pipeline}-g`;
      const schema = tableSchema(
        db,
        't',
        [col('id', 'int', 'int32'), col('v', 'varchar(20)', 'string', { length: 20, nullable: false })],
        ['id'],
      );
      const topic = dataTopic(pipeline, db, 't');
      let target: ReturnType<typeof sandboxTarget>;
      if (mode === 'row') {
        // MariaDB, with a ferry_offsets table as an older ferry created it (no leader_epoch).
        const meta = `${pipeline}_meta`;
        await my.query(`CREATE DATABASE \`${meta}\``);
        await my.query(
          `CREATE TABLE \`${meta}\`.ferry_offsets (\`pipeline\` VARCHAR(190) NOT NULL, \`consumer_group\` VARCHAR(190) NOT NULL, ` +
            '`topic` VARCHAR(249) CHARACTER SET ascii COLLATE ascii_bin NOT NULL, `partition` INT NOT NULL, ' +
            '`next_offset` BIGINT NOT NULL, `truncate_barrier` VARCHAR(64) CHARACTER SET ascii NULL, ' +
            '`updated_at` DATETIME(6) NOT NULL, PRIMARY KEY (`pipeline`, `consumer_group`, `topic`, `partition`))',
        );
        target = sandboxTarget('mysql', meta);
      } else {
        const meta = `${pipeline}_meta`;
        await pgc.query(`CREATE SCHEMA ${pgc.escapeIdentifier(meta)}`);
        await pgc.query(
          `CREATE TABLE ${pgc.escapeIdentifier(meta)}.ferry_offsets (pipeline text NOT NULL, consumer_group text NOT NULL, ` +
            'topic text NOT NULL, "partition" integer NOT NULL, next_offset bigint NOT NULL, truncate_barrier text, ' +
            'updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (pipeline, consumer_group, topic, "partition"))',
        );
        const pgTarget = sandboxTarget('postgres');
        if (pgTarget.kind !== 'postgres') throw new Error('expected a PostgreSQL target');
        target = { ...pgTarget, metadataSchema: meta };
      }
      const ev = new TableEvents(schema, 'mysql');
      const writer = new EventWriter(kafka, pipeline, 1);
      const producer = await createRecordProducer(kafka);
      const send = async (events: ChangeEvent[], epoch: number | null) => {
        const messages = await writer.messages(events);
        await producer.send(
          messages.map((m) => (epoch === null ? m : { ...m, headers: { [EPOCH_HEADER]: String(epoch) } })),
        );
      };
      const start = () => startSink({ pipeline, group, target, topics: [topic], consistency: mode });
      const rows = async (): Promise<Record<string, string>> => {
        const out: Record<string, string> = {};
        if (mode === 'row') {
          const [r] = await my.query(`SELECT id, v FROM \`${db}\`.t ORDER BY id`);
          for (const x of r as Array<{ id: number; v: string }>) out[x.id] = x.v;
        } else {
          const r = await pgc.query(`SELECT id, v FROM ${pgc.escapeIdentifier(db)}.t ORDER BY id`);
          for (const x of r.rows as Array<{ id: number; v: string }>) out[x.id] = x.v;
        }
        return out;
      };
      const storedEpoch = async (): Promise<number | null> => {
        if (mode === 'row') {
          const [r] = await my.query(
            `SELECT CAST(leader_epoch AS CHAR) AS e FROM \`${pipeline}_meta\`.ferry_offsets WHERE pipeline = ? AND topic = ?`,
            [pipeline, topic],
          );
          const e = (r as Array<{ e: string | null }>)[0]?.e;
          return e === null || e === undefined ? null : Number(e);
        }
        const r = await pgc.query(
          `SELECT leader_epoch::int AS e FROM ${pgc.escapeIdentifier(`${pipeline}_meta`)}.ferry_offsets ` +
            'WHERE pipeline = $1 AND topic = $2',
          [pipeline, topic],
        );
        return r.rows[0]?.e ?? null;
      };

      try {
        await writer.schema(schema);
        await send([ev.insert({ id: 1, v: 'one' }), ev.insert({ id: 2, v: 'two' })], 1);
        await send([ev.update({ id: 1, v: 'one' }, { id: 1, v: 'newer' })], 2);
        // Sent by the epoch-1 instance before it was cut off; it reached Kafka after epoch 2.
        await send([ev.update({ id: 1, v: 'one' }, { id: 1, v: 'stale' }), ev.delete({ id: 2, v: 'two' })], 1);
        // Without the header (no failover): applied as always.
        await send([ev.insert({ id: 3, v: 'plain' })], null);
        await send([ev.insert({ id: 4, v: 'four' })], 2);

        const first = start();
        try {
          await waitForCaughtUp(kafka, pipeline, group, target, [topic], 90_000, [first]);
          expect(await rows()).toEqual({ 1: 'newer', 2: 'two', 3: 'plain', 4: 'four' });
          expect(await staleCount(first.metrics)).toBe(2);
          expect(await storedEpoch()).toBe(2);
        } finally {
          await first.stop();
        }
        expect(first.failure).toBeNull();

        // A restart: the epoch comes back from the target. The next stale record is alone in its
        // batch, so only the stored epoch can tell.
        await send([ev.update({ id: 1, v: 'one' }, { id: 1, v: 'stale again' })], 1);
        await send([ev.insert({ id: 5, v: 'five' })], 2);
        const second = start();
        try {
          await waitForCaughtUp(kafka, pipeline, group, target, [topic], 90_000, [second]);
          expect(await rows()).toEqual({ 1: 'newer', 2: 'two', 3: 'plain', 4: 'four', 5: 'five' });
          expect(await staleCount(second.metrics)).toBe(1);
        } finally {
          await second.stop();
        }
        expect(second.failure).toBeNull();
      } finally {
        await producer.disconnect();
        await writer.close();
      }
    }, 180_000);
  }
});
