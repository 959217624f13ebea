import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// docker-compose.yml is for users who have Docker; no engine runs here, so its shape is checked.
interface Service {
  image: string;
  command?: string[];
  environment?: Record<string, string | number>;
  ports?: string[];
}
const compose = parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8')) as {
  services: Record<string, Service>;
};

describe('docker-compose.yml', () => {
  it('has mysql, postgres, kafka and redis services', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['kafka', 'mysql', 'postgres', 'redis']);
  });

  it('runs Redis 7 with AOF on and a password', () => {
    const redis = compose.services['redis']!;
    expect(redis.image).toMatch(/^redis:7/);
    const cmd = redis.command ?? [];
    expect(cmd[cmd.indexOf('--appendonly') + 1]).toBe('yes');
    expect(cmd).toContain('--requirepass');
    expect(redis.ports).toContain('127.0.0.1:6379:6379');
  });

  it('runs MySQL 8 with a ROW binlog, full row images and metadata, and GTIDs', () => {
    const mysql = compose.services['mysql']!;
    expect(mysql.image).toMatch(/^mysql:8/);
    const cmd = mysql.command ?? [];
    for (const flag of [
      '--binlog-format=ROW',
      '--binlog-row-image=FULL',
      '--binlog-row-metadata=FULL',
      '--gtid-mode=ON',
      '--enforce-gtid-consistency=ON',
    ]) {
      expect(cmd).toContain(flag);
    }
    expect(cmd.some((c) => c.startsWith('--log-bin'))).toBe(true);
    expect(cmd.some((c) => /^--server-id=[1-9]/.test(c))).toBe(true);
  });

  it('runs PostgreSQL 16 with wal_level=logical', () => {
    const pg = compose.services['postgres']!;
    expect(pg.image).toMatch(/^postgres:16/);
    const cmd = pg.command ?? [];
    const i = cmd.indexOf('wal_level=logical');
    expect(i).toBeGreaterThan(0);
    expect(cmd[i - 1]).toBe('-c');
  });

  it('runs Kafka in KRaft mode (broker and controller), advertised on the published port', () => {
    const kafka = compose.services['kafka']!;
    expect(kafka.image).toMatch(/^apache\/kafka:3\./);
    const env = kafka.environment ?? {};
    expect(env['KAFKA_PROCESS_ROLES']).toBe('broker,controller');
    expect(String(env['KAFKA_CONTROLLER_QUORUM_VOTERS'])).toMatch(/^1@/);
    expect(env['KAFKA_ADVERTISED_LISTENERS']).toBe('PLAINTEXT://127.0.0.1:9092');
    expect(kafka.ports).toContain('127.0.0.1:9092:9092');
    expect(Number(env['KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR'])).toBe(1);
  });

  it('publishes every port on loopback only', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const p of svc.ports ?? []) expect(p, `${name} port ${p}`).toMatch(/^127\.0\.0\.1:/);
    }
  });
});
