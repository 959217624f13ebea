/**
 * Repair by key (docs/snapshots.md#repair): with `snapshot: never`, a row that existed before the
 * pipeline started is unknown to the target. An UPDATE that leaves its TOASTed text unchanged
 * arrives as a partial row (the text UNCHANGED): the sink must not create the row with a NULL
 * text. It asks the source to read the row again, and the target ends with the full text.
 * PostgreSQL -> PostgreSQL and PostgreSQL -> MariaDB.
 */
import type { Kafka } from 'kafkajs';
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/kafka/client.js';
import {
  deletePipelineTopics,
  dropPgSlot,
  type RunningPipeline,
  routeConfig,
  startPipeline,
  until,
} from '../helpers/e2e.js';
import { getSandbox, pgFerry, pgSuper, uniqueName } from '../helpers/sandbox.js';
import { mariadb } from '../helpers/sink-harness.js';

/** ~640 kB of barely compressible text: stored out of line (TOAST). */
const BIG = `(SELECT string_agg(md5(g::text), '') FROM generate_series(1, 20000) g)`;

describe('repair by key: an update with an unchanged TOASTed column for a row the target does not hold', () => {
  const schema = uniqueName('repair_pg');
  const tgtSchema = `${schema}_tgt`;
  const kafka: Kafka = createKafka({ brokers: getSandbox().kafka.brokers, clientId: 'ferry-repair' });
  let src: pg.Client;
  let my: mysql.Connection;
  const running: RunningPipeline[] = [];

  beforeAll(async () => {
    src = await pgFerry();
    my = await mariadb();
    await src.query(`CREATE SCHEMA "${schema}"`);
    await src.query(`CREATE TABLE "${schema}".t (id int PRIMARY KEY, v int NOT NULL, body text)`);
    await src.query(`INSERT INTO "${schema}".t VALUES (1, 1, ${BIG}), (2, 1, 'small')`);
  });

  afterAll(async () => {
    for (const r of running) {
      await r.stop();
      await dropPgSlot(r.config).catch(() => undefined);
      await deletePipelineTopics(kafka, r.config.name);
    }
    await src?.end();
    await my?.query(`DROP DATABASE IF EXISTS \`${schema}\``).catch(() => undefined);
    await my?.end();
    const admin = await pgSuper();
    try {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.query(`DROP SCHEMA IF EXISTS "${tgtSchema}" CASCADE`);
    } finally {
      await admin.end();
    }
  });

  it('PostgreSQL -> PostgreSQL and -> MariaDB: the target row holds the full text, never NULL', async () => {
    const expected = await src.query<{ body: string }>(`SELECT body FROM "${schema}".t WHERE id = 1`);
    const text = expected.rows[0]!.body;
    expect(text.length).toBe(640_000);
    for (const [sink, target] of [
      ['postgres', tgtSchema],
      ['mysql', schema],
    ] as const) {
      const config = routeConfig({
        name: uniqueName(`repair-${sink}`).replace(/_/g, '-'),
        source: 'postgres',
        sourceNamespace: schema,
        sink,
        ...(sink === 'postgres' ? { targetNamespace: target } : {}),
      });
      config.source.snapshot = 'never';
      const run = startPipeline(config);
      running.push(run);
      await until('streaming', async () => run.pipeline.sourceProgress()?.connected === true, 60_000, [run]);
      // The row predates the pipeline: the target has never seen it. The update leaves body unchanged.
      await src.query(`UPDATE "${schema}".t SET v = v + 1 WHERE id = 1`);
      const want = sink === 'postgres' ? 2 : 3;
      const read = async (): Promise<{ v: number; body: string | null } | undefined> => {
        if (sink === 'mysql') {
          const [rows] = await my.query(`SELECT v, body FROM \`${target}\`.t WHERE id = 1`);
          return (rows as Array<{ v: number; body: string | null }>)[0];
        }
        const pgc = await pgSuper();
        try {
          return (await pgc.query(`SELECT v, body FROM "${target}".t WHERE id = 1`)).rows[0];
        } finally {
          await pgc.end();
        }
      };
      // The update is applied only once the row is whole (a NULL body would be a wrong row).
      const body = await until(
        `${sink}: row 1 at the target with v = ${want}`,
        async () => {
          const row = await read().catch(() => undefined);
          if (row && row.body === null) return row; // stop polling: a row with an invented NULL
          return row?.v === want ? row : null;
        },
        60_000,
        [run],
      );
      expect(body, `${sink}: the row arrived`).toBeDefined();
      expect(body!.v).toBe(sink === 'postgres' ? 2 : 3);
      expect(body!.body?.length, `${sink}: the full text, not NULL`).toBe(640_000);
      expect(body!.body).toBe(text);
    }
  });
});
