// biome-ignore-all lint/suspicious/noTemplateCurlyInString: this file is about the ${VAR} syntax of pipeline configs.
/**
 * `${VAR}` interpolation of string values, after YAML parsing (so a value with YAML-special
 * characters needs no quoting):
 * - `${VAR}`: the variable's value (an empty value counts as set);
 * - `${VAR:-default}`: the default when VAR is unset or empty (the default runs to the first `}`);
 * - `$${`: a literal `${`.
 * Mapping keys are never interpolated. Pure: the environment is passed in.
 */

export type Env = Record<string, string | undefined>;

/** A `${VAR}` whose variable is not set, and the dotted config path where it is used. */
export interface MissingVariable {
  variable: string;
  path: string;
}

/** A `${` that is not a valid reference. */
export interface MalformedReference {
  path: string;
  message: string;
}

export interface InterpolationResult {
  value: unknown;
  missing: MissingVariable[];
  malformed: MalformedReference[];
}

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Formats path segments as `source.tables[0]`, quoting keys that are not plain names. */
export function formatPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else {
      const key = String(segment);
      if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) out += out ? `.${key}` : key;
      else out += `[${JSON.stringify(key)}]`;
    }
  }
  return out;
}

/** Interpolates one string. `missing` lists unset variables; `malformed` says what is wrong. */
export function interpolateString(
  text: string,
  env: Env,
): { value: string; missing: string[]; malformed: string | undefined } {
  if (!text.includes('$')) return { value: text, missing: [], malformed: undefined };
  let out = '';
  const missing: string[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '$' && text.startsWith('$${', i)) {
      out += '${';
      i += 3;
      continue;
    }
    if (ch === '$' && text[i + 1] === '{') {
      const close = text.indexOf('}', i + 2);
      if (close < 0) {
        return { value: text, missing, malformed: '"${" is not closed by "}"; write "$${" for a literal "${"' };
      }
      const body = text.slice(i + 2, close);
      const sep = body.indexOf(':-');
      const name = sep >= 0 ? body.slice(0, sep) : body;
      if (!VARIABLE_NAME.test(name)) {
        return {
          value: text,
          missing,
          malformed:
            `"\${${body}}" is not a variable reference; use \${NAME} or \${NAME:-default} with a name of letters, ` +
            'digits and "_", or write "$${" for a literal "${"',
        };
      }
      const value = env[name];
      if (sep >= 0) out += value === undefined || value === '' ? body.slice(sep + 2) : value;
      else if (value === undefined) missing.push(name);
      else out += value;
      i = close + 1;
      continue;
    }
    out += ch;
    i += 1;
  }
  return { value: out, missing, malformed: undefined };
}

/** Interpolates every string value in a parsed YAML tree (returns a new tree). */
export function interpolate(value: unknown, env: Env): InterpolationResult {
  const missing: MissingVariable[] = [];
  const malformed: MalformedReference[] = [];
  const walk = (node: unknown, path: PropertyKey[]): unknown => {
    if (typeof node === 'string') {
      const result = interpolateString(node, env);
      const where = formatPath(path);
      for (const variable of result.missing) missing.push({ variable, path: where });
      if (result.malformed) malformed.push({ path: where, message: result.malformed });
      return result.value;
    }
    if (Array.isArray(node)) return node.map((item, index) => walk(item, [...path, index]));
    if (typeof node === 'object' && node !== null) {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(node)) {
        // A `__proto__` key stays a plain (unknown, hence reported) field.
        Object.defineProperty(out, key, {
          value: walk(item, [...path, key]),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    return node;
  };
  return { value: walk(value, []), missing, malformed };
}
