import { afterAll, describe, expect, it } from 'vitest';
import { startServer, stopServer } from '../../src/sandbox/index.js';
import { events, sandboxKafka, waitForRecords } from '../helpers/kafka.js';
import { mysqlRoot, sandboxDir, uniqueName } from '../helpers/sandbox.js';
import { filterFor, freshDatabase, startSource, until } from '../integration/mysql-source.helpers.js';

describe('MySQL source: MariaDB stopped and started while streaming', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  it('reconnects with backoff, reports ferry_source_connected, and loses nothing', async () => {
    const kafka = sandboxKafka();
    const db = uniqueName('ferry_outage');
    const pipeline = uniqueName('p');
    const { conn, sql } = await freshDatabase(db);
    await sql('CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL)');
    await sql('INSERT INTO t VALUES (1, 0)');
    await conn.end();
    const source = startSource(kafka, pipeline, filterFor(db));
    cleanups.push(() => source.stop());
    await until(() => source.runtime.progress().connected, 60_000, 'the stream to connect');
    const connected: boolean[] = [true];
    source.runtime.on('progress', (p) => {
      if (connected.at(-1) !== p.connected) connected.push(p.connected);
    });

    const write = async (from: number, to: number) => {
      const c = await mysqlRoot(db);
      try {
        for (let id = from; id <= to; id++) {
          await c.query('INSERT INTO t VALUES (?, ?)', [id, id * 10]);
          if (id % 5 === 0) await c.query('UPDATE t SET v = v + 1 WHERE id = ?', [id - 1]);
        }
      } finally {
        await c.end();
      }
    };
    await write(2, 40);
    await stopServer('mysql', { dir: sandboxDir() });
    try {
      await until(() => !source.runtime.progress().connected, 30_000, 'the source to notice the outage');
      await new Promise((r) => setTimeout(r, 1500)); // a few reconnect attempts fail meanwhile
    } finally {
      await startServer('mysql', { dir: sandboxDir() });
    }
    await write(41, 80);

    const expected = new Map<string, number>();
    const check = await mysqlRoot(db);
    const [rows] = (await check.query('SELECT id, v FROM t')) as unknown as [Array<{ id: number; v: number }>];
    await check.end();
    for (const r of rows) expected.set(`{"id":${r.id}}`, r.v);
    expect(expected.size).toBe(80);

    const recs = await waitForRecords(
      kafka,
      `${pipeline}.${db}.t`,
      (r) => {
        const last = new Map(events(r).map((e) => [e.key, (e.value.after as { v: number }).v]));
        return [...expected].every(([k, v]) => last.get(k) === v);
      },
      60_000,
    );
    // Per key, the images arrive in source order (replays may repeat a suffix, never reorder).
    const lastImage = new Map<string, number>();
    for (const e of events(recs)) lastImage.set(e.key!, (e.value.after as { v: number }).v);
    expect(lastImage).toEqual(expected);
    expect(connected[1]).toBe(false);
    expect(connected.at(-1)).toBe(true);
    const text = await source.metrics.registry.getSingleMetricAsString('ferry_source_connected');
    expect(text).toMatch(/ferry_source_connected\{[^}]*\} 1/);
    const errors = await source.metrics.registry.getSingleMetricAsString('ferry_errors_total');
    expect(errors).toContain('code="FERRY_CONNECTION"');
    await source.stop();
    await source.done;
  });
});
