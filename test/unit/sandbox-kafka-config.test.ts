import { describe, expect, it } from 'vitest';
import {
  propertiesValue,
  renderLog4j2Properties,
  renderLog4jProperties,
  renderServerProperties,
} from '../../src/sandbox/kafka-config.js';
import { isKafka4, kafkaVersion } from '../../src/sandbox/kafka-libs.js';
import { CLUSTER_ID_PATTERN, kafkaClusterId, randomPassword } from '../../src/sandbox/random.js';

function parse(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.indexOf('=');
    expect(map.has(line.slice(0, i)), `duplicate key ${line.slice(0, i)}`).toBe(false);
    map.set(line.slice(0, i), line.slice(i + 1));
  }
  return map;
}

describe('renderServerProperties', () => {
  const props = parse(
    renderServerProperties({
      nodeId: 1,
      host: '127.0.0.1',
      port: 40001,
      controllerPort: 40002,
      dataDir: '/tmp/x/kafka/data',
    }),
  );

  it('configures a single-node KRaft broker+controller on 127.0.0.1', () => {
    expect(props.get('process.roles')).toBe('broker,controller');
    expect(props.get('node.id')).toBe('1');
    expect(props.get('controller.quorum.voters')).toBe('1@127.0.0.1:40002');
    expect(props.get('controller.listener.names')).toBe('CONTROLLER');
    expect(props.get('listeners')).toBe('PLAINTEXT://127.0.0.1:40001,CONTROLLER://127.0.0.1:40002');
    expect(props.get('advertised.listeners')).toBe('PLAINTEXT://127.0.0.1:40001');
    expect(props.get('listener.security.protocol.map')).toContain('CONTROLLER:PLAINTEXT');
    expect(props.get('log.dirs')).toBe('/tmp/x/kafka/data');
  });

  it('sizes internal topics for one broker and keeps the cleaner on', () => {
    expect(props.get('offsets.topic.replication.factor')).toBe('1');
    expect(props.get('transaction.state.log.replication.factor')).toBe('1');
    expect(props.get('transaction.state.log.min.isr')).toBe('1');
    expect(props.get('offsets.topic.num.partitions')).toBe('4');
    expect(props.get('group.initial.rebalance.delay.ms')).toBe('0');
    expect(props.get('auto.create.topics.enable')).toBe('false');
    expect(props.get('log.cleaner.enable')).toBe('true');
    expect(Number(props.get('log.cleaner.dedupe.buffer.size'))).toBeLessThanOrEqual(16 * 1024 * 1024);
  });

  it('escapes backslashes and newlines in values', () => {
    expect(propertiesValue('C:\\kafka\nx')).toBe('C:\\\\kafka\\nx');
  });

  it('sends reload4j output to the given file', () => {
    const log4j = parse(renderLog4jProperties('/tmp/x/logs/kafka.log'));
    expect(log4j.get('log4j.rootLogger')).toBe('INFO, file');
    expect(log4j.get('log4j.appender.file.File')).toBe('/tmp/x/logs/kafka.log');
  });
});

describe('Kafka version (FERRY_KAFKA_VERSION)', () => {
  it('is 3.9.1 by default, 4.1.1 on request, and refuses others with the choices', () => {
    expect(kafkaVersion({})).toBe('3.9.1');
    expect(kafkaVersion({ FERRY_KAFKA_VERSION: '' })).toBe('3.9.1');
    expect(kafkaVersion({ FERRY_KAFKA_VERSION: '4.1.1' })).toBe('4.1.1');
    expect(() => kafkaVersion({ FERRY_KAFKA_VERSION: '2.8.0' })).toThrow(/3\.9\.1, 4\.1\.1/);
    expect(isKafka4('4.1.1')).toBe(true);
    expect(isKafka4('3.9.1')).toBe(false);
  });

  it('sends log4j2 output (Kafka 4) to the given file', () => {
    const log4j2 = parse(renderLog4j2Properties('/tmp/x/logs/kafka.log'));
    expect(log4j2.get('appender.file.fileName')).toBe('/tmp/x/logs/kafka.log');
    expect(log4j2.get('rootLogger.appenderRef.file.ref')).toBe('file');
  });
});

describe('random values', () => {
  it('makes Kafka cluster ids of 16 bytes base64url without padding', () => {
    for (let i = 0; i < 200; i++) {
      const id = kafkaClusterId();
      expect(id).toMatch(CLUSTER_ID_PATTERN);
      expect(Buffer.from(id, 'base64url')).toHaveLength(16);
      expect(id.startsWith('-')).toBe(false);
    }
  });

  it('makes URL-safe passwords that are not options', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const pw = randomPassword();
      expect(pw).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{23}$/);
      seen.add(pw);
    }
    expect(seen.size).toBe(200);
  });
});
