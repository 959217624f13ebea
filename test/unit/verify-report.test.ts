/**
 * verify's client-side canonicalisation (the shared encoders per type pair), the report
 * formatting, settings and the table pairs derived from a pipeline config.
 */
import { describe, expect, it } from 'vitest';
import { configFromObject } from '../../src/config/index.js';
import { clientCanonicaliser, stableJson, trimDecimalText } from '../../src/verify/canonical-client.js';
import {
  capturedTables,
  endpointsOf,
  filterPairs,
  formatVerifyReport,
  pairOf,
  resolveSettings,
  type TableReport,
  type VerifyReport,
  verifyReportJson,
} from '../../src/verify/index.js';
import type { NativeColumn } from '../../src/verify/native-types.js';

const col = (engine: 'mysql' | 'postgres', dataType: string, extra: Partial<NativeColumn> = {}): NativeColumn => ({
  name: 'c',
  engine,
  dataType,
  columnType: dataType,
  nullable: true,
  kind: 'string',
  ...extra,
});

const plain = { trimDecimal: false, jsonSemantic: false };

describe('client-side canonical values', () => {
  it('reads a MySQL TINYINT(1) as a boolean, and keeps other values visible as invalid', () => {
    const c = clientCanonicaliser('boolean', col('mysql', 'tinyint'), plain);
    expect([c(1), c(0), c(null)]).toEqual([true, false, null]);
    expect(c(5)).toEqual({ invalid: '5' });
    expect(clientCanonicaliser('boolean', col('postgres', 'boolean'), plain)('t')).toBe(true);
  });

  it('reads a PostgreSQL text[] holding a MySQL SET as the set', () => {
    expect(clientCanonicaliser('set', col('postgres', 'text[]'), plain)('{a,c}')).toEqual(['a', 'c']);
    expect(clientCanonicaliser('set', col('mysql', 'set'), plain)('a,c')).toEqual(['a', 'c']);
    expect(clientCanonicaliser('set', col('postgres', 'text[]'), plain)('{}')).toEqual([]);
  });

  it('reads MySQL DATETIME/TIMESTAMP text as UTC for timestamptz', () => {
    const c = clientCanonicaliser('timestamptz', col('mysql', 'datetime'), plain);
    expect(c('2024-01-02 03:04:05.500000')).toBe('2024-01-02T03:04:05.5Z');
    const p = clientCanonicaliser('timestamptz', col('postgres', 'timestamp with time zone'), plain);
    expect(p('2024-01-02 03:04:05.5+00')).toBe('2024-01-02T03:04:05.5Z');
  });

  it('widens BIT to its declared length and reads bytea hex as base64', () => {
    expect(clientCanonicaliser('bit', col('mysql', 'bit', { length: 10 }), plain)(Buffer.from([0x02, 0x01]))).toBe(
      '1000000001',
    );
    expect(clientCanonicaliser('bytes', col('postgres', 'bytea'), plain)('\\x0001ff')).toBe('AAH/');
  });

  it('compares decimals without trailing zeros when the scales differ', () => {
    expect(clientCanonicaliser('decimal', col('mysql', 'decimal'), { ...plain, trimDecimal: true })('1.500')).toBe(
      '1.5',
    );
    expect(clientCanonicaliser('decimal', col('postgres', 'integer'), plain)(7)).toBe('7');
    expect([trimDecimalText('2.00'), trimDecimalText('100'), trimDecimalText('-0.50')]).toEqual(['2', '100', '-0.5']);
  });

  it('compares JSON by meaning when asked, and PostgreSQL arrays stored as JSON by value', () => {
    const semantic = { ...plain, jsonSemantic: true };
    const a = clientCanonicaliser('json', col('mysql', 'longtext'), semantic)('{"b":1,  "a":[1.10, null]}');
    const b = clientCanonicaliser('json', col('postgres', 'jsonb'), semantic)('{"a": [1.1, null], "b": 1}');
    expect(a).toBe(b);
    expect(clientCanonicaliser('json', col('mysql', 'longtext'), plain)('{"b":1}')).toBe('{"b":1}');
    const pgArray = clientCanonicaliser('array', col('postgres', 'integer[]', { elementKind: 'int64' }), plain);
    const myJson = clientCanonicaliser('array', col('mysql', 'longtext'), plain);
    expect(pgArray('{1,NULL,3}')).toBe(myJson('[1, null, 3]'));
    expect(stableJson({ b: [1, { d: 1, c: 2 }], a: null })).toBe('{"a":null,"b":[1,{"c":2,"d":1}]}');
  });

  it('reads a MySQL FLOAT widened to DOUBLE as the float32 canonical value', () => {
    expect(clientCanonicaliser('float32', col('mysql', 'float'), plain)(0.10000000149011612)).toBe(0.1);
    expect(clientCanonicaliser('float32', col('postgres', 'real'), plain)('0.1')).toBe(0.1);
  });
});

function table(extra: Partial<TableReport> = {}): TableReport {
  return {
    source: 'shop.orders',
    target: 'shop.orders',
    equal: true,
    sourceRows: 1_000_000,
    targetRows: 1_000_000,
    chunks: 101,
    mismatchedChunks: 0,
    missing: [],
    extra: [],
    different: [],
    missingCount: 0,
    extraCount: 0,
    differentCount: 0,
    rowsPerSecond: 55_000,
    seconds: 18.2,
    method: 'checksum',
    clientColumns: [],
    notes: [],
    ...extra,
  };
}

describe('formatVerifyReport', () => {
  it('prints a table per table and the verdict', () => {
    const report: VerifyReport = { equal: true, tables: [table()], peakRssBytes: 90 * 1024 * 1024, seconds: 18.4 };
    expect(formatVerifyReport(report).split('\n')).toEqual([
      'TABLE        METHOD    SOURCE ROWS  TARGET ROWS  CHUNKS  MISMATCHED  MISSING  EXTRA  DIFFERENT  ROWS/S    TIME  RESULT',
      'shop.orders  checksum    1,000,000    1,000,000     101           0        0      0          0  55,000  18.2 s  equal',
      '',
      'verify: EQUAL — 1 table(s) (1,000,000 source rows in 18.4 s, peak RSS 90 MB)',
    ]);
  });

  it('names the keys of every difference, the differing columns, notes and errors', () => {
    const report: VerifyReport = {
      equal: false,
      tables: [
        table({
          equal: false,
          target: 'public.orders',
          missing: [{ id: 5 }, { id: 6 }],
          missingCount: 3,
          extra: [{ id: 9 }],
          extraCount: 1,
          different: [{ key: { id: 7 }, columns: ['amount', 'note'] }],
          differentCount: 1,
          notes: ['column doc: compared client-side'],
        }),
        table({
          source: 'shop.gone',
          target: 'shop.gone',
          equal: false,
          error: 'the target table shop.gone does not exist',
        }),
      ],
      peakRssBytes: 0,
      seconds: 1,
    };
    const text = formatVerifyReport(report, { maxKeys: 1 });
    expect(text).toContain('shop.orders → public.orders');
    expect(text).toContain('shop.orders → public.orders: 3 missing, 1 extra, 1 different');
    expect(text).toContain('  missing   {"id":5}\n  missing   … and 2 more (all listed keys are in --json)');
    expect(text).toContain('  extra     {"id":9}');
    expect(text).toContain('  different {"id":7}  columns: amount, note');
    expect(text).toContain('  note: column doc: compared client-side');
    expect(text).toContain('shop.gone: the target table shop.gone does not exist');
    expect(text).toMatch(/ERROR\n/);
    expect(text).toContain('verify: NOT EQUAL — 2 of 2 table(s) differ');
    expect(JSON.parse(verifyReportJson(report))).toEqual(report);
  });
});

describe('settings and table pairs', () => {
  it('fills defaults and rejects nonsense', () => {
    expect(resolveSettings({})).toMatchObject({ chunkSize: 10_000, recheck: { attempts: 3, delayMs: 2000 } });
    expect(resolveSettings({ chunkSize: 500, recheck: { attempts: 0 } })).toMatchObject({
      chunkSize: 500,
      recheck: { attempts: 0, delayMs: 2000 },
    });
    expect(() => resolveSettings({ chunkSize: 0 })).toThrow(/chunkSize must be an integer of at least 1/);
    expect(() => resolveSettings({ splitFactor: 1 })).toThrow(/splitFactor/);
  });

  const config = configFromObject(
    {
      name: 'shop-move',
      kafka: { brokers: ['127.0.0.1:9092'] },
      source: {
        kind: 'mysql',
        url: 'mysql://ferry:s3cret@127.0.0.1:3306/shop',
        tables: ['shop.*'],
        exclude: ['shop.tmp_*'],
        excludeColumns: ['shop.users.password_*'],
        keyColumns: { 'shop.audit': ['id', 'ts'] },
      },
      sink: { kind: 'postgres', url: 'postgres://ferry:t@127.0.0.1:5432/target', schema: 'public' },
    },
    { env: {} },
  );

  it('derives captured tables, their targets, excluded and key columns from the config', () => {
    const tables = [
      { db: 'shop', table: 'users' },
      { db: 'shop', table: 'tmp_x' },
      { db: 'other', table: 'users' },
      { db: 'shop', table: 'audit' },
    ];
    expect(capturedTables(config, tables)).toEqual([
      { db: 'shop', table: 'users' },
      { db: 'shop', table: 'audit' },
    ]);
    expect(pairOf(config, { db: 'shop', table: 'users' }, ['id', 'password_hash', 'name'])).toEqual({
      source: { db: 'shop', table: 'users' },
      target: { db: 'public', table: 'users' },
      excludeColumns: ['password_hash'],
    });
    expect(pairOf(config, { db: 'shop', table: 'audit' }, ['id', 'ts'])).toMatchObject({ keyColumns: ['id', 'ts'] });
    expect(endpointsOf(config)).toEqual({
      source: { kind: 'mysql', host: '127.0.0.1', port: 3306, user: 'ferry', password: 's3cret', database: 'shop' },
      target: { kind: 'postgres', host: '127.0.0.1', port: 5432, user: 'ferry', password: 't', database: 'target' },
    });
  });

  it('filters pairs with --tables patterns on source or target names', () => {
    const pairs = [
      pairOf(config, { db: 'shop', table: 'users' }, []),
      pairOf(config, { db: 'shop', table: 'orders' }, []),
    ];
    expect(filterPairs(pairs, ['shop.ord*']).map((p) => p.source.table)).toEqual(['orders']);
    expect(filterPairs(pairs, ['public.users']).map((p) => p.source.table)).toEqual(['users']);
    expect(filterPairs(pairs, undefined)).toHaveLength(2);
    expect(() => filterPairs(pairs, ['nope.*'])).toThrow(/--tables nope.\* matches none of the 2 captured table\(s\)/);
  });
});
