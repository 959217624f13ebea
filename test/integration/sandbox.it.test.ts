import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { readSandboxInfo, startServer, stopServer } from '../../src/sandbox/index.js';
import { getSandbox, kafkaClient, mysqlFerry, pgFerry, pgSuper, sandboxDir, uniqueName } from '../helpers/sandbox.js';

describe('sandbox', () => {
  it('Kafka: produces and consumes a message', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('sandbox-it');
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    } finally {
      await admin.disconnect();
    }

    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key: 'k1', value: 'hello ferry' }] });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: uniqueName('sandbox-it-group') });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      const received = new Promise<{ key: string; value: string }>((resolve) => {
        void consumer.run({
          eachMessage: async ({ message }) => resolve({ key: String(message.key), value: String(message.value) }),
        });
      });
      await expect(received).resolves.toEqual({ key: 'k1', value: 'hello ferry' });
    } finally {
      await consumer.disconnect();
    }
  });

  it('PostgreSQL: wal_level is logical for the ferry role', async () => {
    const client = await pgFerry();
    try {
      const { rows } = await client.query<{ wal_level: string }>('SHOW wal_level');
      expect(rows[0]?.wal_level).toBe('logical');
      const role = await client.query<{ rolreplication: boolean; rolcreatedb: boolean }>(
        'SELECT rolreplication, rolcreatedb FROM pg_roles WHERE rolname = current_user',
      );
      expect(role.rows[0]).toEqual({ rolreplication: true, rolcreatedb: true });
    } finally {
      await client.end();
    }
  });

  it('MariaDB: binlog settings for CDC, readable by the ferry user', async () => {
    const conn = await mysqlFerry();
    try {
      const [rows] = await conn.query(
        'SELECT @@binlog_format AS format, @@binlog_row_metadata AS metadata, @@binlog_row_image AS image, @@log_bin AS logBin',
      );
      expect((rows as Array<Record<string, unknown>>)[0]).toEqual({
        format: 'ROW',
        metadata: 'FULL',
        image: 'FULL',
        logBin: 1,
      });
      const [status] = await conn.query('SHOW MASTER STATUS');
      expect((status as Array<{ File: string }>)[0]?.File).toMatch(/^binlog\.\d+$/);
      const [logs] = await conn.query('SHOW BINARY LOGS');
      expect((logs as unknown[]).length).toBeGreaterThan(0);
    } finally {
      await conn.end();
    }
  });

  it('PostgreSQL: stopServer + startServer keep the rows and the port', async () => {
    const table = uniqueName('sandbox_restart');
    const before = getSandbox().postgres.port;
    let client = await pgSuper();
    try {
      await client.query(`CREATE TABLE ${table} (id int PRIMARY KEY, name text)`);
      await client.query(`INSERT INTO ${table} VALUES (1, 'one'), (2, 'two')`);
    } finally {
      await client.end();
    }

    await stopServer('postgres', { dir: sandboxDir() });
    expect(readSandboxInfo(sandboxDir()).sandbox.servers.postgres.pid).toBeNull();
    await expect(pgSuper()).rejects.toThrow();

    const info = await startServer('postgres', { dir: sandboxDir() });
    expect(info.postgres.port).toBe(before);
    client = await pgSuper();
    try {
      const { rows } = await client.query(`SELECT id, name FROM ${table} ORDER BY id`);
      expect(rows).toEqual([
        { id: 1, name: 'one' },
        { id: 2, name: 'two' },
      ]);
      await client.query(`DROP TABLE ${table}`);
    } finally {
      await client.end();
    }
  });
});
