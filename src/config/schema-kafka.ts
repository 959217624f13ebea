// biome-ignore-all lint/suspicious/noTemplateCurlyInString: examples show the ${VAR} syntax of pipeline configs.
/** The `kafka` section of the pipeline config schema (schema.ts). */
import * as z from 'zod';
import { boolean, field, integer, isHostPort, nonEmpty } from './schema-field.js';
import { tlsSchema } from './schema-tls.js';

export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export const COMPRESSIONS = ['none', 'gzip'] as const;

const saslSchema = z.strictObject({
  mechanism: field(z.enum(SASL_MECHANISMS), {
    description: 'SASL mechanism the brokers expect.',
    example: 'scram-sha-512',
  }),
  username: field(nonEmpty(), { description: 'SASL user name.', example: 'ferry' }),
  password: field(nonEmpty(), {
    description: 'SASL password. Use `${VAR}` to take it from the environment.',
    example: '${KAFKA_PASSWORD}',
    secret: true,
  }),
});

export const kafkaSchema = z.strictObject({
  brokers: field(
    z.preprocess(
      (value) =>
        typeof value === 'string'
          ? value
              .split(',')
              .map((part) => part.trim())
              .filter((part) => part.length > 0)
          : value,
      z
        .array(z.string().refine((text) => isHostPort(text), { error: 'expected host:port, e.g. 127.0.0.1:9092' }))
        .min(1),
    ),
    {
      description:
        'Bootstrap brokers as `host:port`. A comma-separated string is accepted too, so that ' +
        '`brokers: ${KAFKA_BROKERS}` works.',
      example: ['127.0.0.1:9092'],
    },
  ),
  partitions: field(integer(1, 1000).default(6), {
    description:
      'Partitions of each table topic when ferry creates it. Events of one primary key always go to the ' +
      'same partition; more partitions let more sink processes share the work. Existing topics keep theirs.',
    example: 12,
  }),
  replicationFactor: field(integer(1, 100).default(1), {
    description: 'Replication factor of the topics ferry creates (table topics, offsets, schemas, dead letters).',
    example: 3,
  }),
  clientId: field(
    z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,255}$/, { error: 'use only letters, digits, ".", "_" and "-"' })
      .optional(),
    {
      description: 'Kafka client id, visible in broker logs and quotas.',
      defaultText: '`ferry-<name>`',
      example: 'ferry-shop-move',
    },
  ),
  sasl: field(saslSchema.optional(), {
    description: 'SASL authentication. Leave out for brokers without authentication.',
    example: { mechanism: 'scram-sha-512', username: 'ferry', password: '${KAFKA_PASSWORD}' },
  }),
  ssl: field(boolean().default(false), {
    description:
      'Older form of `kafka.tls: { mode: verify-full }` (TLS with the system CA certificates). Cannot be combined ' +
      'with `kafka.tls`.',
    example: true,
  }),
  tls: field(tlsSchema.optional(), {
    description:
      'TLS to the brokers (docs/security.md), same fields as `source.tls`; with `sasl`, SASL runs over it (SASL_SSL).',
    example: { mode: 'verify-full', ca: '/etc/ferry/kafka-ca.pem' },
  }),
  tombstones: field(boolean().default(true), {
    description:
      'After each delete event, also send a tombstone (same key, null value) so that compacted topics can ' +
      'drop the key.',
    example: false,
  }),
  compression: field(z.enum(COMPRESSIONS).default('none'), {
    description: 'Compression of produced batches. The Kafka client supports gzip without extra packages.',
    example: 'gzip',
  }),
  producerBatchEvents: field(integer(1, 100_000).default(2000), {
    description:
      'Most events the source sends to Kafka in one request. Larger requests mean fewer round trips ' +
      '(each waits for acks = all).',
    example: 5000,
  }),
  producerBatchBytes: field(integer(16_384, 67_108_864).default(900_000), {
    description:
      "Approximate most bytes the source sends to Kafka in one request. Keep it under the brokers' " +
      '`message.max.bytes` times the partitions of a topic (one record batch per partition).',
    example: 4_194_304,
  }),
  consumerMaxBytes: field(integer(65_536, 1_073_741_824).default(8 * 1024 * 1024), {
    description:
      'Most bytes the sink fetches from Kafka in one request, over all partitions. With ' +
      '`consumerMaxBytesPerPartition` it bounds what a sink holds before it applies.',
    example: 16_777_216,
  }),
  consumerMaxBytesPerPartition: field(integer(16_384, 1_073_741_824).default(1024 * 1024), {
    description: 'Most bytes the sink fetches from one partition in one request.',
    example: 1_048_576,
  }),
  sessionTimeoutMs: field(integer(6000, 1_800_000).default(30_000), {
    description:
      "Session timeout of the sinks' consumer group. A sink process that dies is replaced in the group (its " +
      'partitions go to the others, or to its restarted self) only after this much time without a heartbeat. ' +
      'Shorter means a faster takeover after a crash; it must stay above the longest apply of one batch, and ' +
      "within the brokers' `group.min.session.timeout.ms` and `group.max.session.timeout.ms`.",
    example: 10000,
  }),
  retryTimeoutMs: field(integer(1000, 2_147_483_647).optional(), {
    description:
      'How long the source keeps retrying while Kafka does not answer (start-up calls and sends), before it ' +
      'stops with the error. Left out, the source waits for Kafka as long as it takes (backoff up to 30 s, a ' +
      'warning about once a minute): stopping would let the source database purge the log that holds the ' +
      'stored position.',
    defaultText: 'no limit',
    example: 600000,
  }),
});
