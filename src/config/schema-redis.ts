/**
 * The `sink.redis` section of the pipeline config schema (docs/redis-sink.md), kept apart from
 * schema.ts. Its fields carry the same metadata as every other field (description, example),
 * read back by the docs generator.
 */
import * as z from 'zod';

export const REDIS_FORMATS = ['hash', 'json'] as const;

const TABLE_NAME = /^[^.\s*]+\.[^.\s*]+$/;
const nonEmpty = () => z.string().min(1);

interface Meta {
  description: string;
  example?: unknown;
}

/** Attaches a field's metadata, like schema.ts's field(). */
function field<T extends z.ZodType>(schema: T, meta: Meta): T {
  return schema.meta({ ...meta });
}

/** Environment variables are strings; accept `"12"` where a number is expected. */
function integer(min: number, max: number) {
  return z.preprocess(
    (value) => (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value),
    z.number().int().min(min).max(max),
  );
}

function boolean() {
  return z.preprocess((value) => (value === 'true' ? true : value === 'false' ? false : value), z.boolean());
}

const redisTableSchema = z.strictObject({
  key: nonEmpty().optional(),
  format: z.enum(REDIS_FORMATS).optional(),
  ttlSeconds: integer(1, 2_147_483_647).optional(),
  streams: boolean().optional(),
  streamKey: nonEmpty().optional(),
});

export const redisSinkSchema = z.strictObject({
  format: field(z.enum(REDIS_FORMATS).default('hash'), {
    description:
      'How a row is stored: `hash` (one field per column) or `json` (one JSON string). See docs/redis-sink.md.',
    example: 'json',
  }),
  keyPrefix: field(z.string().default(''), {
    description: 'Prepended to every key ferry writes: rows, change streams, key indexes and offsets.',
    example: 'cache:',
  }),
  streams: field(boolean().default(false), {
    description: 'Also append every change to a stream per table (`<db>.<table>.changes`).',
    example: true,
  }),
  streamMaxLen: field(integer(1, 1_000_000_000).default(100_000), {
    description: 'Approximate length limit of each change stream (XADD MAXLEN ~).',
    example: 1_000_000,
  }),
  ttlSeconds: field(integer(1, 2_147_483_647).optional(), {
    description: 'Row keys expire this many seconds after their last write. Unset: never.',
    example: 86_400,
  }),
  tables: field(
    z
      .record(z.string().regex(TABLE_NAME, { error: 'expected an exact "db.table" name' }), redisTableSchema)
      .default({}),
    {
      description:
        'Per-table settings, `db.table` -> `key` (template with a `{column}` for every key column, default ' +
        '`<db>.<table>:{id}`), `format`, `ttlSeconds`, `streams`, `streamKey`.',
      example: { 'shop.users': { key: 'user:{id}', format: 'json' } },
    },
  ),
});
