/**
 * Loading a pipeline file: read, parse YAML, interpolate `${VAR}`, validate against the schema
 * and the cross-field rules, fill in defaults. Synchronous: the file is small and read once at
 * start-up.
 */
import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { FerryError } from '../api/errors.js';
import { crossFieldIssues } from './checks.js';
import { type Env, formatPath, interpolate, type MissingVariable } from './interpolate.js';
import { type ConfigIssue, ConfigValidationError, fromZodIssue } from './issues.js';
import { type PipelineConfig, resolveConfig } from './resolve.js';
import { pipelineSchema } from './schema.js';

export interface ParseOptions {
  /** Environment for `${VAR}` [process.env]. */
  env?: Env;
  /** File name for messages. */
  file?: string;
}

/** Finds the line and column of a path in the YAML document (the deepest part that exists). */
type Locator = (path: string) => { line: number; column: number } | undefined;

function locator(doc: ReturnType<typeof parseDocument>, lines: LineCounter): Locator {
  const index = new Map<string, { line: number; column: number }>();
  const visit = (node: unknown, path: PropertyKey[]): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const keyNode = pair.key as Node | null;
        const childPath = [...path, key];
        if (keyNode?.range) {
          const pos = lines.linePos(keyNode.range[0]);
          index.set(formatPath(childPath), { line: pos.line, column: pos.col });
        }
        visit(pair.value, childPath);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        const childPath = [...path, i];
        const range = (item as Node | null)?.range;
        if (range) {
          const pos = lines.linePos(range[0]);
          index.set(formatPath(childPath), { line: pos.line, column: pos.col });
        }
        visit(item, childPath);
      });
    }
  };
  visit(doc.contents, []);
  return (path) => {
    for (let p = path; p.length > 0; p = p.replace(/(\.[^.[\]]+|\[[^\]]*\])$/, '')) {
      const found = index.get(p);
      if (found) return found;
      if (!/[.[]/.test(p)) break;
    }
    return undefined;
  };
}

function withPosition(issue: ConfigIssue, locate: Locator | undefined): ConfigIssue {
  const pos = locate?.(issue.path);
  return pos ? { ...issue, line: pos.line, column: pos.column } : issue;
}

/** YAML `key:` with nothing after it is null: treat it like a missing key (defaults apply). */
function nullsToUndefined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(nullsToUndefined);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      Object.defineProperty(out, key, {
        value: item === null ? undefined : nullsToUndefined(item),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

function missingEnvError(
  missing: MissingVariable[],
  file: string | undefined,
  locate: Locator | undefined,
): FerryError {
  const byVariable = new Map<string, string[]>();
  for (const { variable, path } of missing) {
    const pos = locate?.(path);
    const at = pos ? `${path} (${file ? `${file}:` : 'line '}${pos.line})` : path;
    byVariable.set(variable, [...(byVariable.get(variable) ?? []), at]);
  }
  const names = [...byVariable.keys()];
  const first = names[0]!;
  const fix =
    `Export ${names.length === 1 ? 'it' : 'them'} before starting ferry (export ${first}=...), ` +
    `or give a default with \${${first}:-value}.`;
  const message =
    names.length === 1
      ? `Environment variable ${first} is not set; it is used in ${byVariable.get(first)!.join(', ')}${file && !locate ? ` of ${file}` : ''}. ${fix}`
      : `${names.length} environment variables used in ${file ?? 'the configuration'} are not set:\n` +
        names.map((name) => `  - ${name} (used in ${byVariable.get(name)!.join(', ')})`).join('\n') +
        `\n${fix}`;
  return new FerryError('FERRY_CONFIG_ENV', message, { details: { file, missing } });
}

function validate(input: unknown, env: Env, file: string | undefined, locate: Locator | undefined): PipelineConfig {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    const found =
      input === null || input === undefined
        ? 'the file is empty'
        : `found ${Array.isArray(input) ? 'a list' : 'a single value'}`;
    throw new ConfigValidationError(
      [
        {
          path: '',
          message: `${found}; a pipeline config is a YAML mapping with the fields name, kafka, source and sink`,
        },
      ],
      file,
    );
  }
  const interpolated = interpolate(input, env);
  if (interpolated.malformed.length > 0) {
    throw new ConfigValidationError(
      interpolated.malformed.map((issue) => withPosition(issue, locate)),
      file,
    );
  }
  if (interpolated.missing.length > 0) throw missingEnvError(interpolated.missing, file, locate);

  const value = nullsToUndefined(interpolated.value);
  const result = pipelineSchema.safeParse(value);
  const issues: ConfigIssue[] = result.success
    ? []
    : result.error.issues.flatMap((issue) => fromZodIssue(issue, value));
  const seen = new Set(issues.map((issue) => issue.path));
  for (const issue of crossFieldIssues(value)) if (!seen.has(issue.path)) issues.push(issue);
  if (issues.length > 0 || !result.success) {
    const located = issues.map((issue) => withPosition(issue, locate));
    const order = (issue: ConfigIssue) => issue.line ?? Number.MAX_SAFE_INTEGER;
    located.sort((a, b) => order(a) - order(b));
    throw new ConfigValidationError(located, file);
  }
  return resolveConfig(result.data);
}

/**
 * Parses and validates a pipeline config from YAML text.
 * @throws FerryError `FERRY_CONFIG_FILE` (YAML syntax, with line and column),
 *   `FERRY_CONFIG_ENV` (a `${VAR}` is not set), or ConfigValidationError (a ConfigError,
 *   `FERRY_CONFIG_INVALID`) listing every problem.
 */
export function parseConfig(yamlText: string, options: ParseOptions = {}): PipelineConfig {
  const env = options.env ?? process.env;
  const file = options.file;
  const lines = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const parts = doc.errors.map((err) => {
      const pos = err.linePos?.[0];
      const at = pos ? `line ${pos.line}, column ${pos.col}` : 'unknown position';
      const [summary = err.message, ...context] = err.message.split(/ at line \d+, column \d+:?/);
      return { at, summary: summary.trim(), context: context.join('').replace(/^\n+/, '').trimEnd(), pos };
    });
    const first = parts[0]!;
    const name = file ?? 'the configuration';
    const message =
      parts.length === 1
        ? `${name} is not valid YAML: ${first.summary} at ${first.at}${first.context ? `:\n${first.context}` : ''}`
        : `${name} is not valid YAML:\n${parts.map((p) => `  - ${p.at}: ${p.summary}`).join('\n')}`;
    throw new FerryError('FERRY_CONFIG_FILE', message, {
      details: { file, line: first.pos?.line, column: first.pos?.col },
    });
  }
  const locate = locator(doc, lines);
  return validate(doc.toJS({ maxAliasCount: 100 }), env, file, locate);
}

/**
 * Validates an already parsed config object (e.g. built in code by the demo or tests), with
 * the same interpolation, checks, defaults and errors as a file.
 */
export function configFromObject(input: unknown, options: ParseOptions = {}): PipelineConfig {
  return validate(input, options.env ?? process.env, options.file, undefined);
}

/**
 * Reads, parses and validates the pipeline config file at `path` (synchronously).
 * @throws FerryError `FERRY_CONFIG_FILE` when the file cannot be read, plus everything
 *   parseConfig throws.
 */
export function loadConfig(path: string, env: Env = process.env): PipelineConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const absolute = resolvePath(path);
    const reason =
      code === 'ENOENT'
        ? `not found (looked for ${absolute})`
        : code === 'EISDIR'
          ? 'is a directory, not a file'
          : code === 'EACCES' || code === 'EPERM'
            ? 'cannot be read: permission denied'
            : `cannot be read: ${(err as Error).message}`;
    throw new FerryError(
      'FERRY_CONFIG_FILE',
      `Config file ${path} ${reason}. Pass the pipeline config file with -c <file>, e.g. ferry run -c pipeline.yaml.`,
      { cause: err, details: { file: path } },
    );
  }
  return parseConfig(text, { env, file: path });
}
