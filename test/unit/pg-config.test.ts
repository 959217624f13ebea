import { describe, expect, it } from 'vitest';
import {
  clientConfig,
  defaultObjectName,
  objectNames,
  resolveOptions,
  SESSION_OPTIONS,
} from '../../connectors/postgres-source/config.js';

describe('PostgreSQL source options', () => {
  it('reads a URL, percent-decoded, with sslmode', () => {
    const o = resolveOptions({ url: 'postgres://fe%40rry:p%2Fw@db.example:6543/shop?sslmode=require' });
    expect(o.connection).toEqual({
      host: 'db.example',
      port: 6543,
      user: 'fe@rry',
      password: 'p/w',
      database: 'shop',
      ssl: { rejectUnauthorized: false },
    });
    expect(resolveOptions({ url: 'postgresql://u@h/d', password: 'x' }).connection.password).toBe('x');
  });

  it('names slot and publication after the pipeline unless given', () => {
    expect(defaultObjectName('shop-move')).toBe('ferry_shop_move');
    const o = resolveOptions({ url: 'postgres://u@h/d' });
    expect(objectNames(o, 'shop-move')).toEqual({ slot: 'ferry_shop_move', publication: 'ferry_shop_move' });
    expect(objectNames(resolveOptions({ url: 'postgres://u@h/d', slot: 's1', publication: 'p1' }), 'x')).toEqual({
      slot: 's1',
      publication: 'p1',
    });
    expect(o).toMatchObject({ createPublication: true, heartbeatIntervalMs: 10_000, protoVersion: 1 });
  });

  it('fails at construction with the path and what is allowed', () => {
    expect(() => resolveOptions({})).toThrow(/exactly one of `url` and `connection`/);
    expect(() => resolveOptions({ url: 'mysql://u@h/d' })).toThrow(/source.url: scheme "mysql:"/);
    expect(() => resolveOptions({ url: 'postgres://u@h' })).toThrow(/names no database/);
    expect(() => resolveOptions({ url: 'postgres://u@h/d', slot: 'Bad-Slot' })).toThrow(/source.slot: "Bad-Slot"/);
    expect(() => resolveOptions({ url: 'postgres://u@h/d', publication: 'a b' })).toThrow(/source.publication/);
    expect(() => resolveOptions({ url: 'postgres://u@h/d', heartbeatIntervalMs: -1 })).toThrow(/heartbeatIntervalMs/);
  });

  it('sessions render values in the forms the encoders read, and parse nothing', () => {
    const c = clientConfig(resolveOptions({ url: 'postgres://u:p@h:1/d' }), 'stream');
    expect(c.options).toBe(SESSION_OPTIONS);
    expect(SESSION_OPTIONS).toContain('-c TimeZone=UTC');
    expect(SESSION_OPTIONS).toContain('-c DateStyle=ISO,YMD');
    const parser = (c.types as unknown as { getTypeParser: (oid: number) => (v: string) => unknown }).getTypeParser(
      1184,
    );
    expect(parser('2024-01-02 03:04:05.123456+00')).toBe('2024-01-02 03:04:05.123456+00');
    expect(c.application_name).toBe('ferry:stream');
  });
});
