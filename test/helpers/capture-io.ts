/** A CliIo that keeps what the CLI prints, for tests that run the CLI in process. */
import type { CliIo } from '../../src/cli/io.js';

/** A non-TTY CliIo collecting stdout and stderr lines. */
export function captureIo(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, isTTY: false, out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
}
