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
import { checkPattern } from '../api/filter.js';
import { LOG_FORMATS, LOG_LEVELS } from '../log/logger.js';
import { boolean, type FieldMeta, field, fieldMeta, integer, isHostPort, nonEmpty } from './schema-field.js';
import { COMPRESSIONS, kafkaSchema, SASL_MECHANISMS } from './schema-kafka.js';
import { memorySchema } from './schema-memory.js';
import { redisSinkSchema } from './schema-redis.js';
import { tlsSchema } from './schema-tls.js';

export { COMPRESSIONS, type FieldMeta, fieldMeta, isHostPort, SASL_MECHANISMS };

export const PIPELINE_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,47}$/;
export const SOURCE_KINDS = ['mysql', 'postgres'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];
export const SINK_KINDS = ['postgres', 'mysql', 'redis'] as const;
export type SinkKind = (typeof SINK_KINDS)[number];
/** `source.transactions` when not set (docs/transactions.md#cost). */
export const SOURCE_TRANSACTIONS_DEFAULT = true;
export const SNAPSHOT_MODES = ['initial', 'never'] as const;

/** A `db.table` (n = 2) or `db.table.column` (n = 3) pattern (src/api/filter.ts); `wildcards`: `*`/`?` allowed. */
const namePattern = (n: number, wildcards: boolean, expected: string) =>
  z.string().superRefine((value, ctx) => {
    const problem = checkPattern(value, n, wildcards);
    if (problem) ctx.addIssue({ code: 'custom', message: `${expected}; ${JSON.stringify(value)} ${problem}` });
  });

const tablePattern = () =>
  namePattern(2, true, 'expected a "db.table" pattern ("*" matches any characters), e.g. "shop.*"');

const sourceSchema = z.strictObject({
  kind: field(z.enum(SOURCE_KINDS), {
    description: 'Source engine: `mysql` (MySQL or MariaDB, reads the binlog) or `postgres` (logical replication).',
    example: 'mysql',
  }),
  url: field(nonEmpty(), {
    description:
      'Connection URL of the source database: `mysql://user:password@host:3306/database` or ' +
      '`postgres://user:password@host:5432/database`; the scheme must match `source.kind` (`mariadb://` and ' +
      '`postgresql://` are accepted too). User and password run to the last `@` and are percent-decoded, so a ' +
      'password from `${VAR}` may contain `@ / ? #`; write a `%` in it as `%25`, or set `source.password`. ' +
      'Query parameters are passed to the driver.',
    example: 'mysql://ferry:${SOURCE_PASSWORD}@127.0.0.1:3306/shop',
    secretPart: 'the password in the URL',
  }),
  password: field(z.string().optional(), {
    description:
      'Source password; overrides the one in `source.url`. Handy with `${VAR}` for passwords with special characters.',
    example: '${SOURCE_PASSWORD}',
    secret: true,
  }),
  tls: field(tlsSchema.optional(), {
    description:
      'TLS to the source database (docs/security.md). Left out: plaintext, unless `sslmode` in a postgres URL ' +
      'asks for TLS.',
    example: { mode: 'verify-full', ca: '/etc/ferry/ca.pem' },
  }),
  tables: field(z.array(tablePattern()).min(1), {
    description:
      'Tables to capture, as `db.table` patterns where `*` matches any characters and `?` one ' +
      '(`shop.*`, `shop.order_*`). For PostgreSQL the first part is the schema (`public.orders`). Names are ' +
      'written as they are, spaces and any other character included (`acc db.*`), except that a backslash ' +
      'makes the next character literal: `\\.` for a dot inside a name, `\\*`, `\\?` and `\\\\` for a star, ' +
      'question mark or backslash (`shop.v1\\.orders` is table `v1.orders`; in YAML write it unquoted or in ' +
      'single quotes, or double the backslash inside double quotes). Each part matches one name, so ' +
      '`shop.*` never matches a database named `shop.x`.',
    example: ['shop.*'],
  }),
  exclude: field(z.array(tablePattern()).default([]), {
    description: 'Tables NOT to capture even though `tables` matches them; same pattern form.',
    example: ['shop.tmp_*'],
  }),
  excludeColumns: field(
    z
      .array(
        namePattern(
          3,
          true,
          'expected a "db.table.column" pattern ("*" matches any characters), e.g. "shop.users.password_hash"',
        ),
      )
      .default([]),
    {
      description:
        'Columns never captured, as `db.table.column` patterns (`*` allowed, escapes as in `tables`). Key ' +
        'columns cannot be excluded.',
      example: ['shop.users.password_hash'],
    },
  ),
  keyColumns: field(
    z
      .record(
        namePattern(2, false, 'expected an exact "db.table" name (no "*"), e.g. "shop.audit_log"'),
        z.array(nonEmpty()).min(1),
      )
      .default({}),
    {
      description:
        'Key columns for tables without a primary key: exact `db.table` name (escapes as in `tables`) -> list of ' +
        'columns. They become the Kafka message key and the target table key; together they must identify a row.',
      example: { 'shop.audit_log': ['id', 'ts'] },
    },
  ),
  snapshot: field(z.enum(SNAPSHOT_MODES).default('initial'), {
    description:
      '`initial`: copy the existing rows first, then stream changes from the exact position of that copy. ' +
      '`never`: stream changes only, from the current position. A restarted pipeline always resumes from its ' +
      'stored position.',
    example: 'never',
  }),
  snapshotChunkSize: field(integer(1, 1_000_000).default(10_000), {
    description:
      'Most rows read per snapshot chunk query, in key order (fewer when rows are large: see snapshotChunkBytes). ' +
      'Each chunk is one short query in a view of its own (docs/snapshots.md).',
    example: 50_000,
  }),
  snapshotChunkBytes: field(integer(65_536, 1_073_741_824).default(8 * 1024 * 1024), {
    description:
      'Approximate most bytes of one snapshot chunk: the rows per chunk adapt to the row size, so memory stays ' +
      'bounded with wide rows.',
    example: 16_777_216,
  }),
  snapshotParallelism: field(integer(1, 64).default(2), {
    description:
      'Snapshot chunk readers running at once, each on its own connection, across tables (a table is read by ' +
      'one reader at a time).',
    example: 4,
  }),
  snapshotTransport: field(z.enum(['kafka', 'direct']).default('kafka'), {
    description:
      'How snapshot rows reach the target. `kafka`: published to the data topics like every change, so the ' +
      'topics hold the whole table for any consumer. `direct`: the source process writes each chunk straight ' +
      'into the target (sink.url) at its place in the stream, and only changes go through Kafka: a faster ' +
      'initial copy for database moves (docs/snapshots.md#direct-lane). Needs a postgres or mysql sink without ' +
      'shards, `sink.consistency: row`, and no `source.failover`.',
    example: 'direct',
  }),
  signalsIntervalMs: field(integer(100, 3_600_000).default(2000), {
    description: 'How often the running source looks for snapshot requests (`ferry snapshot`) in <name>.__signals, ms.',
    example: 5000,
  }),
  serverId: field(integer(1, 4_294_967_295).optional(), {
    description:
      'Replication server id ferry presents to MySQL/MariaDB. It must differ from every server and replica ' +
      'id of the replication topology, and from other ferry pipelines on the same server. The default is ' +
      '100000 + (the first 4 bytes of SHA-256(name), big-endian) mod 4000000000: stable across restarts ' +
      'and different for each pipeline name.',
    defaultText: 'derived from `name`',
    example: 424242,
    onlyFor: 'source.kind: mysql',
  }),
  statementDml: field(z.enum(['fail', 'warn']).optional(), {
    description:
      'DML on a captured table that reached the binlog as an SQL statement (a session that set binlog_format ' +
      'STATEMENT or MIXED) carries no row images. `fail` stops the source with FERRY_STATEMENT_DML naming the ' +
      'table and position; `warn` logs it, counts it in `ferry_errors_total` and goes on: the target then ' +
      'misses those changes until a new snapshot (docs/mysql-source.md#statement-format-dml).',
    defaultText: '`fail`',
    example: 'warn',
    onlyFor: 'source.kind: mysql',
  }),
  slot: field(
    z
      .string()
      .regex(/^[a-z0-9_]{1,63}$/, {
        error: 'PostgreSQL slot names use only lowercase letters, digits and "_", at most 63 characters',
      })
      .optional(),
    {
      description:
        'Logical replication slot ferry creates and reads. The slot keeps WAL on the server until ferry ' +
        'confirmed it, so drop it when you delete the pipeline.',
      defaultText: '`ferry_<name>` with `-` replaced by `_`',
      example: 'ferry_shop_move',
      onlyFor: 'source.kind: postgres',
    },
  ),
  publication: field(
    z
      .string()
      .regex(/^[a-z_][a-z0-9_$]{0,62}$/, {
        error: 'use a lowercase PostgreSQL identifier: letters, digits and "_", at most 63 characters',
      })
      .optional(),
    {
      description: 'Publication that lists the captured tables.',
      defaultText: '`ferry_<name>` with `-` replaced by `_`',
      example: 'ferry_shop_move',
      onlyFor: 'source.kind: postgres',
    },
  ),
  createPublication: field(boolean().default(true), {
    description:
      'Create the publication (FOR the matched tables) when it does not exist. Set to `false` when a DBA ' +
      'manages it; ferry then checks that it covers the captured tables.',
    example: false,
    onlyFor: 'source.kind: postgres',
  }),
  discoverIntervalMs: field(integer(0, 3_600_000).optional(), {
    description:
      'How often (ms) the streaming source looks for new tables that match source.tables; they are added to ' +
      'the publication and snapshotted without a restart (docs/snapshots.md). 0 disables.',
    defaultText: '5000',
    example: 10_000,
    onlyFor: 'source.kind: postgres',
  }),
  heartbeatIntervalMs: field(integer(100, 3_600_000).default(10_000), {
    description:
      'How often (ms) an idle source records its position, so lag stays accurate and PostgreSQL can release WAL.',
    example: 5000,
  }),
  failover: field(boolean().default(false), {
    description:
      'Run several `ferry source` (or `ferry run`) instances of this pipeline, on different machines: they ' +
      'elect one active instance through the Kafka consumer group `<name>.__leader`, the others wait as ' +
      'standbys and take over within `source.failoverSessionTimeoutMs` when it dies or is cut off, resuming ' +
      'from the stored position. A leader epoch fences an instance that comes back (docs/failover.md).',
    example: true,
  }),
  failoverSessionTimeoutMs: field(integer(6000, 300_000).default(10_000), {
    description:
      'With `source.failover`: the group session timeout, ms. A standby takes over this long after the ' +
      "active instance's last heartbeat; the active one stops publishing a margin earlier (a quarter of it, " +
      "at least 1 s). Must lie within the brokers' group.min/max.session.timeout.ms (6000 to 1800000 by default).",
    example: 6000,
  }),
  instance: field(z.string().min(1).max(200).optional(), {
    description: 'With `source.failover`: the name of this instance in `ferry status` and the logs.',
    defaultText: 'host name:process id',
    example: 'cdc-a',
  }),
  queueSize: field(integer(10, 1_000_000).default(10_000), {
    description:
      'Events held between reading the source and producing to Kafka. When full, reading pauses ' +
      '(backpressure), so memory stays flat.',
    example: 20_000,
  }),
  queueBytes: field(integer(65_536, 1_073_741_824).default(16 * 1024 * 1024), {
    description:
      'Approximate most bytes of the events held between reading the source and producing to Kafka (with ' +
      '`queueSize`, whichever is reached first), so memory stays flat with wide rows too.',
    example: 33_554_432,
  }),
  transactions: field(boolean().default(SOURCE_TRANSACTIONS_DEFAULT), {
    description:
      'Publish transaction metadata: BEGIN/END records of every source transaction in `<name>.__transactions` ' +
      '(Debezium shape). Sinks with `sink.consistency: transaction` need it (docs/transactions.md).',
    example: false,
  }),
});

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
