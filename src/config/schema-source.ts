// biome-ignore-all lint/suspicious/noTemplateCurlyInString: this file is about the ${VAR} syntax of pipeline configs.
/**
 * The `source` section of the pipeline config schema (docs/configuration.md), kept apart from
 * schema.ts. Its fields carry the same metadata as every other field, read back by the docs
 * generator.
 */
import * as z from 'zod';
import { checkPattern } from '../api/filter.js';
import { boolean, field, integer, nonEmpty } from './schema-field.js';
import { tlsSchema } from './schema-tls.js';

export const SOURCE_KINDS = ['mysql', 'postgres'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];
/** `source.transactions` when not set (docs/transactions.md#cost). */
export const SOURCE_TRANSACTIONS_DEFAULT = true;
export const SNAPSHOT_MODES = ['initial', 'never'] as const;

/** A `db.table` (n = 2) or `db.table.column` (n = 3) pattern (src/api/filter.ts); `wildcards`: `*`/`?` allowed. */
const namePattern = (n: number, wildcards: boolean, expected: string) =>
  z.string().superRefine((value, ctx) => {
    const problem = checkPattern(value, n, wildcards);
    if (problem) ctx.addIssue({ code: 'custom', message: `${expected}; ${JSON.stringify(value)} ${problem}` });
  });

export const tablePattern = () =>
  namePattern(2, true, 'expected a "db.table" pattern ("*" matches any characters), e.g. "shop.*"');

export const sourceSchema = z.strictObject({
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
  snapshotChunkSize: field(integer(1, 1_000_000).default(2000), {
    description:
      'Most rows read per snapshot chunk query, in key order (fewer when rows are large: see snapshotChunkBytes). ' +
      'Each chunk is one short query in a view of its own (docs/snapshots.md).',
    example: 50_000,
  }),
  snapshotChunkBytes: field(integer(65_536, 1_073_741_824).default(2 * 1024 * 1024), {
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
  queueSize: field(integer(10, 1_000_000).default(4000), {
    description:
      'Events held between reading the source and producing to Kafka. When full, reading pauses ' +
      '(backpressure), so memory stays flat.',
    example: 20_000,
  }),
  queueBytes: field(integer(65_536, 1_073_741_824).default(4 * 1024 * 1024), {
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
