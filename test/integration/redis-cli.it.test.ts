// biome-ignore-all lint/suspicious/noTemplateCurlyInString: pipeline configs use the ${VAR} syntax.
/**
 * MariaDB -> Redis end to end with the ferry command and config/examples/mariadb-to-redis.yaml
 * (only addresses and names replaced): `ferry validate` checks the Redis target, `ferry run`
 * snapshots the shop and streams an application's writes (inserts, updates, deletes, key
 * changes) into hashes, JSON rows and a change stream, and `ferry verify` proves the stored rows
 * equal the source (exit 0), then names a key that differs (exit 1).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/sandbox/index.js';
import {
  createSourceShop,
  dropSourceDatabase,
  ensureCliBuilt,
  eventually,
  freePort,
  runFerry,
  startFerry,
  startWriter,
  testDir,
  writeConfig,
} from '../helpers/cli.js';
import { redisTestClient, type TestRedis } from '../helpers/redis.js';
import { getSandbox, uniqueName } from '../helpers/sandbox.js';

const name = uniqueName('cli_redis').replace(/_/g, '-');
const db = name.replace(/-/g, '_');
let file = '';
let redis: TestRedis;

function exampleForSandbox(metricsPort: number): string {
  const s = getSandbox();
  let text = readFileSync(join(projectRoot(), 'config', 'examples', 'mariadb-to-redis.yaml'), 'utf8');
  const replace = (from: string | RegExp, to: string) => {
    const found = typeof from === 'string' ? text.includes(from) : from.test(text);
    if (!found) throw new Error(`config/examples/mariadb-to-redis.yaml changed: ${String(from)} not found`);
    text = typeof from === 'string' ? text.split(from).join(to) : text.replace(from, to);
  };
  replace(/^name: shop-cache$/m, `name: ${name}`);
  replace(/^ {2}brokers: .*$/m, `  brokers: ${JSON.stringify(s.kafka.brokers)}`);
  replace(
    'mysql://ferry:${SOURCE_PASSWORD}@127.0.0.1:3306/shop',
    `mysql://${s.mysql.user}:\${SOURCE_PASSWORD}@${s.mysql.host}:${s.mysql.port}/${db}`,
  );
  replace(
    'redis://:${TARGET_PASSWORD}@127.0.0.1:6379/0',
    `redis://:\${TARGET_PASSWORD}@${s.redis.host}:${s.redis.port}/0`,
  );
  replace('"shop.', `"${db}.`);
  replace('shop.customers:', `${db}.customers:`);
  replace('shop.orders:', `${db}.orders:`);
  replace('listen: 127.0.0.1:9464', `listen: 127.0.0.1:${metricsPort}`);
  return text;
}

const env = () => ({ SOURCE_PASSWORD: getSandbox().mysql.password, TARGET_PASSWORD: getSandbox().redis.password });

beforeAll(async () => {
  ensureCliBuilt();
  await createSourceShop(db, 20, 150);
  file = writeConfig(testDir(name), name, exampleForSandbox(await freePort()));
  redis = await redisTestClient();
}, 300_000);

afterAll(async () => {
  await redis?.close();
  await dropSourceDatabase(db);
});

describe('ferry with a Redis target', () => {
  it('validate checks the Redis target', async () => {
    const res = await runFerry(['validate', '-c', file], env());
    expect(res.stderr).toBe('');
    const out = res.stdout.split('\n').map((l) => l.trim());
    expect(out.some((l) => l.startsWith('✓ target reachable and writable (redis '))).toBe(true);
    for (const check of ['✓ Redis version', '✓ writable', '✓ persistence', '✓ eviction policy']) {
      expect(
        out.some((l) => l.startsWith(check)),
        check,
      ).toBe(true);
    }
    expect(res.code).toBe(0);
    expect(res.stdout).not.toContain(getSandbox().redis.password);
  });

  it('run: snapshot and live writes land in Redis; verify proves it, then names a differing key', async () => {
    const run = startFerry(['run', '-c', file], env());
    try {
      await run.waitForOutput(/snapshot/i, 120_000);
      const writer = await startWriter(db, 5);
      await new Promise((r) => setTimeout(r, 4000));
      const transactions = await writer.stop();
      expect(transactions).toBeGreaterThan(20);
      const verified = await eventually(
        'ferry verify to find Redis equal to the source',
        async () => {
          const res = await runFerry(['verify', '-c', file, '--rechecks', '0'], env(), 120_000);
          return res.code === 0 ? res : undefined;
        },
        120_000,
        2000,
      );
      expect(verified.stdout).toContain(`${db}.orders`);
      expect(verified.stdout).toContain(`${db}.customers`);
      // The example's key template and format: customers as JSON under customer:<id>, without the excluded column.
      const customer = JSON.parse((await redis.get('customer:1'))!) as Record<string, unknown>;
      expect(customer['id']).toBe(1);
      expect(customer).not.toHaveProperty('password_hash');
      const orderKey = (await redis.sRandMember(`ferry:${name}:keys:${db}.orders`))!;
      const orderId = orderKey.split(':').pop()!;
      expect(orderKey).toBe(`${db}.orders:${orderId}`);
      expect((await redis.hGetAll(orderKey))['id']).toBe(orderId);
      expect(await redis.xLen(`${db}.orders.changes`)).toBeGreaterThan(150);
      await redis.hSet(orderKey, 'total', '-1.00');
      const bad = await runFerry(['verify', '-c', file, '--rechecks', '0'], env(), 120_000);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toContain(`"id":${orderId}`);
      expect(bad.stdout).toContain('total');
    } finally {
      const res = await run.stop('SIGTERM');
      expect(res.stdout + res.stderr).not.toContain(getSandbox().redis.password);
    }
  });
});
