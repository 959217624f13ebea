// biome-ignore-all lint/suspicious/noTemplateCurlyInString: this file is about the ${VAR} syntax of pipeline configs.
/**
 * The pipeline configuration schema: the ONE place that says which fields exist, their types,
 * defaults, allowed values, descriptions, examples and which are secret. Validation
 * (src/config/load.ts), the field reference (docs/configuration.md via src/config/docs.ts) and
 * secret collection (src/config/secrets.ts) are all derived from it.
 *
 * Rules that need two fields at once (URL scheme against kind, kind-specific fields) live in
 * src/config/checks.ts; defaults derived from `name` are filled in by src/config/resolve.ts and
 * described here in `defaultText`.
 */
import * as z from 'zod';
import { LOG_FORMATS, LOG_LEVELS } from '../log/logger.js';
import { boolean, type FieldMeta, field, fieldMeta, integer, isHostPort, nonEmpty } from './schema-field.js';
import { COMPRESSIONS, kafkaSchema, SASL_MECHANISMS } from './schema-kafka.js';
import { memorySchema } from './schema-memory.js';
import { redisSinkSchema } from './schema-redis.js';
import {
  SNAPSHOT_MODES,
  SOURCE_KINDS,
  SOURCE_TRANSACTIONS_DEFAULT,
  type SourceKind,
  sourceSchema,
  tablePattern,
} from './schema-source.js';
import { tlsSchema } from './schema-tls.js';

export {
  COMPRESSIONS,
  type FieldMeta,
  fieldMeta,
  isHostPort,
  SASL_MECHANISMS,
  SNAPSHOT_MODES,
  SOURCE_KINDS,
  SOURCE_TRANSACTIONS_DEFAULT,
  type SourceKind,
};

export const PIPELINE_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,47}$/;
export const SINK_KINDS = ['postgres', 'mysql', 'redis'] as const;
export type SinkKind = (typeof SINK_KINDS)[number];

export const ROUTING_RULES = ['hash', 'ring'] as const;
export const TABLE_ROUTING_RULES = ['hash', 'ring', 'broadcast'] as const;

const shardSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/, {
    error: 'use only letters, digits, "_" and "-", at most 63 characters',
  }),
  url: nonEmpty(),
});

const routingSchema = z.strictObject({
  rule: field(z.enum(ROUTING_RULES).default('hash'), {
    description:
      'Rule of every table `sink.routing.tables` does not name. `hash`: SHA-256 of the key modulo the shard ' +
      'count (changing the count moves most keys). `ring`: consistent hashing over the shard names, so adding ' +
      'a shard moves only about 1/N of the keys.',
    example: 'ring',
  }),
  vnodes: field(integer(1, 65_536).default(256), {
    description: 'Points each shard owns on the `ring`; more points spread keys more evenly.',
    example: 512,
  }),
  tables: field(z.record(tablePattern(), z.enum(TABLE_ROUTING_RULES)).default({}), {
    description:
      'Per-table rules: `db.table` pattern (source names, as in `source.tables`) -> `hash`, `ring` or ' +
      '`broadcast` (every shard holds every row: small reference tables). The first matching pattern wins.',
    example: { 'shop.countries': 'broadcast' },
  }),
});

const sinkSchema = z.strictObject({
  kind: field(z.enum(SINK_KINDS), {
    description: 'Target engine: `postgres`, `mysql` (MySQL or MariaDB) or `redis`.',
    example: 'postgres',
  }),
  url: field(nonEmpty().optional(), {
    description:
      'Connection URL of the target database, same form as `source.url`; the scheme must match `sink.kind`. ' +
      'Query parameters are passed to the driver. Required unless `sink.shards` names the targets.',
    example: 'postgres://ferry:${TARGET_PASSWORD}@127.0.0.1:5432/shop',
    secretPart: 'the password in the URL',
  }),
  password: field(z.string().optional(), {
    description: 'Target password; overrides the one in `sink.url`.',
    example: '${TARGET_PASSWORD}',
    secret: true,
  }),
  shards: field(z.array(shardSchema).min(2).optional(), {
    description:
      'Several target databases of the same kind, each holding a share of every table (docs/sharding.md): ' +
      'a list of `{name, url}`. `name` (letters, digits, `_`, `-`; unique) labels the shard in logs, metrics, ' +
      'status and verify, and places it on the `ring`; `url` is like `sink.url` (`sink.password`, when set, ' +
      'is used for every shard). Each shard keeps its own `ferry_offsets`. Instead of `sink.url`.',
    example: [
      { name: 's1', url: 'postgres://ferry:${TARGET_PASSWORD}@10.0.0.1:5432/shop' },
      { name: 's2', url: 'postgres://ferry:${TARGET_PASSWORD}@10.0.0.2:5432/shop' },
    ],
    onlyFor: 'sink.kind: postgres or mysql',
  }),
  routing: field(routingSchema.optional(), {
    description: 'Which shard holds a row, per table (docs/sharding.md). Only with `sink.shards`.',
  }),
  tls: field(tlsSchema.optional(), {
    description:
      'TLS to the target (docs/security.md), same fields as `source.tls`. Left out: plaintext, unless `sslmode` ' +
      'in a postgres URL or a `rediss://` URL asks for TLS.',
    example: { mode: 'verify-full', ca: '/etc/ferry/ca.pem' },
  }),
  schema: field(nonEmpty().optional(), {
    description:
      'PostgreSQL schema that receives every table. Without it, each table goes to the schema named like its ' +
      'source database (MySQL) or source schema (PostgreSQL): `shop.orders` becomes `shop.orders` in the ' +
      'database of `sink.url`.',
    defaultText: "the source table's database or schema name",
    example: 'public',
    onlyFor: 'sink.kind: postgres',
  }),
  database: field(nonEmpty().optional(), {
    description:
      'MySQL database that receives every table. Without it, each table goes to the database named like its ' +
      'source database or schema (`public.orders` becomes `public.orders`).',
    defaultText: "the source table's database or schema name",
    example: 'shop',
    onlyFor: 'sink.kind: mysql',
  }),
  redis: field(redisSinkSchema.optional(), {
    description: 'How rows are kept in Redis (docs/redis-sink.md).',
    onlyFor: 'sink.kind: redis',
  }),
  batchSize: field(integer(1, 1_000_000).default(5000), {
    description: 'Most events applied in one target transaction.',
    example: 10_000,
  }),
  batchBytes: field(integer(65_536, 1_073_741_824).default(8 * 1024 * 1024), {
    description:
      'Most bytes of Kafka records (keys and values) applied in one target transaction, besides `batchSize`: ' +
      'whichever is reached first ends the batch, so wide rows do not make batches large in memory. A single ' +
      'record larger than this is applied on its own. `sink.consistency: row` only.',
    example: 33_554_432,
  }),
  lingerMs: field(integer(0, 60_000).default(50), {
    description: 'How long (ms) to wait for more events before applying a batch that is not full.',
    example: 200,
  }),
  copyThreshold: field(integer(0, 10_000_000).default(1000), {
    description:
      'Rows of one table in one batch from which the PostgreSQL sink loads them through COPY into a staging ' +
      'table and one upsert from it, instead of multi-row statements (docs/sinks.md#copy); 0 = never.',
    example: 5000,
    onlyFor: 'sink.kind: postgres',
  }),
  createTables: field(boolean().default(true), {
    description: 'Create missing target tables and add new columns. With `false`, a missing table stops the sink.',
    example: false,
  }),
  group: field(
    z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,255}$/, { error: 'use only letters, digits, ".", "_" and "-"' })
      .optional(),
    {
      description:
        'Kafka consumer group of the sink. Sink processes of one group share the partitions; offsets in the ' +
        'target are kept per group.',
      defaultText: '`ferry-<name>-sink`',
      example: 'ferry-shop-move-sink',
    },
  ),
  dlq: field(boolean().default(true), {
    description:
      'Send events the target rejects for a data reason to the `<name>.dlq` topic and carry on. With ' +
      '`false`, such an event stops the sink.',
    example: false,
  }),
  maxRetries: field(integer(0, 1_000_000).default(10), {
    description:
      'Retries (with exponential backoff) of a batch that failed for a systemic reason (connection, ' +
      'deadlock) before the sink stops; 0 = retry forever.',
    example: 0,
  }),
  consistency: field(z.enum(['row', 'transaction']).default('row'), {
    description:
      '`row`: batches per partition, reduced per key (fastest; a reader of the target may see part of a source ' +
      'transaction). `transaction`: every source transaction is applied whole, in one target transaction, in ' +
      'source commit order, with the offsets it covers; one active sink process per group (docs/transactions.md).',
    example: 'transaction',
  }),
  maxTransactionEvents: field(integer(1, 10_000_000).default(100_000), {
    description:
      'Transaction mode: a source transaction with more events than this is applied in pieces, like in row mode ' +
      '(logged, counted in `ferry_sink_transactions_split_total`), so the sink never holds more in memory.',
    example: 1_000_000,
  }),
  applyParallelism: field(integer(1, 64).default(4), {
    description:
      'Transaction mode: units of whole source transactions applied at once, each on its own target connection, ' +
      'when their rows do not overlap; commits stay in source commit order (docs/transactions.md#parallel-apply). ' +
      '1 applies one unit at a time.',
    example: 1,
  }),
});

const metricsSchema = z.strictObject({
  listen: field(
    z
      .string()
      .refine((text) => isHostPort(text, true), { error: 'expected host:port, e.g. 127.0.0.1:9464' })
      .default('127.0.0.1:9464'),
    {
      description:
        'Address of the Prometheus endpoint (`/metrics`). Use `0.0.0.0:9464` to scrape from another host; port 0 picks a free port.',
      example: '0.0.0.0:9464',
    },
  ),
  enabled: field(boolean().default(true), {
    description: 'Serve metrics over HTTP.',
    example: false,
  }),
});

const logSchema = z.strictObject({
  level: field(z.enum(LOG_LEVELS).default('info'), {
    description: 'Lowest level written. The `--log-level` option overrides it.',
    example: 'debug',
  }),
  format: field(z.enum(LOG_FORMATS).default('auto'), {
    description: '`json` lines, `pretty` one-liners for humans, or `auto`: pretty on a terminal, json otherwise.',
    example: 'json',
  }),
});

/** A missing section parses as `{}`, so that its required fields are reported by name. */
function section<T extends z.ZodObject>(schema: T) {
  return schema.prefault({} as z.input<T>);
}

/** The whole file. Sections are filled with `{}` when missing so that their required fields are reported. */
export const pipelineSchema = z.strictObject({
  name: field(
    z.string().regex(PIPELINE_NAME_PATTERN, {
      error:
        'must start with a lowercase letter and use only lowercase letters, digits, "_" and "-", at most 48 ' +
        'characters, because it names the Kafka topics, consumer groups and the PostgreSQL slot and publication',
    }),
    {
      description:
        'Pipeline name. It prefixes the Kafka topics (`<name>.<db>.<table>`, `<name>.__offsets`, `<name>.dlq`) ' +
        'and names the consumer group, the PostgreSQL slot and publication. Changing it starts a new pipeline.',
      example: 'shop-move',
    },
  ),
  kafka: field(section(kafkaSchema), { description: 'The Kafka cluster between source and sink.' }),
  source: field(section(sourceSchema), { description: 'The database whose changes are captured.' }),
  sink: field(section(sinkSchema), { description: 'The database the changes are applied to.' }),
  metrics: field(section(metricsSchema), { description: 'Prometheus metrics.' }),
  log: field(section(logSchema), { description: 'Logging.' }),
  memory: field(section(memorySchema), { description: 'Memory use of the ferry process.' }),
});

/** The config as the schema outputs it, before name-derived defaults are filled in. */
export type ParsedPipeline = z.output<typeof pipelineSchema>;
