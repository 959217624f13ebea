import { FerryError } from '../api/errors.js';

/** Exit codes of every ferry command (docs/cli.md). */
export const EXIT = {
  ok: 0,
  /** Runtime failure, failed check or verification mismatch. */
  failure: 1,
  /** Usage or configuration error. */
  usage: 2,
} as const;

/** Errors a restart cannot fix: the command line, the config, or TLS settings that do not match the server. */
const USAGE_CODES = new Set([
  'FERRY_USAGE',
  'FERRY_CONFIG_INVALID',
  'FERRY_CONFIG_FILE',
  'FERRY_CONFIG_ENV',
  'FERRY_TLS',
]);

export function exitCodeFor(err: unknown): number {
  if (err instanceof FerryError && USAGE_CODES.has(err.code)) return EXIT.usage;
  return EXIT.failure;
}

/** Thrown by a command that already reported its outcome and only needs a non-zero exit code. */
export class CliExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
    this.name = 'CliExit';
  }
}
