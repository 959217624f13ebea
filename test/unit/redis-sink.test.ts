// biome-ignore-all lint/suspicious/noTemplateCurlyInString: pipeline configs use the ${VAR} syntax.
/** The pure parts of the Redis sink: keys, value encoding, the batch script's arguments, errors, config, checks. */
import { describe, expect, it } from 'vitest';
import { buildArgs, jsonKeysToRead } from '../../connectors/redis-sink/batch.js';
import { evictionCheck, parseInfo, persistenceCheck } from '../../connectors/redis-sink/checks.js';
import { fieldValue, hashFields, mergeJson, partialHash, rowKey } from '../../connectors/redis-sink/encode.js';
import { classifyRedisError } from '../../connectors/redis-sink/errors.js';
import { planTable } from '../../connectors/redis-sink/options.js';
import { ConfigError, FerryError, type SinkBatch, type TableChanges, UNCHANGED } from '../../src/api/index.js';
import { ConfigValidationError, configFromObject } from '../../src/config/index.js';
import { hashDifferences, jsonDifferences } from '../../src/verify/redis-compare.js';
import { col, tableSchema } from '../helpers/events.js';

const schema = tableSchema(
  'shop',
  'items',
  [
    col('id', 'bigint', 'int64'),
    col('name', 'text', 'string'),
    col('price', 'numeric', 'decimal'),
    col('ok', 'boolean', 'boolean'),
  ],
  ['id'],
);
const composite = tableSchema('shop', 'pairs', [col('a', 'text', 'string'), col('b', 'text', 'string')], ['a', 'b']);
const meta = { offsets: 'ferry:p:offsets:g', barriers: 'ferry:p:barriers:g', epochs: 'ferry:p:epochs:g' };

describe('Redis sink keys and values', () => {
  it('default keys are <db>.<table>:<key values>, escaped so composite keys never collide', () => {
    const plan = planTable({}, 'p', composite, ['a', 'b']);
    expect(rowKey(plan, { a: 'x:y', b: 'z' })).toBe('shop.pairs:x\\:y:z');
    expect(rowKey(plan, { a: 'x', b: 'y:z' })).toBe('shop.pairs:x:y\\:z');
    expect(rowKey(planTable({ keyPrefix: 'c:' }, 'p', schema, ['id']), { id: 42 })).toBe('c:shop.items:42');
    expect(planTable({}, 'p', schema, ['id']).index).toBe('ferry:p:keys:shop.items');
  });

  it('a key template must name every key column and only key columns', () => {
    expect(rowKey(planTable({ tables: { 'shop.items': { key: 'item/{id}' } } }, 'p', schema, ['id']), { id: 7 })).toBe(
      'item/7',
    );
    expect(() => planTable({ tables: { 'shop.pairs': { key: 'p:{a}' } } }, 'p', composite, ['a', 'b'])).toThrow(
      /must name every key column of shop.pairs \(missing \{b\}\)/,
    );
    expect(() => planTable({ tables: { 'shop.items': { key: '{id}:{name}' } } }, 'p', schema, ['id'])).toThrow(
      ConfigError,
    );
  });

  it('hash fields hold canonical values: strings as they are, the rest as JSON text, NULL as no field', () => {
    expect(fieldValue('1.50')).toBe('1.50');
    expect(fieldValue(true)).toBe('true');
    expect(fieldValue(['x', 'z'])).toBe('["x","z"]');
    expect(fieldValue(null)).toBeNull();
    expect(hashFields(schema, { id: 1, name: null, price: '1.50', ok: false })).toEqual([
      'id',
      '1',
      'price',
      '1.50',
      'ok',
      'false',
    ]);
    expect(partialHash(schema, { id: 1, name: UNCHANGED, price: null, ok: true })).toEqual({
      set: ['id', '1', 'ok', 'true'],
      del: ['price'],
    });
  });

  it('a partial JSON row merges into the stored row, and never invents a value', () => {
    const stored = JSON.stringify({ id: 1, name: 'big text', price: '2.00', ok: true });
    expect(JSON.parse(mergeJson(schema, stored, { id: 1, name: UNCHANGED, price: '3.00', ok: false })!)).toEqual({
      id: 1,
      name: 'big text',
      price: '3.00',
      ok: false,
    });
    expect(mergeJson(schema, JSON.stringify({ id: 1 }), { id: 1, name: UNCHANGED, price: null, ok: null })).toBeNull();
    expect(mergeJson(schema, 'not json', { id: 1, name: UNCHANGED, price: null, ok: null })).toBeNull();
  });
});

describe('Redis sink batch arguments', () => {
  const tc = (over: Partial<TableChanges>): TableChanges => ({
    schema,
    truncate: false,
    upserts: [],
    deletes: [],
    ...over,
  });
  const hashPlan = planTable({ streams: true }, 'p', schema, ['id']);
  const jsonPlan = planTable({ format: 'json' }, 'p', schema, ['id']);

  it('puts every check before the first write, and the offsets last', () => {
    const batch: SinkBatch = {
      tables: [
        tc({
          truncate: true,
          upserts: [{ id: 2, name: 'b', price: null, ok: true }],
          deletes: [{ id: 3 }],
          changes: [{ op: 't', before: null, after: null, tsMs: 5 }],
        }),
      ],
      offsets: [{ topic: 'p.shop.items', partition: 1, nextOffset: '10', truncateBarrier: null }],
      expected: [{ topic: 'p.shop.items', partition: 1, nextOffset: '7', truncateBarrier: null }],
    };
    const args = buildArgs({ batch, meta, planOf: () => hashPlan, stored: new Map(), streamMaxLen: 1000 });
    const w = args.indexOf('W');
    expect(args.slice(0, 6)).toEqual(['F', meta.offsets, meta.barriers, 'p.shop.items#1', '7', '']);
    expect(args.slice(6, w)).toEqual([
      'Y',
      meta.offsets,
      'hash',
      'Y',
      meta.barriers,
      'hash',
      'Y',
      hashPlan.index,
      'set',
      'Y',
      'shop.items.changes',
      'stream',
    ]);
    expect(args.slice(w + 1)).toEqual([
      'T',
      hashPlan.index,
      'D',
      'shop.items:3',
      hashPlan.index,
      'H',
      'shop.items:2',
      hashPlan.index,
      '3',
      'id',
      '2',
      'name',
      'b',
      'ok',
      'true',
      'A',
      'shop.items.changes',
      '1000',
      '2',
      'op',
      't',
      'ts_ms',
      '5',
      'O',
      meta.offsets,
      meta.barriers,
      'p.shop.items#1',
      '10',
      '',
    ]);
  });

  it('a partial hash row is checked to exist; a partial JSON row needs its stored value', () => {
    const partial = { id: 4, name: UNCHANGED, price: '1', ok: null };
    const hashArgs = buildArgs({
      batch: { tables: [tc({ upserts: [partial] })], offsets: [] },
      meta,
      planOf: () => hashPlan,
      stored: new Map(),
      streamMaxLen: 10,
    });
    expect(hashArgs.slice(0, 2)).toEqual(['X', 'shop.items:4']);
    expect(hashArgs.slice(hashArgs.indexOf('W') + 1)).toEqual([
      'P',
      'shop.items:4',
      hashPlan.index,
      '2',
      'id',
      '4',
      'price',
      '1',
      '1',
      'ok',
    ]);
    const batch = { tables: [tc({ upserts: [partial] })], offsets: [] };
    expect(jsonKeysToRead(batch, () => jsonPlan)).toEqual(['shop.items:4']);
    const missing = () =>
      buildArgs({ batch, meta, planOf: () => jsonPlan, stored: new Map([['shop.items:4', null]]), streamMaxLen: 10 });
    expect(missing).toThrow(FerryError);
    expect(missing).toThrow(/cannot be applied: the stored row is missing/);
    const stored = JSON.stringify({ id: 4, name: 'kept', price: '0', ok: true });
    const args = buildArgs({
      batch,
      meta,
      planOf: () => jsonPlan,
      stored: new Map([['shop.items:4', stored]]),
      streamMaxLen: 10,
    });
    expect(args.slice(0, 3)).toEqual(['J', 'shop.items:4', stored]);
    expect(JSON.parse(args[args.length - 1]!)).toEqual({ id: 4, name: 'kept', price: '1', ok: null });
    const afterTruncate = () =>
      buildArgs({
        batch: { tables: [tc({ truncate: true, upserts: [partial] })], offsets: [] },
        meta,
        planOf: () => hashPlan,
        stored: new Map(),
        streamMaxLen: 10,
      });
    expect(afterTruncate).toThrow(/truncated earlier in the batch/);
  });
});

describe('Redis sink errors', () => {
  it('sorts script and server errors into ferry kinds', () => {
    const fenced = classifyRedisError(new Error('FERRY_FENCED p.t#0 12'), 'x');
    expect(fenced).toMatchObject({ code: 'FERRY_APPLY', retriable: true, details: { fenced: true } });
    expect(classifyRedisError(new Error('FERRY_MISSING shop.items:9'), 'x')).toMatchObject({
      code: 'FERRY_APPLY',
      retriable: false,
    });
    expect(classifyRedisError(new Error('FERRY_WRONGTYPE k string hash'), 'x').code).toBe('FERRY_SCHEMA');
    expect(classifyRedisError(new Error('WRONGPASS invalid username-password pair'), 'x').code).toBe('FERRY_AUTH');
    expect(classifyRedisError(new Error('LOADING Redis is loading the dataset in memory'), 'x')).toMatchObject({
      code: 'FERRY_CONNECTION',
      retriable: true,
    });
    expect(classifyRedisError(new Error('connect ECONNREFUSED 127.0.0.1:1'), 'x').retriable).toBe(true);
    expect(classifyRedisError(new Error("READONLY You can't write against a read only replica."), 'x').code).toBe(
      'FERRY_PREFLIGHT',
    );
    expect(classifyRedisError(new Error('ERR something new'), 'x').code).toBe('FERRY_INTERNAL');
  });
});

describe('Redis config and checks', () => {
  const raw = (sink: Record<string, unknown>) => ({
    name: 'shop-cache',
    kafka: { brokers: ['127.0.0.1:9092'] },
    source: { kind: 'mysql', url: 'mysql://ferry:pw@127.0.0.1:3306/shop', tables: ['shop.*'] },
    sink,
  });

  it('sink.kind redis takes a redis:// URL without a user and fills in the defaults', () => {
    const config = configFromObject(raw({ kind: 'redis', url: 'rediss://:${REDIS_PASSWORD}@cache.example:6380/2' }), {
      env: { REDIS_PASSWORD: 's3cret' },
    });
    expect(config.sink.kind).toBe('redis');
    expect(config.sink.connection).toMatchObject({
      host: 'cache.example',
      port: 6380,
      user: 'default',
      password: 's3cret',
      database: '2',
    });
    if (config.sink.kind !== 'redis') throw new Error('not redis');
    expect(config.sink.redis).toMatchObject({ format: 'hash', keyPrefix: '', streams: false, streamMaxLen: 100_000 });
  });

  it('rejects a Redis database that is not a number and redis options on a SQL sink', () => {
    expect(() => configFromObject(raw({ kind: 'redis', url: 'redis://127.0.0.1/shop' }), { env: {} })).toThrow(
      /a Redis database is a number/,
    );
    const err = (() => {
      try {
        configFromObject(raw({ kind: 'postgres', url: 'postgres://u:p@h:5432/d', redis: { format: 'json' } }), {
          env: {},
        });
      } catch (e) {
        return e as ConfigValidationError;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(ConfigValidationError);
    expect(err!.message).toContain('sink.redis: only applies when sink.kind is redis');
  });

  it('validate reports missing persistence and an evicting memory policy', () => {
    const info = parseInfo(
      '# Persistence\r\naof_enabled:0\r\nrdb_saves_configured:0\r\nmaxmemory:1048576\r\nmaxmemory_policy:allkeys-lru\r\n',
    );
    expect(persistenceCheck(info)).toMatchObject({ ok: false, fix: expect.stringContaining('appendonly yes') });
    expect(evictionCheck(info)).toMatchObject({ ok: false, detail: expect.stringContaining('allkeys-lru') });
    expect(persistenceCheck(parseInfo('aof_enabled:1'))).toMatchObject({ ok: true });
    expect(evictionCheck(parseInfo('maxmemory:0\nmaxmemory_policy:noeviction'))).toMatchObject({ ok: true });
  });
});

describe('Redis verify comparison', () => {
  const names = ['id', 'name', 'price', 'doc'];
  it('names the columns whose stored value differs from the canonical source value', () => {
    // JSON source values come as sorted-key text (verify compares JSON by meaning).
    const values = [1, 'a', '1.50', '{"a":2,"b":1}'];
    const json = new Set(['doc']);
    expect(
      hashDifferences(names, values, { id: '1', name: 'a', price: '1.50', doc: '{"b": 1, "a": 2}' }, json),
    ).toEqual([]);
    expect(
      hashDifferences(names, values, { id: '1', name: 'a', price: '1.5', doc: '{"a":2,"b":1}', x: '1' }, json),
    ).toEqual(['price', 'x']);
    expect(hashDifferences(names, [1, null, null, null], { id: '1' })).toEqual([]);
    expect(
      jsonDifferences(names, values, JSON.stringify({ id: 1, name: 'a', price: '1.50', doc: '{"a":2,"b":1}' }), json),
    ).toEqual([]);
    expect(jsonDifferences(names, values, JSON.stringify({ id: 1, name: 'b', price: 1.5 }), json)).toEqual([
      'name',
      'price',
      'doc',
    ]);
  });
});

describe('unreduced changes for change streams', () => {
  it('are handed over in log order, truncates included, only when asked for', async () => {
    const { reduceEvents } = await import('../../src/runtime/sink/reduce.js');
    const events = [
      { op: 'c' as const, schema, before: null, after: { id: 1, name: 'a', price: null, ok: null }, tsMs: 1 },
      { op: 'u' as const, schema, before: null, after: { id: 1, name: 'b', price: null, ok: null }, tsMs: 2 },
      { op: 't' as const, schema, before: null, after: null, tsMs: 3 },
      { op: 'c' as const, schema, before: null, after: { id: 2, name: 'c', price: null, ok: null }, tsMs: 4 },
    ];
    const [withChanges] = reduceEvents(events, { changes: true });
    expect(withChanges!.changes!.map((c) => [c.op, c.tsMs])).toEqual([
      ['c', 1],
      ['u', 2],
      ['t', 3],
      ['c', 4],
    ]);
    expect(withChanges!.upserts).toEqual([{ id: 2, name: 'c', price: null, ok: null }]);
    expect(reduceEvents(events)[0]!.changes).toBeUndefined();
  });
});
