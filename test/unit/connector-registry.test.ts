import { describe, expect, it } from 'vitest';
import { SINK_CONNECTORS, SOURCE_CONNECTORS } from '../../connectors/registry.js';
import { SINK_KINDS, SOURCE_KINDS } from '../../src/config/index.js';
import { sinkDescriptor, sourceDescriptor } from '../../src/pipeline/connectors.js';
import { createSinkConnector } from '../../src/runtime/sink/connectors.js';

describe('connector registry', () => {
  it('registers one connector for every kind the config schema accepts, and no other', () => {
    expect(SOURCE_CONNECTORS.map((d) => d.kind).sort()).toEqual([...SOURCE_KINDS].sort());
    expect(SINK_CONNECTORS.map((d) => d.kind).sort()).toEqual([...SINK_KINDS].sort());
    for (const d of SOURCE_CONNECTORS) expect(d.role).toBe('source');
    for (const d of SINK_CONNECTORS) expect(d.role).toBe('sink');
  });

  it('builds the connector of a resolved section by its kind', () => {
    const connection = { host: '127.0.0.1', port: 5432, user: 'ferry', database: 'shop' };
    const source = sourceDescriptor('postgres').fromConfig({
      kind: 'postgres',
      connection,
      createPublication: true,
      heartbeatIntervalMs: 10_000,
    } as never);
    expect(source.kind).toBe('postgresql');
    const sink = sinkDescriptor('mysql').fromConfig({ kind: 'mysql', connection, createTables: true } as never);
    expect(sink.constructor.name).toBe('MySqlSink');
    expect(createSinkConnector({ kind: 'postgres', ...connection }).constructor.name).toBe('PostgresSink');
  });

  it('names the known kinds when a kind is not registered', () => {
    expect(() => sourceDescriptor('oracle')).toThrow('unknown source.kind "oracle"; expected one of mysql, postgres');
    expect(() => sinkDescriptor('mongodb')).toThrow('expected one of postgres, mysql, redis');
  });
});
