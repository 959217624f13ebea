/**
 * RedisSink: keeps every captured table's rows in Redis (docs/redis-sink.md), one key per row (a
 * hash, or a JSON string), optionally with a change stream per table. Each batch is ONE Lua
 * script (script.ts) that checks the fence, writes the rows, the stream entries and the
 * partition offsets together: exactly-once in effect, like the SQL sinks' one transaction.
 */
import {
  type CheckResult,
  FerryError,
  type Logger,
  type PartitionOffset,
  type Row,
  type SinkBatch,
  type SinkConnector,
  type SinkContext,
  type TableChanges,
  type TableSchema,
  tableName,
} from '../../src/api/index.js';
import { buildArgs, jsonKeysToRead, type MetaKeys } from './batch.js';
import { redisChecks } from './checks.js';
import { type RedisClient, redisClient } from './client.js';
import { isPartial, rowKey } from './encode.js';
import { classifyRedisError } from './errors.js';
import { metaPrefix, planTable, type RedisSinkOptions, type TablePlan } from './options.js';
import { APPLY_SCRIPT, APPLY_SCRIPT_SHA, parsePartitionField } from './script.js';

const versionKey = (s: TableSchema): string => `${s.db}\u0000${s.table}\u0000${s.version}`;

export class RedisSink implements SinkConnector {
  readonly kind = 'redis' as const;
  readonly keepsChanges: boolean;
  private readonly opts: RedisSinkOptions;
  private client: RedisClient | null = null;
  private connected = false;
  private ctx: SinkContext | null = null;
  private logger: Logger | null = null;
  private meta: MetaKeys | null = null;
  private readonly plans = new Map<string, TablePlan>();

  constructor(opts: RedisSinkOptions) {
    this.opts = opts;
    this.keepsChanges = opts.streams === true || Object.values(opts.tables ?? {}).some((t) => t.streams === true);
  }

  async start(ctx: SinkContext): Promise<void> {
    this.ctx = ctx;
    this.logger = ctx.logger.child({ component: 'redis-sink' });
    const prefix = metaPrefix(this.opts, ctx.pipeline);
    this.meta = {
      offsets: `${prefix}offsets:${ctx.group}`,
      barriers: `${prefix}barriers:${ctx.group}`,
      epochs: `${prefix}epochs:${ctx.group}`,
    };
    await this.close();
    const client = await redisClient(this.opts, () => this.connected);
    client.on('error', (err: Error) => this.logger?.debug('redis connection error', { error: err.message }));
    client.on('ready', () => {
      this.connected = true;
    });
    try {
      await client.connect();
      await client.ping();
    } catch (err) {
      client.destroy();
      throw classifyRedisError(err, 'cannot connect to the target Redis');
    }
    this.client = client;
  }

  async ensureTable(schema: TableSchema): Promise<void> {
    const k = versionKey(schema);
    if (this.plans.has(k)) return;
    if (schema.primaryKey.length === 0) {
      throw new FerryError(
        'FERRY_SCHEMA',
        `${tableName(schema)} has no primary key: a Redis row key is made of key columns; set keyColumns for it`,
      );
    }
    this.plans.set(k, planTable(this.opts, this.requireCtx().pipeline, schema, schema.primaryKey));
  }

  async readOffsets(topics: string[]): Promise<PartitionOffset[]> {
    if (topics.length === 0) return [];
    const client = this.requireClient();
    const meta = this.meta!;
    let offsets: Record<string, string>;
    let barriers: Record<string, string>;
    let epochs: Record<string, string>;
    try {
      [offsets, barriers, epochs] = await Promise.all([
        client.hGetAll(meta.offsets),
        client.hGetAll(meta.barriers),
        client.hGetAll(meta.epochs),
      ]);
    } catch (err) {
      throw classifyRedisError(err, 'reading the stored offsets');
    }
    const wanted = new Set(topics);
    const out: PartitionOffset[] = [];
    for (const [field, next] of Object.entries(offsets)) {
      const tp = parsePartitionField(field);
      if (!tp || !wanted.has(tp.topic)) continue;
      const epoch = epochs[field];
      out.push({
        ...tp,
        nextOffset: next,
        truncateBarrier: barriers[field] ?? null,
        leaderEpoch: epoch === undefined ? null : Number(epoch),
      });
    }
    return out;
  }

  async apply(batch: SinkBatch): Promise<void> {
    const client = this.requireClient();
    const planOf = (t: TableChanges): TablePlan => {
      const plan = this.plans.get(versionKey(t.schema));
      if (!plan) throw new FerryError('FERRY_INTERNAL', `apply() before ensureTable() for ${tableName(t.schema)}`);
      return plan;
    };
    const toRead = jsonKeysToRead(batch, planOf);
    const stored = new Map<string, string | null>();
    if (toRead.length > 0) {
      let values: Array<string | null>;
      try {
        values = (await client.sendCommand(['MGET', ...toRead])) as Array<string | null>;
      } catch (err) {
        throw classifyRedisError(err, 'reading stored JSON rows');
      }
      for (let i = 0; i < toRead.length; i++) stored.set(toRead[i]!, values[i] ?? null);
    }
    const complete = batch.repair ? await this.withoutMissingRows(client, batch, planOf, stored) : batch;
    const args = buildArgs({
      batch: complete,
      meta: this.meta!,
      planOf,
      stored,
      streamMaxLen: this.opts.streamMaxLen ?? 100_000,
    });
    try {
      await this.runScript(client, args);
    } catch (err) {
      throw classifyRedisError(err, 'applying a batch', (key) => tableOfKey(batch, planOf, key));
    }
  }

  /**
   * Partial rows (UNCHANGED columns) for rows Redis does not hold: their values are only at the
   * source. They are left out of the batch and the source is asked to read them again (the full
   * rows follow in the topic; docs/snapshots.md#repair), instead of being dead-lettered.
   */
  private async withoutMissingRows(
    client: RedisClient,
    batch: SinkBatch,
    planOf: (t: TableChanges) => TablePlan,
    stored: Map<string, string | null>,
  ): Promise<SinkBatch> {
    let changed = false;
    const tables: TableChanges[] = [];
    for (const t of batch.tables) {
      const plan = planOf(t);
      const missing: Row[] = [];
      for (const row of t.upserts) {
        if (!isPartial(t.schema, row)) continue;
        const key = rowKey(plan, row);
        let held: boolean;
        if (key === null) continue; // no key value: the batch builder reports it as a data error
        if (t.truncate) held = false;
        else if (plan.format === 'json') held = (stored.get(key) ?? null) !== null;
        else {
          try {
            held = Number(await client.sendCommand(['EXISTS', key])) > 0;
          } catch (err) {
            throw classifyRedisError(err, 'reading stored rows');
          }
        }
        if (!held) missing.push(row);
      }
      if (missing.length === 0) {
        tables.push(t);
        continue;
      }
      changed = true;
      await batch.repair!(
        t.schema,
        missing.map((r) => Object.fromEntries(t.schema.primaryKey.map((k) => [k, r[k] ?? null]))),
      );
      this.ctx?.logger.warn('rows updated at the source are missing in Redis; asked the source to read them again', {
        table: tableName(t.schema),
        rows: missing.length,
      });
      // Their changes are not applied, so not streamed either (the re-read row is, as `r`).
      const keyText = (r: Row | null) => (r ? JSON.stringify(t.schema.primaryKey.map((k) => r[k] ?? null)) : '');
      const skipped = new Set(missing.map(keyText));
      const changes = t.changes?.filter(
        (c) => !(c.op === 'u' && isPartial(t.schema, c.after!) && skipped.has(keyText(c.after))),
      );
      tables.push({
        ...t,
        upserts: t.upserts.filter((r) => !missing.includes(r)),
        ...(changes ? { changes } : {}),
      });
    }
    return changed ? { ...batch, tables } : batch;
  }

  /** `ferry validate`: version, writable, persistence, eviction policy. */
  checks(): Promise<CheckResult[]> {
    return redisChecks(this.requireClient(), `${metaPrefix(this.opts, this.requireCtx().pipeline)}validate-probe`);
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    this.connected = false;
    if (!client) return;
    try {
      if (client.isOpen) await client.close();
    } catch {
      client.destroy();
    }
  }

  private async runScript(client: RedisClient, args: string[]): Promise<void> {
    try {
      await client.sendCommand(['EVALSHA', APPLY_SCRIPT_SHA, '0', ...args]);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      await client.sendCommand(['EVAL', APPLY_SCRIPT, '0', ...args]);
    }
  }

  private requireCtx(): SinkContext {
    if (!this.ctx) throw new FerryError('FERRY_INTERNAL', 'RedisSink used before start()');
    return this.ctx;
  }

  private requireClient(): RedisClient {
    this.requireCtx();
    if (!this.client) {
      throw new FerryError('FERRY_CONNECTION', 'the Redis connection is closed; reconnecting', { retriable: true });
    }
    return this.client;
  }
}

function tableOfKey(batch: SinkBatch, planOf: (t: TableChanges) => TablePlan, key: string): string {
  for (const t of batch.tables) {
    for (const row of t.upserts)
      if (isPartial(t.schema, row) && rowKey(planOf(t), row) === key) return tableName(t.schema);
  }
  return 'a table';
}
