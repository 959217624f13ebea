/**
 * The sandbox's Redis in tests: sink target options, a client, reading back what the Redis sink
 * stored for a table, the canonical form it must equal (docs/redis-sink.md#values), and verify.
 */
import { createClient } from 'redis';
import type { RedisSinkOptions } from '../../connectors/redis-sink/index.js';
import type { JsonValue, Row, TableSchema } from '../../src/api/index.js';
import type { SinkTargetOptions } from '../../src/runtime/sink/connectors.js';
import { verifyRedis } from '../../src/verify/redis.js';
import type { VerifyReport } from '../../src/verify/types.js';
import { type DbConn, readTable } from './compare.js';
import { getSandbox } from './sandbox.js';
import { sandboxVerifyEndpoints } from './verify.js';

export type TestRedis = Awaited<ReturnType<typeof redisTestClient>>;

/** Redis sink options for the sandbox's Redis (its URL carries the password). */
export function redisTarget(extra: Partial<RedisSinkOptions> = {}): SinkTargetOptions & { kind: 'redis' } {
  return { kind: 'redis', url: getSandbox().redis.url, ...extra };
}

export async function redisTestClient() {
  const client = createClient({ url: getSandbox().redis.url });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** A canonical value as a hash field, written out independently of the sink: strings as is, the rest as JSON text. */
export function expectedField(v: JsonValue): string | undefined {
  if (v === null) return undefined;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** The hash a canonical row must be stored as (NULL columns absent). */
export function expectedHash(schema: TableSchema, row: Row): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of schema.columns) {
    const f = expectedField(row[c.name] ?? null);
    if (f !== undefined) out[c.name] = f;
  }
  return out;
}

/** The default row key of a single-column-key row: `<db>.<table>:<value>` (`:` and `\` escaped). */
export function defaultKey(schema: TableSchema, row: Row): string {
  const parts = schema.primaryKey.map((k) => expectedField(row[k] ?? null)!.replace(/[\\:]/g, (c) => `\\${c}`));
  return `${schema.db}.${schema.table}:${parts.join(':')}`;
}

/** The source table's canonical rows, each with the Redis key it must have. */
export async function sourceRows(db: DbConn, schema: TableSchema): Promise<Array<{ key: string; row: Row }>> {
  const rows = await readTable(db, schema.db, schema.table, schema);
  return [...rows.values()].map((row) => ({ key: defaultKey(schema, row), row }));
}

/** Every key of the table's index set (what truncate would delete). */
export async function indexedKeys(client: TestRedis, pipeline: string, schema: TableSchema): Promise<string[]> {
  return (await client.sMembers(`ferry:${pipeline}:keys:${schema.db}.${schema.table}`)).sort();
}

/** `ferry verify` of one table against the sandbox Redis (no re-checks: the sink caught up already). */
export function verifyRedisTable(
  engine: 'mysql' | 'postgres',
  pipeline: string,
  schema: TableSchema,
  redis: Partial<RedisSinkOptions> = {},
): Promise<VerifyReport> {
  return verifyRedis({
    source: sandboxVerifyEndpoints()[engine],
    redis: { url: getSandbox().redis.url, ...redis },
    pipeline,
    tables: [{ source: { db: schema.db, table: schema.table }, target: { db: schema.db, table: schema.table } }],
    recheck: { attempts: 0 },
    publishedSchema: async () => schema,
  });
}
