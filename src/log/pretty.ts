/**
 * The human log format: one line per entry,
 * `21:54:07.123 INFO  source connected table=shop.orders position=binlog.000003:1234`.
 * Error-level entries that carry an error add its stack (and causes) on indented lines below.
 * Pure: turns one JSON line written by pino into one pretty line.
 */

const LEVEL_LABELS: Record<string, string> = {
  debug: 'DEBUG',
  info: 'INFO ',
  warn: 'WARN ',
  error: 'ERROR',
  fatal: 'FATAL',
  trace: 'TRACE',
};

const LEVEL_COLORS: Record<string, string> = {
  trace: '\x1b[90m',
  debug: '\x1b[90m',
  info: '\x1b[32m',
  warn: '\x1b[33m',
  error: '\x1b[31m',
  fatal: '\x1b[31m',
};
const RESET = '\x1b[0m';
const DIM = '\x1b[2m';

/** Fields of the JSON line that the pretty line shows elsewhere or leaves out. */
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

export interface PrettyOptions {
  /** ANSI colours for the level and field names. */
  color?: boolean;
}

interface ErrorLike {
  type?: unknown;
  message: string;
  code?: unknown;
  stack?: unknown;
  cause?: unknown;
}

function isErrorLike(value: unknown): value is ErrorLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ErrorLike).message === 'string' &&
    typeof (value as ErrorLike).stack === 'string'
  );
}

function timeOfDay(time: unknown): string {
  const date = typeof time === 'string' || typeof time === 'number' ? new Date(time) : new Date();
  if (Number.isNaN(date.getTime())) return String(time);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

function describeError(err: ErrorLike): string {
  const head = [err.type, err.code].filter((part) => typeof part === 'string' && part.length > 0).join(' ');
  let text = head ? `${head}: ${err.message}` : err.message;
  let cause = err.cause;
  for (let depth = 0; cause !== undefined && cause !== null && depth < 5; depth++) {
    if (typeof cause === 'object' && typeof (cause as ErrorLike).message === 'string') {
      const inner = cause as ErrorLike;
      text += ` <- ${typeof inner.type === 'string' ? `${inner.type}: ` : ''}${inner.message}`;
      cause = inner.cause;
    } else {
      text += ` <- ${formatValue(cause)}`;
      break;
    }
  }
  return text;
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return value === '' || /[\s"=]/.test(value) ? JSON.stringify(value) : value;
  if (isErrorLike(value)) return JSON.stringify(describeError(value));
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

function stackLines(err: ErrorLike): string[] {
  const lines: string[] = [];
  let current: unknown = err;
  for (let depth = 0; isErrorLike(current) && depth < 5; depth++) {
    const frames = String(current.stack)
      .split('\n')
      .filter((line) => line.trimStart().startsWith('at '));
    if (depth > 0) lines.push(`    caused by ${describeError({ ...current, cause: undefined })}`);
    for (const frame of frames) lines.push(`    ${frame.trim()}`);
    current = current.cause;
  }
  return lines;
}

/** Formats one pino JSON line (with a trailing newline or not) as one pretty line plus `\n`. */
export function formatPrettyLine(jsonLine: string, options: PrettyOptions = {}): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(jsonLine) as Record<string, unknown>;
  } catch {
    return jsonLine.endsWith('\n') ? jsonLine : `${jsonLine}\n`;
  }
  const level = typeof entry['level'] === 'string' ? entry['level'] : 'info';
  const label = LEVEL_LABELS[level] ?? level.toUpperCase().padEnd(5);
  const color = options.color === true;
  const parts = [timeOfDay(entry['time']), color ? `${LEVEL_COLORS[level] ?? ''}${label}${RESET}` : label];
  if (typeof entry['msg'] === 'string' && entry['msg'].length > 0) parts.push(entry['msg']);
  const errors: ErrorLike[] = [];
  for (const [key, value] of Object.entries(entry)) {
    if (HIDDEN.has(key)) continue;
    if (isErrorLike(value)) errors.push(value);
    parts.push(color ? `${DIM}${key}=${RESET}${formatValue(value)}` : `${key}=${formatValue(value)}`);
  }
  const lines = [parts.join(' ')];
  if (level === 'error' || level === 'fatal') for (const err of errors) lines.push(...stackLines(err));
  return `${lines.join('\n')}\n`;
}
