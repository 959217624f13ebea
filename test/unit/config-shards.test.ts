// biome-ignore-all lint/suspicious/noTemplateCurlyInString: this file is about the ${VAR} syntax of pipeline configs.
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigValidationError, parseConfig, secretsOf } from '../../src/config/index.js';

const ENV = { SOURCE_PASSWORD: 'src-Secret#1', TARGET_PASSWORD: 'tgt-Secret#2' };

function config(sink: Record<string, unknown>) {
  return stringify({
    name: 'shop-split',
    kafka: { brokers: ['127.0.0.1:9092'] },
    source: { kind: 'mysql', url: 'mysql://ferry:${SOURCE_PASSWORD}@127.0.0.1:3306/shop', tables: ['shop.*'] },
    sink: { kind: 'postgres', ...sink },
  });
}

const shards = [
  { name: 's1', url: 'postgres://ferry:${TARGET_PASSWORD}@127.0.0.1:5432/shard1' },
  { name: 's2', url: 'postgres://ferry:${TARGET_PASSWORD}@127.0.0.1:5432/shard2' },
];

function issuesOf(sink: Record<string, unknown>) {
  try {
    parseConfig(config(sink), { env: ENV, file: 'pipeline.yaml' });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigValidationError);
    return (err as ConfigValidationError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('expected the config to be rejected');
}

describe('sink.shards and sink.routing', () => {
  it('resolves shards, their connections and the default routing', () => {
    const c = parseConfig(config({ shards, routing: { tables: { 'shop.countries': 'broadcast' } } }), { env: ENV });
    expect(c.sink.shards?.map((s) => [s.name, s.connection.database])).toEqual([
      ['s1', 'shard1'],
      ['s2', 'shard2'],
    ]);
    expect(c.sink.routing).toEqual({ rule: 'hash', vnodes: 256, tables: { 'shop.countries': 'broadcast' } });
    expect(c.sink.connection.database).toBe('shard1');
    expect(secretsOf(c)).toContain('tgt-Secret#2');
  });

  it('a sink without shards has no routing', () => {
    const c = parseConfig(config({ url: 'postgres://ferry:x@127.0.0.1:5432/shop' }), { env: ENV });
    expect(c.sink.shards).toBeUndefined();
    expect(c.sink.routing).toBeUndefined();
  });

  it('names the field of each mistake', () => {
    expect(issuesOf({})).toEqual([expect.stringMatching(/^sink\.url: required/)]);
    expect(issuesOf({ shards, url: 'postgres://a@h/d' })).toEqual([expect.stringMatching(/^sink\.url: remove it/)]);
    expect(issuesOf({ shards: [shards[0], { ...shards[1], name: 's1' }] })).toEqual([
      expect.stringMatching(/^sink\.shards\[1\]\.name: s1 is used twice/),
    ]);
    expect(issuesOf({ shards: [shards[0], { name: 's2', url: 'mysql://a@h/d' }] })[0]).toMatch(
      /^sink\.shards\[1\]\.url: /,
    );
    expect(issuesOf({ shards: [shards[0]] })[0]).toMatch(/^sink\.shards: /);
    expect(issuesOf({ shards, routing: { rule: 'modulo' } })[0]).toMatch(/^sink\.routing\.rule: /);
    expect(issuesOf({ shards, routing: { tables: { 'shop.x': 'copy' } } })[0]).toMatch(/^sink\.routing\.tables/);
    expect(issuesOf({ url: 'postgres://a@h/d', routing: { rule: 'ring' } })).toEqual([
      expect.stringMatching(/^sink\.routing: only applies with sink\.shards/),
    ]);
    expect(issuesOf({ shards: [shards[0], { name: 'bad name', url: shards[1]!.url }] })[0]).toMatch(
      /^sink\.shards\[1\]\.name: /,
    );
  });
});
