/**
 * Redaction: the one place that decides what a secret looks like in output. Pure functions,
 * used by the logger for every line it writes, and by the CLI for status output and error
 * printing.
 *
 * Three rules, applied to every string and every object key, at any depth:
 * 1. A field whose key looks secret (password, passwd, pwd, secret, token, sasl, authorization,
 *    credentials, api key, private key; case-insensitive) is replaced by `[redacted]`.
 * 2. The password of a URL with credentials is masked: `mysql://ferry:***@host:3306/shop`.
 * 3. Every known secret string (and its URL-encoded form) is replaced by `***`.
 *
 * Errors are turned into plain objects (type, message, code and other own fields, stack, cause
 * chain), redacted like everything else.
 */

export const REDACTED = '[redacted]';
export const MASK = '***';

const SECRET_KEY =
  /passw(?:or)?d|^pass$|^pwd$|secret|token|sasl|authori[sz]ation|credential|api[-_]?key|private[-_]?key/i;

/**
 * `scheme://user:password@` — the password runs to the last `@` before whitespace or a quote
 * (as src/config/url.ts reads it), so a password containing `@`, `/`, `?` or `#` is masked
 * whole. When in doubt this masks too much, never too little.
 */
const URL_CREDENTIALS = /\b([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^\s/?#@:'"`<>]*):([^\s'"`<>]*)@/g;

const MAX_DEPTH = 12;

/** True when a field with this key holds a secret and its value must never be printed. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** Masks the password of every URL with credentials in the text: `mysql://ferry:***@host`. */
export function maskUrlCredentials(text: string): string {
  if (!text.includes('://')) return text;
  return text.replace(URL_CREDENTIALS, (_match, scheme: string, user: string) => `${scheme}${user}:${MASK}@`);
}

/**
 * A compiled set of known secret strings. Build it once (`compileSecrets`) when the same
 * secrets redact many values; `redact` also accepts a plain array.
 */
export interface SecretMatcher {
  readonly size: number;
  /** Replaces every known secret in the text by `***`. */
  replace(text: string): string;
}

const EMPTY_MATCHER: SecretMatcher = { size: 0, replace: (text) => text };

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Expands each secret with the forms it takes inside URLs and JSON, longest first. */
function secretForms(secrets: Iterable<string>): string[] {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (typeof secret !== 'string' || secret.length === 0) continue;
    forms.add(secret);
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) forms.add(encoded);
    const json = JSON.stringify(secret).slice(1, -1);
    if (json !== secret) forms.add(json);
  }
  return [...forms].sort((a, b) => b.length - a.length);
}

/** Compiles known secret strings (empty strings are ignored) into a matcher. */
export function compileSecrets(secrets: Iterable<string>): SecretMatcher {
  const forms = secretForms(secrets);
  if (forms.length === 0) return EMPTY_MATCHER;
  const pattern = new RegExp(forms.map(escapeRegExp).join('|'), 'g');
  return {
    size: forms.length,
    replace: (text) => (text.length === 0 ? text : text.replace(pattern, MASK)),
  };
}

function toMatcher(secrets: Iterable<string> | SecretMatcher | undefined): SecretMatcher {
  if (secrets === undefined) return EMPTY_MATCHER;
  if (isMatcher(secrets)) return secrets;
  return compileSecrets(secrets);
}

function isMatcher(value: unknown): value is SecretMatcher {
  return typeof value === 'object' && value !== null && typeof (value as SecretMatcher).replace === 'function';
}

/** Redacts one string: URL passwords first, then every known secret. */
export function redactString(text: string, secrets?: Iterable<string> | SecretMatcher): string {
  return toMatcher(secrets).replace(maskUrlCredentials(text));
}

/**
 * Returns a copy of `value` that is safe to print: strings redacted, secret-looking keys
 * replaced by `[redacted]`, Errors serialised (with their cause chain), Dates as ISO strings,
 * bigints as strings, binary data summarised, cycles cut. Never mutates its input.
 */
export function redact(value: string, secrets?: Iterable<string> | SecretMatcher): string;
export function redact(value: unknown, secrets?: Iterable<string> | SecretMatcher): unknown;
export function redact(value: unknown, secrets?: Iterable<string> | SecretMatcher): unknown {
  return redactValue(value, toMatcher(secrets), new WeakSet(), 0);
}

/** Redacts the fields of a log entry (a record in, a record out). */
export function redactFields(
  fields: Record<string, unknown>,
  secrets?: Iterable<string> | SecretMatcher,
): Record<string, unknown> {
  return redactRecord(fields, toMatcher(secrets), new WeakSet(), 0);
}

function redactValue(value: unknown, secrets: SecretMatcher, seen: WeakSet<object>, depth: number): unknown {
  switch (typeof value) {
    case 'string':
      return secrets.replace(maskUrlCredentials(value));
    case 'bigint':
      return value.toString();
    case 'symbol':
      return value.toString();
    case 'function':
      return `[Function ${value.name || 'anonymous'}]`;
    case 'object':
      break;
    default:
      return value;
  }
  if (value === null) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (value instanceof Uint8Array) return `[${value.constructor.name} ${value.byteLength} bytes]`;
  if (value instanceof ArrayBuffer) return `[ArrayBuffer ${value.byteLength} bytes]`;
  if (value instanceof RegExp) return secrets.replace(maskUrlCredentials(String(value)));
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Object]';
  seen.add(value);
  try {
    if (value instanceof Error) return redactError(value, secrets, seen, depth);
    if (Array.isArray(value)) return value.map((item) => redactValue(item, secrets, seen, depth + 1));
    if (value instanceof Map) {
      const out: Record<string, unknown> = {};
      for (const [key, item] of value) out[String(key)] = item;
      return redactRecord(out, secrets, seen, depth);
    }
    if (value instanceof Set) return [...value].map((item) => redactValue(item, secrets, seen, depth + 1));
    if (value instanceof URL) return secrets.replace(maskUrlCredentials(value.href));
    return redactRecord(value as Record<string, unknown>, secrets, seen, depth);
  } finally {
    seen.delete(value);
  }
}

function redactRecord(
  record: Record<string, unknown>,
  secrets: SecretMatcher,
  seen: WeakSet<object>,
  depth: number,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(record)) {
    const item = record[key];
    if (item === undefined) continue;
    const safeKey = secrets.replace(key);
    out[safeKey] = isSecretKey(key) && item !== null ? REDACTED : redactValue(item, secrets, seen, depth + 1);
  }
  return out;
}

const ERROR_OWN_SKIP = new Set(['name', 'message', 'stack', 'cause', 'errors']);

function isEmptyRecord(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.getPrototypeOf(value) === Object.prototype &&
    Object.keys(value).length === 0
  );
}

/** `{ type, message, code?, …own fields, stack, cause?, errors? }`, every part redacted. */
function redactError(
  err: Error,
  secrets: SecretMatcher,
  seen: WeakSet<object>,
  depth: number,
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    type: err.name || err.constructor?.name || 'Error',
    message: secrets.replace(maskUrlCredentials(String(err.message ?? ''))),
  };
  const own = err as unknown as Record<string, unknown>;
  for (const key of Object.keys(own)) {
    if (ERROR_OWN_SKIP.has(key) || own[key] === undefined || isEmptyRecord(own[key])) continue;
    out[secrets.replace(key)] = isSecretKey(key) ? REDACTED : redactValue(own[key], secrets, seen, depth + 1);
  }
  if (typeof err.stack === 'string') out['stack'] = secrets.replace(maskUrlCredentials(err.stack));
  if (err.cause !== undefined) out['cause'] = redactValue(err.cause, secrets, seen, depth + 1);
  const errors = (err as { errors?: unknown }).errors;
  if (Array.isArray(errors)) out['errors'] = errors.map((item) => redactValue(item, secrets, seen, depth + 1));
  return out;
}
