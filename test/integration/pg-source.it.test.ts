/**
 * The PostgreSQL source end to end: sandbox PostgreSQL -> connector -> SourceRuntime -> sandbox
 * Kafka, read back from Kafka. Every type of issue 4, edge values included, value by value
 * (snapshot and stream); TOAST; ALTER TABLE ADD COLUMN; heartbeats advancing an idle slot.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseLsn } from '../../connectors/postgres-source/lsn.js';
import { type JsonValue, UNCHANGED } from '../../src/api/index.js';
import { withAdmin } from '../../src/kafka/admin.js';
import { createKafka } from '../../src/kafka/client.js';
import { readTopicToEnd } from '../../src/kafka/read-topic.js';
import { dataTopic, schemasTopic } from '../../src/kafka/topics.js';
import { PG_ALL_TYPES_COLUMNS as COLUMNS } from '../helpers/pg-columns.js';
import { getSandbox } from '../helpers/sandbox.js';
import { confirmedFlush, filterFor, freshSchema, readEnvelopes, startRuntime, waitFor } from './pg-source.helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(prefix: string) {
  const s = await freshSchema(prefix);
  cleanups.push(s.cleanup);
  return s;
}

/** Starts the runtime and makes sure it is stopped before the schema is dropped, even when the test fails. */
type RuntimeArgs = Parameters<typeof startRuntime> extends [string, ...infer R] ? R : never;

async function run(s: Awaited<ReturnType<typeof setup>>, ...args: RuntimeArgs) {
  const r = await startRuntime(s.pipeline, ...args);
  s.onCleanup(async () => {
    await r.runtime.stop();
    await r.running.catch(() => undefined);
  });
  return r;
}

/** Column -> [SQL literal, canonical value], three rows of edge values. */
type Case = Record<string, [string, JsonValue]>;

const CASES: Case[] = [
  {
    c_int2: ['-32768', -32768],
    c_int4: ['-2147483648', -2147483648],
    c_int8: ['-9223372036854775808', '-9223372036854775808'],
    c_num: ['12345678901234567890.0123456789', '12345678901234567890.0123456789'],
    c_num_any: ["'NaN'", 'NaN'],
    c_real: ['0.1', 0.1],
    c_double: ['0.1::float8 + 0.2::float8', 0.30000000000000004],
    c_bool: ['true', true],
    c_text: [`E'h\\u00e9llo \\U0001F680 "q" \\\\ back\\nline'`, 'héllo 🚀 "q" \\ back\nline'],
    c_varchar: [`'ÄÖÜ ñ 漢字'`, 'ÄÖÜ ñ 漢字'],
    c_char: [`'ab'`, 'ab   '],
    c_bytea: [`'\\x00ff10'::bytea`, 'AP8Q'],
    c_uuid: [`'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'`, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
    c_json: [`'{"b": 1, "a": [1.50, 2e3, 12345678901234567890]}'`, '{"b": 1, "a": [1.50, 2e3, 12345678901234567890]}'],
    c_jsonb: [`'{"b": 1, "a": 1.50}'`, '{"a": 1.50, "b": 1}'],
    c_date: [`'2024-02-29'`, '2024-02-29'],
    c_time: [`'23:59:59.999999'`, '23:59:59.999999'],
    c_timetz: [`'12:34:56.789+05:30'`, '12:34:56.789+05:30'],
    c_ts: [`'2024-01-02 03:04:05.123456'`, '2024-01-02T03:04:05.123456'],
    c_tstz: [`'2024-01-02 03:04:05.123456+02'`, '2024-01-02T01:04:05.123456Z'],
    c_interval: [`'1 year 2 mons -3 days 04:05:06.789'`, 'P1Y2M-3DT4H5M6.789S'],
    c_int_arr: [`'{1,NULL,3}'`, [1, null, 3]],
    c_text_arr: [`'{"a,b","c\\"d",NULL,"NULL",""}'`, ['a,b', 'c"d', null, 'NULL', '']],
    c_ts_arr: [`'{"2024-01-01 00:00:00.000001+00"}'`, ['2024-01-01T00:00:00.000001Z']],
    c_enum: [`'happy'`, 'happy'],
    c_enum_arr: [`'{sad,happy}'`, ['sad', 'happy']],
    c_domain: ['42', 42],
    c_bit: [`B'1010'`, '1010'],
    c_varbit: [`B'1'`, '1'],
    c_null: ['NULL', null],
  },
  {
    c_int2: ['32767', 32767],
    c_int4: ['2147483647', 2147483647],
    c_int8: ['9007199254740991', 9007199254740991],
    c_num: ['-0.0000000001', '-0.0000000001'],
    c_num_any: ["'Infinity'", 'Infinity'],
    c_real: ["'NaN'", 'NaN'],
    c_double: ["'-Infinity'", '-Infinity'],
    c_bool: ['false', false],
    c_text: [`''`, ''],
    c_varchar: [`'x'`, 'x'],
    c_char: [`'abcde'`, 'abcde'],
    c_bytea: [`''::bytea`, ''],
    c_uuid: [`'00000000-0000-0000-0000-000000000000'`, '00000000-0000-0000-0000-000000000000'],
    c_json: [`'null'`, 'null'],
    c_jsonb: [`'[]'`, '[]'],
    c_date: [`'infinity'`, 'infinity'],
    c_time: [`'00:00:00'`, '00:00:00'],
    c_timetz: [`'00:00:00-08'`, '00:00:00-08:00'],
    c_ts: [`'infinity'`, 'infinity'],
    c_tstz: [`'-infinity'`, '-infinity'],
    c_interval: [`'-1 days -00:00:00.000001'`, 'P-1DT-0.000001S'],
    c_int_arr: [
      `'{{1,2},{3,4}}'`,
      [
        [1, 2],
        [3, 4],
      ],
    ],
    c_text_arr: [`'{}'`, []],
    c_ts_arr: ['NULL', null],
    c_enum: [`'sad'`, 'sad'],
    c_enum_arr: [`'{}'`, []],
    c_domain: ['1', 1],
    c_bit: [`B'0000'`, '0000'],
    c_varbit: [`B''`, ''],
    c_null: ['NULL', null],
  },
  {
    c_int2: ['0', 0],
    c_int4: ['0', 0],
    c_int8: ['9223372036854775807', '9223372036854775807'],
    c_num: ['0', '0.0000000000'],
    c_num_any: ["'-Infinity'", '-Infinity'],
    c_real: ['3.4028235e38', 3.4028235e38],
    c_double: ['-0', 0],
    c_bool: ['NULL', null],
    c_text: [`repeat('é', 3000)`, 'é'.repeat(3000)],
    c_varchar: ['NULL', null],
    c_char: ['NULL', null],
    c_bytea: [`'\\x000102ff'::bytea`, 'AAEC/w=='],
    c_uuid: ['NULL', null],
    c_json: [`'{"k":"\\u00e9"}'`, '{"k":"\\u00e9"}'],
    c_jsonb: [`'{"k": 9007199254740993}'`, '{"k": 9007199254740993}'],
    c_date: [`'0044-03-15 BC'`, '-0043-03-15'],
    c_time: [`'24:00:00'`, '24:00:00'],
    c_timetz: [`'23:59:59.999999+14'`, '23:59:59.999999+14:00'],
    c_ts: [`'0001-01-01 00:00:00 BC'`, '0000-01-01T00:00:00'],
    c_tstz: [`'1999-12-31 23:59:59.999999-05'`, '2000-01-01T04:59:59.999999Z'],
    c_interval: [`'0'`, 'PT0S'],
    c_int_arr: ['NULL', null],
    c_text_arr: [`ARRAY['🚀', ' sp ']`, ['🚀', ' sp ']],
    c_ts_arr: [`'{infinity,NULL}'`, ['infinity', null]],
    c_enum: ['NULL', null],
    c_enum_arr: [`'{happy,NULL}'`, ['happy', null]],
    c_domain: ['NULL', null],
    c_bit: ['NULL', null],
    c_varbit: [`B'10000001'`, '10000001'],
    c_null: ['NULL', null],
  },
];

function insertSql(schema: string, id: number, c: Case): string {
  const cols = Object.keys(c);
  return `INSERT INTO "${schema}".all_types (id, ${cols.join(', ')}) VALUES (${id}, ${cols.map((k) => c[k]![0]).join(', ')})`;
}

function expected(id: number, c: Case): Record<string, JsonValue> {
  return { id, ...Object.fromEntries(Object.entries(c).map(([k, v]) => [k, v[1]])) };
}

describe('postgres source -> Kafka', () => {
  it('all types: snapshot then changes, every event value by value', async () => {
    const s = await setup('pgit_types');
    const { schema, pipeline, db } = s;
    await db.query(`CREATE TYPE "${schema}".mood AS ENUM ('sad', 'ok', 'happy')`);
    await db.query(`CREATE DOMAIN "${schema}".posint AS integer CHECK (VALUE > 0)`);
    await db.query(`SET search_path = "${schema}"`);
    await db.query(`CREATE TABLE all_types (${COLUMNS})`);
    for (const [i, c] of CASES.entries()) await db.query(insertSql(schema, i + 1, c));

    const { runtime, running } = await run(s, filterFor(schema));
    await waitFor('the snapshot to be stored', async () => runtime.storedOffset()?.phase === 'stream');

    for (const [i, c] of CASES.entries()) await db.query(insertSql(schema, i + 101, c));
    // Update row 101 to the values of row 2; delete row 102; change the key of row 103.
    const sets = Object.entries(CASES[1]!).map(([k, v]) => `${k} = ${v[0]}`);
    await db.query(`UPDATE all_types SET ${sets.join(', ')} WHERE id = 101`);
    await db.query('DELETE FROM all_types WHERE id = 102');
    await db.query('UPDATE all_types SET id = 203 WHERE id = 103');
    await waitFor('all changes in Kafka', async () => runtime.progress().eventsPublished >= 3 + 3 + 1 + 1 + 2);
    await runtime.stop();
    await running;

    const envs = await readEnvelopes(dataTopic(pipeline, schema, 'all_types'));
    expect(envs.map((e) => [e.op, e.key])).toEqual([
      ['r', '{"id":1}'],
      ['r', '{"id":2}'],
      ['r', '{"id":3}'],
      ['c', '{"id":101}'],
      ['c', '{"id":102}'],
      ['c', '{"id":103}'],
      ['u', '{"id":101}'],
      ['d', '{"id":102}'],
      ['d', '{"id":103}'],
      ['c', '{"id":203}'],
    ]);
    // Value by value, so a mismatch names the column.
    const check = (actual: Record<string, JsonValue> | null, want: Record<string, JsonValue>) => {
      expect(actual).not.toBeNull();
      for (const [k, v] of Object.entries(want)) expect({ [k]: actual![k] }).toEqual({ [k]: v });
      expect(Object.keys(actual!).sort()).toEqual(Object.keys(want).sort());
    };
    for (const [i, c] of CASES.entries()) {
      check(envs[i]!.after, expected(i + 1, c));
      check(envs[3 + i]!.after, expected(i + 101, c));
    }
    check(envs[6]!.after, expected(101, CASES[1]!));
    expect(envs[7]!.before).toEqual({ id: 102 });
    check(envs[9]!.after, expected(203, CASES[2]!));
    expect(envs[0]!.source).toMatchObject({ connector: 'postgresql', db: schema, table: 'all_types', snapshot: true });
    expect(envs[2]!.source['snapshot']).toBe('last');
    expect(envs[3]!.source).toMatchObject({ connector: 'postgresql', schema, snapshot: false });
    expect(envs[3]!.source['ts_ms']).toBeGreaterThan(Date.now() - 120_000);

    // The schema as published: kinds of the PostgreSQL types.
    const kafka = createKafka({ brokers: getSandbox().kafka.brokers, clientId: 'pgit' });
    const schemas = (await readTopicToEnd(kafka, schemasTopic(pipeline))).map((r) => JSON.parse(r.value!));
    const cols = Object.fromEntries(schemas.at(-1).columns.map((c: { name: string }) => [c.name, c]));
    expect(cols['c_int8']).toMatchObject({ kind: 'int64', sourceType: 'bigint', nullable: true });
    expect(cols['c_num']).toMatchObject({ kind: 'decimal', precision: 40, scale: 10 });
    expect(cols['c_enum']).toMatchObject({ kind: 'enum', enumValues: ['sad', 'ok', 'happy'] });
    expect(cols['c_enum_arr']).toMatchObject({ kind: 'array', elementKind: 'enum' });
    expect(cols['c_domain']).toMatchObject({ kind: 'int32' });
    expect(cols['c_tstz']).toMatchObject({ kind: 'timestamptz', fsp: 6 });
    expect(cols['c_varchar']).toMatchObject({ kind: 'string', length: 20 });
    expect(cols['id']).toMatchObject({ kind: 'int32', nullable: false });
  });

  it('TOAST: an UPDATE of another column marks the 1 MB column unchanged', async () => {
    const s = await setup('pgit_toast');
    const { schema, pipeline, db } = s;
    await db.query(`CREATE TABLE "${schema}".docs (id int PRIMARY KEY, n int, body text)`);
    // A 1 MB value does not fit Kafka's default 1 MB message limit: the topic is made with a larger one.
    const kafka = createKafka({ brokers: getSandbox().kafka.brokers, clientId: 'pgit' });
    await withAdmin(kafka, (admin) =>
      admin.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic: dataTopic(pipeline, schema, 'docs'),
            numPartitions: 1,
            configEntries: [{ name: 'max.message.bytes', value: String(4 * 1024 * 1024) }],
          },
        ],
      }),
    );
    const { runtime, running } = await run(s, filterFor(schema));
    await waitFor('the snapshot to be stored', async () => runtime.storedOffset()?.phase === 'stream');
    // md5 text barely compresses, so 1 MB of it is stored out of line (TOAST).
    await db.query(
      `INSERT INTO "${schema}".docs SELECT 1, 0, string_agg(md5(g::text), '') FROM generate_series(1, 32768) g`,
    );
    await db.query(`UPDATE "${schema}".docs SET n = 1 WHERE id = 1`);
    await waitFor('both events', async () => runtime.progress().eventsPublished >= 2);
    await runtime.stop();
    await running;
    const envs = await readEnvelopes(dataTopic(pipeline, schema, 'docs'));
    expect(envs.map((e) => e.op)).toEqual(['c', 'u']);
    expect((envs[0]!.after!['body'] as string).length).toBe(1024 * 1024);
    expect(envs[1]!.after).toEqual({ id: 1, n: 1, body: UNCHANGED });
  });

  it('ALTER TABLE ADD COLUMN mid-stream: a new schema version, later events carry the column', async () => {
    const s = await setup('pgit_alter');
    const { schema, pipeline, db } = s;
    await db.query(`CREATE TABLE "${schema}".t (id int PRIMARY KEY, v text)`);
    await db.query(`INSERT INTO "${schema}".t VALUES (1, 'a')`);
    const { runtime, running } = await run(s, filterFor(schema));
    await waitFor('the snapshot to be stored', async () => runtime.storedOffset()?.phase === 'stream');
    await db.query(`INSERT INTO "${schema}".t VALUES (2, 'b')`);
    await db.query(`ALTER TABLE "${schema}".t ADD COLUMN price numeric(8,2) NOT NULL DEFAULT 0`);
    await db.query(`INSERT INTO "${schema}".t VALUES (3, 'c', 9.99)`);
    await db.query(`UPDATE "${schema}".t SET v = 'a2' WHERE id = 1`);
    await waitFor('the events', async () => runtime.progress().eventsPublished >= 4);
    await runtime.stop();
    await running;

    const envs = await readEnvelopes(dataTopic(pipeline, schema, 't'));
    expect(envs.map((e) => [e.op, e.after])).toEqual([
      ['r', { id: 1, v: 'a' }],
      ['c', { id: 2, v: 'b' }],
      ['c', { id: 3, v: 'c', price: '9.99' }],
      ['u', { id: 1, v: 'a2', price: '0.00' }],
    ]);
    const kafka = createKafka({ brokers: getSandbox().kafka.brokers, clientId: 'pgit' });
    const schemas = (await readTopicToEnd(kafka, schemasTopic(pipeline))).map((r) => JSON.parse(r.value!));
    const versions = [...new Set(schemas.map((s) => s.version))];
    expect(versions).toHaveLength(2);
    const added = schemas.find((s) => s.version === versions[1]);
    expect(added.columns.at(-1)).toMatchObject({
      name: 'price',
      kind: 'decimal',
      precision: 8,
      scale: 2,
      nullable: false,
    });
    expect(envs[1]!.source['schema_version']).toBe(versions[0]);
    expect(envs[2]!.source['schema_version']).toBe(versions[1]);
    expect(envs[3]!.source['schema_version']).toBe(versions[1]);
  });

  it('a snapshot interrupted midway resumes in a fresh view and converges to the source', async () => {
    const s = await setup('pgit_resume');
    const { schema, pipeline, db } = s;
    const table = `"${schema}".t`;
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v text)`);
    await db.query(`INSERT INTO ${table} SELECT g, 'v' || g FROM generate_series(1, 3000) g`);
    // A queue no longer than a chunk: the reader cannot run ahead of what Kafka acknowledged.
    const first = await run(s, filterFor(schema), {}, { chunkSize: 100, queueSize: 100 });
    first.runtime.on('stored', (offset) => {
      if (offset.phase === 'snapshot' && offset.snapshot?.current) void first.runtime.stop();
    });
    await first.running;
    const interrupted = first.runtime.storedOffset();
    expect(interrupted?.phase).toBe('snapshot');
    const lastKey = interrupted?.snapshot?.current?.lastKey[0] as number;
    expect(lastKey).toBeLessThan(3000);

    // While the pipeline is down: changes to rows already read and rows not read yet.
    await db.query(`UPDATE ${table} SET v = v || '!' WHERE id IN (1, 2999)`);
    await db.query(`DELETE FROM ${table} WHERE id IN (2, 2998)`);
    await db.query(`UPDATE ${table} SET id = 5000 WHERE id = 3`);
    await db.query(`INSERT INTO ${table} VALUES (4000, 'new')`);

    const second = await run(s, filterFor(schema), {}, { chunkSize: 100 });
    await waitFor('the snapshot to finish', async () => second.runtime.storedOffset()?.phase === 'stream', 60_000);
    await db.query(`UPDATE ${table} SET v = 'after' WHERE id = 4000`);
    await waitFor('the last change in Kafka', async () =>
      (await readEnvelopes(dataTopic(pipeline, schema, 't'))).some((e) => e.after?.['v'] === 'after'),
    );
    await second.runtime.stop();
    await second.running;

    // Replay the topic like a sink would (last image per key wins; deletes remove).
    const state = new Map<string, JsonValue>();
    for (const e of await readEnvelopes(dataTopic(pipeline, schema, 't'))) {
      if (e.op === 'd') state.delete(e.key!);
      else if (e.after) state.set(e.key!, e.after);
    }
    const rows = await db.query<{ id: number; v: string }>(`SELECT id, v FROM ${table} ORDER BY id`);
    expect(state.size).toBe(rows.rows.length);
    for (const r of rows.rows) expect(state.get(JSON.stringify({ id: r.id }))).toEqual({ id: r.id, v: r.v });
  });

  it('a graceful stop confirms the last stored position to the slot before closing the stream', async () => {
    const s = await setup('pgit_stopack');
    const { schema, pipeline, db } = s;
    const table = `"${schema}".t`;
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v text)`);
    // Positions wait (up to 60 s) for the next batch to ride along with: the last ones are
    // stored by the stop itself.
    const { runtime, running, connector } = await run(s, filterFor(schema), {}, { offsetDelayMs: 60_000 });
    const slot = connector.names(pipeline).slot;
    await waitFor('the snapshot to be read', async () => runtime.progress().phase === 'stream');
    for (let i = 1; i <= 2; i++) await db.query(`INSERT INTO ${table} VALUES (${i}, 'v${i}')`);
    const wal = await db.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
    await db.query(`INSERT INTO ${table} VALUES (3, 'v3')`);
    await waitFor('the three rows in Kafka', async () => runtime.progress().eventsPublished >= 3);
    const before = runtime.storedOffset();
    await runtime.stop();
    await running;

    const stored = runtime.storedOffset();
    expect(stored?.phase).toBe('stream');
    expect(stored).not.toEqual(before); // stored by the stop
    const storedLsn = parseLsn(stored!.position['lsn'] as string);
    expect(storedLsn).toBeGreaterThan(parseLsn(wal.rows[0]!.lsn)); // the last insert's commit
    const confirmed = await waitFor('the slot to be released', async () => {
      const r = await db.query<{ active: boolean; lsn: string }>(
        'SELECT active, confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1',
        [slot],
      );
      return r.rows[0] && !r.rows[0].active ? parseLsn(r.rows[0].lsn) : null;
    });
    expect(confirmed).toBe(storedLsn);
    expect(await confirmedFlush(db, slot)).toBe(storedLsn);
  });

  it('heartbeat: captured table idle, another table busy -> the slot advances', async () => {
    const s = await setup('pgit_hb');
    const { schema, pipeline, db } = s;
    await db.query(`CREATE TABLE "${schema}".captured (id int PRIMARY KEY)`);
    await db.query(`CREATE TABLE "${schema}".busy (id serial PRIMARY KEY, v text)`);
    const { runtime, running, connector } = await run(s, filterFor(schema, 'captured'), {
      heartbeatIntervalMs: 300,
    });
    const slot = connector.names(pipeline).slot;
    await waitFor('the snapshot to be stored', async () => runtime.storedOffset()?.phase === 'stream');
    const first = (await confirmedFlush(db, slot))!;
    let busyUntil = 0n;
    for (let i = 0; i < 30; i++) {
      await db.query(`INSERT INTO "${schema}".busy (v) SELECT repeat('x', 1000) FROM generate_series(1, 50)`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const walNow = await db.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
    busyUntil = BigInt(`0x${walNow.rows[0]!.lsn.replace('/', '').padStart(16, '0')}`);
    const advanced = await waitFor(
      'confirmed_flush_lsn past the busy writes',
      async () => {
        const now = await confirmedFlush(db, slot);
        return now !== null && now > busyUntil ? now : null;
      },
      20_000,
    );
    expect(advanced).toBeGreaterThan(first);
    await runtime.stop();
    await running;
    const envs = await readEnvelopes(dataTopic(pipeline, schema, 'captured')).catch(() => []);
    expect(envs).toEqual([]);
  });
});
