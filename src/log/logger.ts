import pino from 'pino';
import type { Logger } from '../api/connector.js';
import { formatPrettyLine } from './pretty.js';
import { compileSecrets, redactFields, redactString, type SecretMatcher } from './redact.js';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Where log lines go: anything with `write(line)`. `isTTY` matters for `format: auto`. */
export interface LogDestination {
  write(line: string): unknown;
  isTTY?: boolean;
}

export interface LoggerOptions {
  /** Lowest level written [info]; `silent` writes nothing (tests). */
  level?: LogLevel | 'silent';
  /** `json` lines, `pretty` one-liners for humans, or `auto` [auto]: pretty on a TTY, json otherwise. */
  format?: LogFormat;
  /** Known secret strings (e.g. `secretsOf(config)`), replaced by `***` wherever they appear. */
  secrets?: Iterable<string>;
  /** Default: stderr, written synchronously so that nothing is lost on exit. */
  destination?: LogDestination;
  /** Fields on every entry (e.g. `{ pipeline: 'shop-move' }`). */
  fields?: Record<string, unknown>;
  /** ANSI colours in pretty format. Default: on a TTY unless NO_COLOR is set. */
  color?: boolean;
}

/** The Logger of src/api plus what the process that owns it needs. */
export interface FerryLogger extends Logger {
  readonly level: LogLevel | 'silent';
  /** The format in effect (`auto` resolved). */
  readonly format: 'json' | 'pretty';
  child(fields: Record<string, unknown>): FerryLogger;
  /** Adds known secrets; applies to this logger, its parent and every child, from now on. */
  addSecrets(secrets: Iterable<string>): void;
  isLevelEnabled(level: LogLevel): boolean;
  /** Flushes buffered output (a no-op for the default synchronous stderr). */
  flush(): void;
}

interface SharedState {
  readonly root: pino.Logger;
  readonly secrets: { set: Set<string>; matcher: SecretMatcher };
  readonly level: LogLevel | 'silent';
  readonly format: 'json' | 'pretty';
}

/**
 * Creates the process logger: pino JSON lines (or our pretty one-liners), with every message,
 * field, nested value and error redacted (src/log/redact.ts) before it is written, and the
 * finished line checked once more for known secrets.
 */
export function createLogger(options: LoggerOptions = {}): FerryLogger {
  const level = options.level ?? 'info';
  const destination: LogDestination = options.destination ?? pino.destination({ fd: 2, sync: true });
  const isTTY = options.destination ? options.destination.isTTY === true : process.stderr.isTTY === true;
  const requested = options.format ?? 'auto';
  const format: 'json' | 'pretty' = requested === 'auto' ? (isTTY ? 'pretty' : 'json') : requested;
  const color = options.color ?? (isTTY && format === 'pretty' && !process.env['NO_COLOR']);

  // Shared by the logger, its children and the stream hook, so addSecrets() reaches them all.
  const secrets = { set: new Set<string>(), matcher: compileSecrets([]) };

  const stream: pino.DestinationStream =
    format === 'pretty'
      ? { write: (line: string) => void destination.write(formatPrettyLine(line, { color })) }
      : { write: (line: string) => void destination.write(line) };

  const root = pino(
    {
      level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // Fields arrive already serialised and redacted; pino must not re-serialise errors.
      serializers: { err: (value: unknown) => value, error: (value: unknown) => value },
      // Last line of defence: a secret that reached the finished line some other way.
      hooks: { streamWrite: (line: string) => secrets.matcher.replace(line) },
    },
    stream,
  );

  const logger = makeLogger({ root, secrets, level, format }, options.fields ?? {});
  if (options.secrets) logger.addSecrets(options.secrets);
  return logger;
}

function makeLogger(state: SharedState, bindings: Record<string, unknown>): FerryLogger {
  const write = (level: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (!state.root.isLevelEnabled(level)) return;
    const merged = fields ? { ...bindings, ...fields } : bindings;
    const { matcher } = state.secrets;
    state.root[level](redactFields(merged, matcher), redactString(String(msg), matcher));
  };
  return {
    level: state.level,
    format: state.format,
    debug: (msg, fields) => write('debug', msg, fields),
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
    // Bindings are kept raw and redacted at each write, so secrets added later still apply.
    child: (fields) => makeLogger(state, { ...bindings, ...fields }),
    addSecrets(more) {
      const { set } = state.secrets;
      const before = set.size;
      for (const secret of more) if (typeof secret === 'string' && secret.length > 0) set.add(secret);
      if (set.size !== before) state.secrets.matcher = compileSecrets(set);
    },
    isLevelEnabled: (level) => state.root.isLevelEnabled(level),
    flush: () => state.root.flush(),
  };
}
