/** The building blocks of the pipeline config schema (schema.ts): field metadata and lenient scalar types. */
import * as z from 'zod';

/** What every field carries besides its type, read back by the docs generator. */
export interface FieldMeta {
  description: string;
  /** A value as it would appear in YAML. */
  example?: unknown;
  /** The value must never be printed or logged. */
  secret?: boolean;
  /** Replaces the literal default in the docs, for defaults derived from other fields. */
  defaultText?: string;
  /** The field only applies to one kind, e.g. `source.kind: mysql`. */
  onlyFor?: string;
  /** The part of the value that is secret although the field is not, e.g. `the password in the URL`. */
  secretPart?: string;
}

/** Attaches the field's metadata (zod's global registry, `.meta()`). */
export function field<T extends z.ZodType>(schema: T, meta: FieldMeta): T {
  return schema.meta({ ...meta });
}

/** Reads back what `field()` attached. */
export function fieldMeta(schema: z.ZodType): FieldMeta | undefined {
  const meta = z.globalRegistry.get(schema);
  if (!meta || typeof meta.description !== 'string') return undefined;
  return meta as unknown as FieldMeta;
}

const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)$/;

/** `host:port` with a numeric port in range; IPv6 hosts in brackets. */
export function isHostPort(text: string, allowPortZero = false): boolean {
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return false;
  const host = text.slice(0, colon);
  const port = text.slice(colon + 1);
  if (!HOST.test(host) || !/^\d{1,5}$/.test(port)) return false;
  const n = Number(port);
  return n <= 65535 && (n > 0 || allowPortZero);
}

/** Environment variables are strings; accept `"12"` where a number is expected. */
export function integer(min: number, max: number) {
  return z.preprocess(
    (value) => (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value),
    z.number().int().min(min).max(max),
  );
}

export function boolean() {
  return z.preprocess((value) => (value === 'true' ? true : value === 'false' ? false : value), z.boolean());
}

export const nonEmpty = () => z.string().min(1);
