/**
 * Turns schema violations into messages a user can act on: the dotted path, what was wrong
 * (the value found, never a secret) and what is allowed. All problems of a file are reported
 * together in one ConfigValidationError.
 */
import type * as z from 'zod';
import { ConfigError } from '../api/errors.js';
import { maskUrlCredentials } from '../log/redact.js';
import { type ConfigField, configFields, describeType, fieldAt, sectionKeys } from './fields.js';
import { formatPath } from './interpolate.js';

/** One problem in the configuration. */
export interface ConfigIssue {
  /** Dotted path, e.g. `sink.url`, `kafka.brokers[1]`; empty for the whole file. */
  path: string;
  /** What was wrong and what is allowed (without the path). */
  message: string;
  /** 1-based position in the YAML file, when known. */
  line?: number;
  column?: number;
}

function where(issue: ConfigIssue, file: string | undefined): string {
  if (issue.line === undefined) return '';
  return file ? ` (${file}:${issue.line})` : ` (line ${issue.line})`;
}

/**
 * Every problem found in a configuration. `path` is the offending field when there is one
 * problem, empty when there are several; `issues` lists them all.
 */
export class ConfigValidationError extends ConfigError {
  readonly issues: readonly ConfigIssue[];
  readonly file: string | undefined;

  constructor(issues: readonly ConfigIssue[], file?: string) {
    const only = issues.length === 1 ? issues[0] : undefined;
    const message = only
      ? `${only.message}${where(only, file)}`
      : `${file ?? 'the configuration'} has ${issues.length} problems:\n` +
        issues
          .map((issue) => `  - ${issue.path ? `${issue.path}: ` : ''}${issue.message}${where(issue, file)}`)
          .join('\n');
    super(only ? only.path : '', message, { details: { file, issues } });
    this.name = 'ConfigError';
    this.issues = issues;
    this.file = file;
  }
}

/** Levenshtein distance (insert, delete, substitute), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let previous = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const current = [i];
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[t.length]!;
}

/** The closest candidate within edit distance 2, if any. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** `a.b` + `c` → `a.b.c`, with the same quoting as formatPath. */
function join(parent: string, key: string): string {
  const tail = formatPath([key]);
  return parent && !tail.startsWith('[') ? `${parent}.${tail}` : `${parent}${tail}`;
}

/** Message for a key that the schema does not know, with a suggestion when one is close. */
export function unknownKeyMessage(parent: string, key: string): string {
  const siblings = sectionKeys(parent);
  const near = closest(key, siblings);
  if (near) return `unknown field; did you mean ${join(parent, near)}?`;
  const elsewhere = configFields().find((f) => f.path.endsWith(`.${key}`) || f.path === key);
  const allowed = `allowed ${parent ? `fields in ${parent}` : 'top-level fields'}: ${siblings.join(', ')}`;
  if (elsewhere) return `unknown field here; did you mean ${elsewhere.path}? (${allowed})`;
  return `unknown field; ${allowed}`;
}

/** The value at a path of the raw input, for showing what was found. */
function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node = root;
  for (const segment of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[segment as string];
  }
  return node;
}

/** What was found, short and safe to print. */
export function showValue(value: unknown, secret = false): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (secret) return 'a value (hidden: secret)';
  if (typeof value === 'string') {
    const text = maskUrlCredentials(value);
    return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
  }
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : `a list of ${value.length}`;
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

function article(type: string): string {
  if (type.startsWith('list') || type.startsWith('mapping')) return `a ${type}`;
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** `one of mysql, postgres`, `an integer from 1 to 1000`, `a list of strings`… */
function expectation(field: ConfigField | undefined, fallback: string | undefined): string {
  if (field) {
    if (field.values) return `one of ${field.values.join(', ')}`;
    if (field.type === 'boolean') return 'true or false';
    if (field.section) return `a mapping with the fields ${field.keys?.join(', ')}`;
    if (field.allowed && field.type === 'integer') return `an integer from ${field.allowed}`;
    return article(field.type);
  }
  switch (fallback) {
    case 'int':
    case 'number':
      return 'a number';
    case 'object':
      return 'a mapping';
    case 'array':
      return 'a list';
    case undefined:
      return 'a value';
    default:
      return article(fallback);
  }
}

function example(field: ConfigField | undefined): string {
  if (field?.example === undefined || field.secret) return '';
  const text = typeof field.example === 'string' ? field.example : JSON.stringify(field.example);
  return `, e.g. ${text}`;
}

function range(field: ConfigField | undefined): string {
  return field?.allowed && field.type === 'integer' ? ` (allowed: ${field.allowed})` : '';
}

/** One zod issue → one or more config issues (one per unknown key). `input` is the validated value. */
export function fromZodIssue(issue: z.core.$ZodIssue, input: unknown): ConfigIssue[] {
  const path = issue.path;
  const dotted = formatPath(path);
  const field = fieldAt(dotted);
  const value = valueAt(input, path);
  const secret = field?.secret === true;
  const found = showValue(value, secret);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({ path: join(dotted, key), message: unknownKeyMessage(dotted, key) }));
    case 'invalid_type': {
      if (issue.expected === 'int')
        return [{ path: dotted, message: `expected a whole number${range(field)}, got ${found}` }];
      if (value === undefined) {
        const what = field?.section ? 'section' : 'field';
        return [
          {
            path: dotted,
            message: `required ${what} is missing; expected ${expectation(field, issue.expected)}${example(field)}`,
          },
        ];
      }
      const quote =
        issue.expected === 'string' && (typeof value === 'number' || typeof value === 'boolean')
          ? '; put the value in quotes in YAML'
          : '';
      return [{ path: dotted, message: `expected ${expectation(field, issue.expected)}, got ${found}${quote}` }];
    }
    case 'invalid_value': {
      if (value === undefined) {
        return [{ path: dotted, message: `required field is missing; expected ${expectation(field, undefined)}` }];
      }
      const values = issue.values.map((v) => String(v));
      return [{ path: dotted, message: `expected one of ${values.join(', ')}, got ${found}` }];
    }
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const inclusive = issue.inclusive !== false;
      if (issue.origin === 'array' || issue.origin === 'set') {
        if (issue.code === 'too_small' && Number(bound) <= 1) {
          return [{ path: dotted, message: `must list at least one entry, got ${found}${example(field)}` }];
        }
        const word = issue.code === 'too_small' ? 'at least' : 'at most';
        return [{ path: dotted, message: `must list ${word} ${bound} entries, got ${found}` }];
      }
      if (issue.origin === 'string') {
        if (issue.code === 'too_small' && Number(bound) <= 1)
          return [{ path: dotted, message: `must not be empty${example(field)}` }];
        const word = issue.code === 'too_small' ? 'at least' : 'at most';
        return [{ path: dotted, message: `must be ${word} ${bound} characters long, got ${found}` }];
      }
      const word =
        issue.code === 'too_small' ? (inclusive ? 'at least' : 'more than') : inclusive ? 'at most' : 'less than';
      return [{ path: dotted, message: `must be ${word} ${bound}${range(field)}, got ${found}` }];
    }
    case 'invalid_format':
    case 'custom':
      return [{ path: dotted, message: `${issue.message}, got ${found}` }];
    case 'invalid_key':
      return issue.issues.map((inner) => ({
        path: dotted,
        message: `key ${showValue(issue.input ?? path[path.length - 1])}: ${inner.message}`,
      }));
    case 'invalid_element':
      return issue.issues.map((inner) => ({ path: dotted, message: inner.message }));
    default: {
      const described = field ? describeType(field.schema).type : undefined;
      return [{ path: dotted, message: `${issue.message}${described ? ` (expected ${article(described)})` : ''}` }];
    }
  }
}
