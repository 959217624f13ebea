import type { LogDestination } from './logger.js';

/** A destination that keeps lines in memory: for tests, and for showing a log after the fact. */
export interface MemoryDestination extends LogDestination {
  readonly lines: string[];
  /** Everything written so far, as one string. */
  text(): string;
  /** JSON lines parsed (json format only). */
  entries(): Record<string, unknown>[];
}

export function memoryDestination(options: { isTTY?: boolean } = {}): MemoryDestination {
  const lines: string[] = [];
  return {
    isTTY: options.isTTY ?? false,
    lines,
    write(line: string) {
      lines.push(line);
    },
    text: () => lines.join(''),
    entries: () =>
      lines
        .join('')
        .split('\n')
        .filter((line) => line.trim().length > 0)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
