/**
 * Walks the schema (src/config/schema.ts) into a flat list of fields, with type, default,
 * allowed values and metadata. The docs generator, the error messages ("allowed fields",
 * "did you mean") and secret collection all read this list, so none of them can drift from
 * the schema.
 */
import type * as z from 'zod';
import { formatPath } from './interpolate.js';
import { fieldMeta, pipelineSchema } from './schema.js';

export interface ConfigField {
  /** Dotted path, e.g. `kafka.partitions`. */
  path: string;
  /** A mapping of further fields (`kafka`, `kafka.sasl`). */
  section: boolean;
  /** Human-readable type: `integer`, `string`, `list of strings`, `mapping`… */
  type: string;
  /** Allowed values or range, human-readable: `1 to 1000`, `mysql, postgres`. */
  allowed?: string;
  /** Enum values, when the field is an enum. */
  values?: readonly string[];
  /** Must be given (no default, not optional). */
  required: boolean;
  /** Has a literal default (see `default`). */
  hasDefault: boolean;
  default?: unknown;
  /** Description of a default derived from other fields. */
  defaultText?: string;
  description: string;
  example?: unknown;
  secret: boolean;
  /** Part of the value that is secret although the field is not (`the password in the URL`). */
  secretPart?: string;
  onlyFor?: string;
  /** Names of the fields of a section. */
  keys?: string[];
  /** The field's schema (with its optional/default wrapper), e.g. to validate the example. */
  schema: z.ZodType;
}

interface Def {
  type: string;
  innerType?: z.ZodType;
  defaultValue?: unknown;
  in?: z.ZodType;
  out?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  keyType?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  entries?: Record<string, string>;
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** The `min_length` of an array schema, read from its checks. */
function minLength(schema: z.ZodType): number | undefined {
  const checks = (
    schema as unknown as { _zod: { def: { checks?: { _zod: { def: { check: string; minimum?: number } } }[] } } }
  )._zod.def.checks;
  const min = checks?.find((check) => check._zod.def.check === 'min_length');
  return min?._zod.def.minimum;
}

interface Unwrapped {
  core: z.ZodType;
  optional: boolean;
  hasDefault: boolean;
  default?: unknown;
}

/** Peels optional/default/prefault/preprocess layers off a field's schema. */
export function unwrap(schema: z.ZodType): Unwrapped {
  const out: Unwrapped = { core: schema, optional: false, hasDefault: false };
  for (let current = schema; ; ) {
    const def = defOf(current);
    if (def.type === 'optional' || def.type === 'nullable') {
      out.optional = true;
      current = def.innerType!;
    } else if (def.type === 'default') {
      out.hasDefault = true;
      out.default = def.defaultValue;
      current = def.innerType!;
    } else if (def.type === 'prefault') {
      out.optional = true;
      current = def.innerType!;
    } else if (def.type === 'pipe') {
      current = defOf(def.in!).type === 'transform' ? def.out! : def.in!;
    } else {
      out.core = current;
      return out;
    }
  }
}

const LIMIT = 1e12;

/** Type, allowed values and enum values of a core (unwrapped) schema. */
export function describeType(schema: z.ZodType): { type: string; allowed?: string; values?: readonly string[] } {
  const core = unwrap(schema).core;
  const def = defOf(core);
  switch (def.type) {
    case 'string':
      return { type: 'string' };
    case 'number': {
      const number = core as z.ZodNumber;
      const isInt = number.isInt;
      const min = number.minValue !== null && Math.abs(number.minValue) < LIMIT ? number.minValue : undefined;
      const max = number.maxValue !== null && Math.abs(number.maxValue) < LIMIT ? number.maxValue : undefined;
      const range =
        min !== undefined && max !== undefined
          ? `${min} to ${max}`
          : min !== undefined
            ? `at least ${min}`
            : max !== undefined
              ? `at most ${max}`
              : undefined;
      return range ? { type: isInt ? 'integer' : 'number', allowed: range } : { type: isInt ? 'integer' : 'number' };
    }
    case 'boolean':
      return { type: 'boolean', allowed: 'true, false' };
    case 'enum': {
      const values = Object.values(def.entries ?? {});
      return { type: 'string', allowed: values.join(', '), values };
    }
    case 'array': {
      const element = describeType(def.element!);
      const min = minLength(core);
      const type = `list of ${plural(element.type)}`;
      const allowed = [min ? `at least ${min}` : undefined, element.allowed ? `each ${element.allowed}` : undefined]
        .filter(Boolean)
        .join('; ');
      return allowed ? { type, allowed } : { type };
    }
    case 'record':
      return { type: `mapping of ${describeType(def.keyType!).type} to ${describeType(def.valueType!).type}` };
    case 'object':
      return { type: 'mapping' };
    default:
      return { type: def.type };
  }
}

function plural(type: string): string {
  if (type.startsWith('list of ')) return `lists of ${type.slice(8)}`;
  if (type.startsWith('mapping')) return type.replace(/^mapping/, 'mappings');
  return type === 'boolean' ? 'booleans' : `${type}s`;
}

function walk(shape: Record<string, z.ZodType>, prefix: PropertyKey[], out: ConfigField[]): void {
  for (const [key, schema] of Object.entries(shape)) {
    const path = [...prefix, key];
    const meta = fieldMeta(schema);
    const unwrapped = unwrap(schema);
    const def = defOf(unwrapped.core);
    const section = def.type === 'object';
    const type = describeType(schema);
    const entry: ConfigField = {
      path: formatPath(path),
      section,
      type: type.type,
      required: !unwrapped.optional && !unwrapped.hasDefault,
      hasDefault: unwrapped.hasDefault,
      description: meta?.description ?? '',
      secret: meta?.secret === true,
      schema,
    };
    if (type.allowed !== undefined) entry.allowed = type.allowed;
    if (type.values !== undefined) entry.values = type.values;
    if (unwrapped.hasDefault) entry.default = unwrapped.default;
    if (meta?.defaultText !== undefined) entry.defaultText = meta.defaultText;
    if (meta?.example !== undefined) entry.example = meta.example;
    if (meta?.onlyFor !== undefined) entry.onlyFor = meta.onlyFor;
    if (meta?.secretPart !== undefined) entry.secretPart = meta.secretPart;
    if (section) entry.keys = Object.keys(def.shape!);
    out.push(entry);
    if (section) walk(def.shape!, path, out);
  }
}

let cache: { list: ConfigField[]; byPath: Map<string, ConfigField> } | undefined;

function load(): { list: ConfigField[]; byPath: Map<string, ConfigField> } {
  if (!cache) {
    const list: ConfigField[] = [];
    walk(pipelineSchema.shape, [], list);
    cache = { list, byPath: new Map(list.map((f) => [f.path, f])) };
  }
  return cache;
}

/** Every field of the schema, sections included, in schema order. */
export function configFields(): readonly ConfigField[] {
  return load().list;
}

/** The field at a dotted path (`sink.url`), if the schema has one. */
export function fieldAt(path: string): ConfigField | undefined {
  return load().byPath.get(path);
}

/** Field names of a section (`''` for the top level). */
export function sectionKeys(path: string): string[] {
  if (path === '') return Object.keys(pipelineSchema.shape);
  return fieldAt(path)?.keys ?? [];
}
