// biome-ignore-all lint/suspicious/noTemplateCurlyInString: this file is about the ${VAR} syntax of pipeline configs.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError, FerryError } from '../../src/api/errors.js';
import {
  ConfigValidationError,
  configFromObject,
  defaultServerId,
  defaultSlotName,
  loadConfig,
  parseConfig,
  secretsOf,
  tableFilterOf,
  targetNamespace,
} from '../../src/config/index.js';

const ENV = { SOURCE_PASSWORD: 'src-Secret#1', TARGET_PASSWORD: 'tgt-Secret#2' };

/** A config as plain data, before validation. */
interface RawConfig {
  [key: string]: unknown;
  kafka: Record<string, unknown>;
  source: Record<string, unknown>;
  sink: Record<string, unknown>;
}

/** A valid MariaDB → PostgreSQL pipeline as a plain object; tests change one part of it. */
function base(): RawConfig {
  return {
    name: 'shop-move',
    kafka: { brokers: ['127.0.0.1:9092'] },
    source: {
      kind: 'mysql',
      url: 'mysql://ferry:${SOURCE_PASSWORD}@127.0.0.1:3306/shop',
      tables: ['shop.*'],
    },
    sink: { kind: 'postgres', url: 'postgres://ferry:${TARGET_PASSWORD}@127.0.0.1:5432/shop' },
  };
}

function yamlOf(config: unknown): string {
  return stringify(config);
}

/** Parses and returns the error it must throw. */
function errorOf(text: string, env: Record<string, string> = ENV): FerryError {
  try {
    parseConfig(text, { env, file: 'pipeline.yaml' });
  } catch (err) {
    expect(err).toBeInstanceOf(FerryError);
    return err as FerryError;
  }
  throw new Error('expected the config to be rejected');
}

function configErrorOf(mutate: (config: RawConfig) => void): ConfigValidationError {
  const config = base();
  mutate(config);
  const err = errorOf(yamlOf(config));
  expect(err).toBeInstanceOf(ConfigError);
  expect(err).toBeInstanceOf(ConfigValidationError);
  expect(err.code).toBe('FERRY_CONFIG_INVALID');
  return err as ConfigValidationError;
}

describe('bad configs are rejected with the path and the reason', () => {
  it('missing name', () => {
    const err = configErrorOf((c) => {
      delete c['name'];
    });
    expect(err.path).toBe('name');
    expect(err.message).toContain('name: required field is missing');
    expect(err.message).toContain('e.g. shop-move');
  });

  it('name with bad characters explains what the name is used for', () => {
    const err = configErrorOf((c) => {
      c.name = 'Shop Move!';
    });
    expect(err.message).toMatch(/^name: /);
    expect(err.message).toContain('lowercase letter');
    expect(err.message).toContain('topics');
    expect(err.message).toContain('slot');
    expect(err.message).toContain('got "Shop Move!"');
  });

  it('name longer than 48 characters', () => {
    const err = configErrorOf((c) => {
      c.name = `a${'b'.repeat(48)}`;
    });
    expect(err.path).toBe('name');
    expect(err.message).toContain('at most 48 characters');
  });

  it('source.kind: oracle lists the allowed kinds', () => {
    const err = configErrorOf((c) => {
      c.source.kind = 'oracle';
    });
    expect(err.path).toBe('source.kind');
    expect(err.message).toContain('source.kind: expected one of mysql, postgres, got "oracle"');
  });

  it('sink.kind: oracle lists the allowed kinds', () => {
    const err = configErrorOf((c) => {
      c.sink.kind = 'oracle';
    });
    expect(err.message).toContain('sink.kind: expected one of postgres, mysql, redis, got "oracle"');
  });

  it('url scheme that does not match the kind says which scheme is expected', () => {
    const err = configErrorOf((c) => {
      c.sink.url = 'mysql://ferry:${TARGET_PASSWORD}@127.0.0.1:3306/shop';
    });
    expect(err.path).toBe('sink.url');
    expect(err.message).toContain('sink.url: expected a postgres:// URL');
    expect(err.message).toContain('got a mysql:// URL');
    expect(err.message).not.toContain(ENV.TARGET_PASSWORD);
  });

  it('a URL that is not a URL', () => {
    const err = configErrorOf((c) => {
      c.source.url = 'localhost:3306';
    });
    expect(err.path).toBe('source.url');
    expect(err.message).toContain('mysql://user:password@host:3306/database');
  });

  it('kafka.brokers: [] needs at least one broker', () => {
    const err = configErrorOf((c) => {
      c.kafka.brokers = [];
    });
    expect(err.path).toBe('kafka.brokers');
    expect(err.message).toContain('kafka.brokers: must list at least one entry, got an empty list');
  });

  it('a broker without a port names the entry', () => {
    const err = configErrorOf((c) => {
      c.kafka.brokers = ['127.0.0.1:9092', 'kafka2'];
    });
    expect(err.path).toBe('kafka.brokers[1]');
    expect(err.message).toContain('expected host:port');
    expect(err.message).toContain('got "kafka2"');
  });

  it('kafka.partitions: 0 gives the allowed range', () => {
    const err = configErrorOf((c) => {
      c.kafka.partitions = 0;
    });
    expect(err.message).toContain('kafka.partitions: must be at least 1');
    expect(err.message).toContain('1 to 1000');
    expect(err.message).toContain('got 0');
  });

  it('kafka.partitions that is not a number', () => {
    const err = configErrorOf((c) => {
      c.kafka.partitions = 'many';
    });
    expect(err.message).toContain('kafka.partitions: expected an integer from 1 to 1000, got "many"');
  });

  it('an unknown key suggests the close name', () => {
    const err = configErrorOf((c) => {
      c.sink.batchsize = 100;
    });
    expect(err.path).toBe('sink.batchsize');
    expect(err.message).toContain('sink.batchsize: unknown field; did you mean sink.batchSize?');
  });

  it('an unknown top-level key suggests the section', () => {
    const err = configErrorOf((c) => {
      c.sinks = {};
    });
    expect(err.message).toContain('sinks: unknown field; did you mean sink?');
  });

  it('an unknown key far from any name lists the allowed fields', () => {
    const err = configErrorOf((c) => {
      c.metrics = { port: 9464 };
    });
    expect(err.message).toContain('metrics.port: unknown field; allowed fields in metrics: listen, enabled');
  });

  it('a key in the wrong section points to where it belongs', () => {
    const err = configErrorOf((c) => {
      c.source.batchSize = 10;
    });
    expect(err.message).toContain('source.batchSize: unknown field here; did you mean sink.batchSize?');
  });

  it('source.tables: [] needs at least one pattern', () => {
    const err = configErrorOf((c) => {
      c.source.tables = [];
    });
    expect(err.message).toContain('source.tables: must list at least one entry');
    expect(err.message).toContain('shop.*');
  });

  it('a table pattern without a database', () => {
    const err = configErrorOf((c) => {
      c.source.tables = ['orders'];
    });
    expect(err.message).toContain('source.tables[0]: expected a "db.table" pattern');
  });

  it('source.snapshot: sometimes lists initial and never', () => {
    const err = configErrorOf((c) => {
      c.source.snapshot = 'sometimes';
    });
    expect(err.message).toContain('source.snapshot: expected one of initial, never, got "sometimes"');
  });

  it('sink.batchSize: -1', () => {
    const err = configErrorOf((c) => {
      c.sink.batchSize = -1;
    });
    expect(err.message).toContain('sink.batchSize: must be at least 1');
    expect(err.message).toContain('got -1');
  });

  it('a fractional integer', () => {
    const err = configErrorOf((c) => {
      c.sink.lingerMs = 1.5;
    });
    expect(err.message).toContain('sink.lingerMs: expected a whole number');
  });

  it('a field of the other kind (serverId on a postgres source)', () => {
    const err = configErrorOf((c) => {
      c.source = { kind: 'postgres', url: 'postgres://u:p@h/db', tables: ['public.*'], serverId: 7 };
    });
    expect(err.message).toContain('source.serverId: only applies when source.kind is mysql');
  });

  it('sink.schema on a mysql sink points to sink.database', () => {
    const err = configErrorOf((c) => {
      c.sink = { kind: 'mysql', url: 'mysql://u:p@h/db', schema: 'x' };
    });
    expect(err.message).toContain('sink.schema: only applies when sink.kind is postgres');
    expect(err.message).toContain('sink.database');
  });

  it('sink.consistency: transaction with source.transactions: false names both fields', () => {
    const err = configErrorOf((c) => {
      c.source['transactions'] = false;
      c.sink['consistency'] = 'transaction';
    });
    expect(err.issues.map((i) => i.path)).toEqual(['sink.consistency']);
    expect(err.message).toContain('source.transactions is false');
    expect(err.message).toContain('set source.transactions: true');
  });

  it('sink.consistency: transaction with source.transactions: true is valid', () => {
    const c = base();
    c.source['transactions'] = true;
    c.sink['consistency'] = 'transaction';
    expect(configFromObject(c, { env: ENV }).sink.consistency).toBe('transaction');
  });

  it('source.snapshotTransport: direct is refused with a redis sink, shards, transaction mode or failover, naming the fix', () => {
    const err = configErrorOf((c) => {
      c.source['snapshotTransport'] = 'direct';
      c.source['failover'] = true;
      c.sink['consistency'] = 'transaction';
    });
    expect(err.issues.map((i) => i.path)).toEqual(['source.snapshotTransport', 'source.snapshotTransport']);
    expect(err.message).toContain('direct applies with sink.consistency: row; set consistency: row');
    expect(err.message).toContain('remove source.failover, or use snapshotTransport: kafka');
    const redis = configErrorOf((c) => {
      c.source['snapshotTransport'] = 'direct';
      c.sink = { kind: 'redis', url: 'redis://127.0.0.1:6379' };
    });
    expect(redis.message).toContain('direct applies to postgres and mysql sinks');
  });

  it('source.snapshotTransport defaults to kafka; direct is valid with a SQL sink', () => {
    expect(configFromObject(base(), { env: ENV }).source.snapshotTransport).toBe('kafka');
    const c = base();
    c.source['snapshotTransport'] = 'direct';
    expect(configFromObject(c, { env: ENV }).source.snapshotTransport).toBe('direct');
    const bad = configErrorOf((x) => {
      x.source['snapshotTransport'] = 's3';
    });
    expect(bad.issues.map((i) => i.path)).toEqual(['source.snapshotTransport']);
  });

  it('a postgres URL without a database', () => {
    const err = configErrorOf((c) => {
      c.sink.url = 'postgres://ferry:pw@127.0.0.1:5432';
    });
    expect(err.message).toContain('sink.url: names no database');
  });

  it('a missing section reports its required fields by name', () => {
    const err = configErrorOf((c) => {
      Reflect.deleteProperty(c, 'sink');
    });
    expect(err.issues.map((i) => i.path)).toEqual(['sink.kind', 'sink.url']);
  });

  it('a number where a secret string is expected hides the value', () => {
    const err = configErrorOf((c) => {
      c.source.password = 123456789;
    });
    expect(err.message).toContain('source.password: expected a string');
    expect(err.message).toContain('hidden');
    expect(err.message).not.toContain('123456789');
  });

  it('several errors at once are all listed, one per line, with their lines', () => {
    const text = [
      'name: shop-move',
      'kafka:',
      '  brokers: []',
      '  partitions: 0',
      'source:',
      '  kind: oracle',
      '  url: mysql://u:p@h/db',
      '  tables: ["shop.*"]',
      'sink:',
      '  kind: postgres',
      '  url: postgres://u:p@h/db',
      '  batchsize: 10',
      '',
    ].join('\n');
    const err = errorOf(text) as ConfigValidationError;
    expect(err).toBeInstanceOf(ConfigValidationError);
    expect(err.path).toBe('');
    expect(err.issues.map((i) => i.path)).toEqual([
      'kafka.brokers',
      'kafka.partitions',
      'source.kind',
      'sink.batchsize',
    ]);
    expect(err.issues.map((i) => i.line)).toEqual([3, 4, 6, 12]);
    const lines = err.message.split('\n');
    expect(lines[0]).toBe('pipeline.yaml has 4 problems:');
    expect(lines).toHaveLength(5);
    expect(lines[1]).toContain('kafka.brokers: must list at least one entry');
    expect(lines[3]).toContain('source.kind: expected one of mysql, postgres, got "oracle" (pipeline.yaml:6)');
    expect(lines[4]).toContain('sink.batchsize: unknown field; did you mean sink.batchSize?');
  });

  it('a missing environment variable names the variable, the path and says to export it', () => {
    const err = errorOf(yamlOf(base()), { TARGET_PASSWORD: 'x' });
    expect(err).not.toBeInstanceOf(ConfigError);
    expect(err.code).toBe('FERRY_CONFIG_ENV');
    expect(err.message).toContain('SOURCE_PASSWORD');
    expect(err.message).toContain('source.url');
    expect(err.message).toContain('pipeline.yaml');
    expect(err.message).toContain('export SOURCE_PASSWORD=');
  });

  it('several missing environment variables are all named', () => {
    const err = errorOf(yamlOf(base()), {});
    expect(err.code).toBe('FERRY_CONFIG_ENV');
    expect(err.message).toContain('SOURCE_PASSWORD (used in source.url');
    expect(err.message).toContain('TARGET_PASSWORD (used in sink.url');
  });

  it('a malformed ${ reference', () => {
    const config = base();
    config.source.password = '${SOURCE PASSWORD}';
    const err = errorOf(yamlOf(config));
    expect(err.code).toBe('FERRY_CONFIG_INVALID');
    expect(err.message).toContain('source.password');
    expect(err.message).toContain('$${');
  });

  it('a YAML syntax error gives file, line and column', () => {
    const err = errorOf('name: shop-move\nkafka:\n  brokers: [127.0.0.1:9092\nsource: {}\n');
    expect(err.code).toBe('FERRY_CONFIG_FILE');
    expect(err.message).toContain('pipeline.yaml is not valid YAML');
    expect(err.message).toMatch(/line 4, column 1/);
    expect(err.details).toMatchObject({ file: 'pipeline.yaml', line: 4, column: 1 });
  });

  it('a duplicate key is a YAML error with its line', () => {
    const err = errorOf(`${yamlOf(base())}name: again\n`);
    expect(err.code).toBe('FERRY_CONFIG_FILE');
    expect(err.message).toContain('unique');
    expect(err.message).toMatch(/line \d+, column 1/);
  });

  it('an empty file', () => {
    const err = errorOf('# nothing here\n');
    expect(err.code).toBe('FERRY_CONFIG_INVALID');
    expect(err.message).toContain('the file is empty');
    expect(err.message).toContain('name, kafka, source and sink');
  });

  it('a file that is a list', () => {
    const err = errorOf('- name: x\n');
    expect(err.message).toContain('found a list');
  });

  it('a missing file says the path and to pass -c', () => {
    const path = join(tmpdir(), 'ferry-no-such-dir', 'pipeline.yaml');
    expect(() => loadConfig(path, ENV)).toThrow(FerryError);
    try {
      loadConfig(path, ENV);
    } catch (err) {
      expect((err as FerryError).code).toBe('FERRY_CONFIG_FILE');
      expect((err as Error).message).toContain(path);
      expect((err as Error).message).toContain('not found');
      expect((err as Error).message).toContain('-c <file>');
    }
  });

  it('a directory instead of a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-config-'));
    expect(() => loadConfig(dir, ENV)).toThrow(/is a directory/);
  });

  it('never echoes a URL password in an error', () => {
    const err = configErrorOf((c) => {
      c.kafka.brokers = 'postgres://u:hunter2@host:5432/db';
    });
    expect(err.message).not.toContain('hunter2');
  });
});

describe('good configs', () => {
  it('fills in every default', () => {
    const config = parseConfig(yamlOf(base()), { env: ENV });
    expect(config.name).toBe('shop-move');
    expect(config.kafka).toEqual({
      brokers: ['127.0.0.1:9092'],
      partitions: 6,
      replicationFactor: 1,
      clientId: 'ferry-shop-move',
      ssl: false,
      tombstones: true,
      compression: 'none',
      producerBatchEvents: 2000,
      producerBatchBytes: 900_000,
      consumerMaxBytes: 8 * 1024 * 1024,
      consumerMaxBytesPerPartition: 1024 * 1024,
      sessionTimeoutMs: 30_000,
    });
    expect(config.source).toMatchObject({
      kind: 'mysql',
      tables: ['shop.*'],
      exclude: [],
      excludeColumns: [],
      keyColumns: {},
      snapshot: 'initial',
      snapshotChunkSize: 2000,
      snapshotChunkBytes: 2 * 1024 * 1024,
      snapshotParallelism: 2,
      signalsIntervalMs: 2000,
      heartbeatIntervalMs: 10_000,
      queueSize: 4000,
      serverId: defaultServerId('shop-move'),
    });
    expect(config.sink).toMatchObject({
      kind: 'postgres',
      batchSize: 5000,
      lingerMs: 50,
      createTables: true,
      group: 'ferry-shop-move-sink',
      dlq: true,
      maxRetries: 10,
      schema: undefined,
    });
    expect(config.metrics).toEqual({ listen: '127.0.0.1:9464', enabled: true });
    expect(config.log).toEqual({ level: 'info', format: 'auto' });
  });

  it('interpolates environment variables after YAML parsing', () => {
    const config = parseConfig(yamlOf(base()), { env: { SOURCE_PASSWORD: 'a: b # c', TARGET_PASSWORD: "it's" } });
    expect(config.source.connection.password).toBe('a: b # c');
    expect(config.sink.connection.password).toBe("it's");
  });

  it('uses ${VAR:-default} and keeps $${ literal', () => {
    const config = base();
    config.kafka.brokers = '${KAFKA_BROKERS:-k1:9092,k2:9093}';
    config.kafka.partitions = '${PARTITIONS:-12}';
    config.sink.password = 'pa$${ss}';
    const parsed = parseConfig(yamlOf(config), { env: ENV });
    expect(parsed.kafka.brokers).toEqual(['k1:9092', 'k2:9093']);
    expect(parsed.kafka.partitions).toBe(12);
    expect(parsed.sink.password).toBe('pa${ss}');
    expect(parsed.sink.connection.password).toBe('pa${ss}');
  });

  it('decodes the user and password of a URL, and a password field overrides it', () => {
    const config = base();
    config.source.url = 'mysql://fer%40ry:p%40ss%3Aword@db.example:3307/shop?charset=utf8mb4';
    const parsed = parseConfig(yamlOf(config), { env: ENV });
    expect(parsed.source.connection).toEqual({
      host: 'db.example',
      port: 3307,
      user: 'fer@ry',
      password: 'p@ss:word',
      database: 'shop',
      params: { charset: 'utf8mb4' },
    });
    config.source.password = 'override';
    expect(parseConfig(yamlOf(config), { env: ENV }).source.connection.password).toBe('override');
  });

  it('a password with URL-special characters from the environment works inside the URL', () => {
    const parsed = parseConfig(yamlOf(base()), { env: { SOURCE_PASSWORD: 'a@b/c?d#e', TARGET_PASSWORD: 'x' } });
    expect(parsed.source.connection).toMatchObject({
      host: '127.0.0.1',
      user: 'ferry',
      password: 'a@b/c?d#e',
      database: 'shop',
    });
  });

  it('derives the PostgreSQL slot and publication from the name', () => {
    const config = base();
    config.name = 'shop-move-2';
    config.source = { kind: 'postgres', url: 'postgres://ferry:pw@127.0.0.1/shop', tables: ['public.*'] };
    const parsed = parseConfig(yamlOf(config), { env: ENV });
    expect(parsed.source.kind).toBe('postgres');
    if (parsed.source.kind !== 'postgres') return;
    expect(parsed.source.slot).toBe('ferry_shop_move_2');
    expect(parsed.source.publication).toBe('ferry_shop_move_2');
    expect(parsed.source.createPublication).toBe(true);
    expect(parsed.source.connection.port).toBe(5432);
    expect(defaultSlotName('a-b_c')).toBe('ferry_a_b_c');
  });

  it('derives a stable server id in range, different per name', () => {
    const a = defaultServerId('shop-move');
    expect(a).toBe(defaultServerId('shop-move'));
    expect(a).not.toBe(defaultServerId('shop-move-2'));
    expect(a).toBeGreaterThanOrEqual(100_000);
    expect(a).toBeLessThanOrEqual(2 ** 32 - 1);
  });

  it('accepts given kind-specific values and a mysql sink database', () => {
    const config = base();
    config.source.serverId = 4242;
    config.sink = { kind: 'mysql', url: 'mariadb://ferry:pw@127.0.0.1/reporting', database: 'reporting' };
    const parsed = parseConfig(yamlOf(config), { env: ENV });
    expect(parsed.source.kind === 'mysql' && parsed.source.serverId).toBe(4242);
    expect(parsed.sink.kind === 'mysql' && parsed.sink.database).toBe('reporting');
    expect(parsed.sink.connection.database).toBe('reporting');
    expect(targetNamespace(parsed, 'shop')).toBe('reporting');
  });

  it('puts tables in the namespace of the source by default', () => {
    const parsed = parseConfig(yamlOf(base()), { env: ENV });
    expect(targetNamespace(parsed, 'shop')).toBe('shop');
  });

  it('treats an empty section or key like a missing one', () => {
    const text = `${yamlOf(base())}metrics:\nlog:\n  level:\n`;
    const parsed = parseConfig(text, { env: ENV });
    expect(parsed.metrics.listen).toBe('127.0.0.1:9464');
    expect(parsed.log.level).toBe('info');
  });

  it('gives the table filter for the source connector', () => {
    const config = base();
    config.source.exclude = ['shop.tmp_*'];
    config.source.excludeColumns = ['shop.users.password_hash'];
    config.source.keyColumns = { 'shop.audit_log': ['id', 'ts'] };
    expect(tableFilterOf(parseConfig(yamlOf(config), { env: ENV }))).toEqual({
      include: ['shop.*'],
      exclude: ['shop.tmp_*'],
      excludeColumns: ['shop.users.password_hash'],
      keyColumns: { 'shop.audit_log': ['id', 'ts'] },
    });
  });

  it('validates an object built in code the same way', () => {
    expect(configFromObject(base(), { env: ENV }).sink.group).toBe('ferry-shop-move-sink');
    expect(() => configFromObject({ ...base(), name: 'Bad' }, { env: ENV })).toThrow(/^name: /);
  });

  it('loads a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-config-'));
    const path = join(dir, 'pipeline.yaml');
    writeFileSync(path, yamlOf(base()));
    expect(loadConfig(path, ENV).name).toBe('shop-move');
  });
});

describe('secretsOf', () => {
  it('returns every password: URL (decoded and as written), password fields and SASL', () => {
    const config = base();
    config.source.url = 'mysql://ferry:p%40ss@127.0.0.1:3306/shop';
    config.source.password = 'field-secret';
    config.kafka.sasl = { mechanism: 'scram-sha-512', username: 'ferry', password: 'sasl-secret' };
    const secrets = secretsOf(parseConfig(yamlOf(config), { env: ENV }));
    expect(secrets).toEqual(
      expect.arrayContaining(['field-secret', 'sasl-secret', 'p%40ss', 'p@ss', ENV.TARGET_PASSWORD]),
    );
    expect(secrets).not.toContain('');
    expect(secrets).not.toContain('ferry');
  });
});
