import { createInterface } from 'node:readline/promises';
import { type Command, InvalidArgumentError } from 'commander';
import { loadConfig, secretsOf } from '../../config/index.js';
import { rawUrlPassword } from '../../config/url.js';
import {
  cutoverJson,
  DEFAULT_TIMEOUT_MS,
  formatOutcome,
  formatRollback,
  formatStep,
  maskedTargetUrl,
  rollbackReadOnly,
  runCutover,
} from '../../cutover/index.js';
import { createLogger, redactString } from '../../log/index.js';
import { CliExit, EXIT } from '../exit.js';
import type { CliIo } from '../io.js';
import { rememberSecrets } from '../secrets.js';

interface CutoverCliOptions {
  config: string;
  dryRun?: boolean;
  yes?: boolean;
  readOnly: boolean;
  timeout: number;
  json?: boolean;
  sourceAdminUrl?: string;
  terminateSessions?: boolean;
  rollback?: boolean;
}

export interface CutoverCliDeps {
  /** Asks a yes/no question. Default: a prompt on stdin/stderr when both are terminals, else none. */
  confirm?: ((question: string) => Promise<boolean>) | null;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('expected a whole number of seconds, at least 1');
  }
  return n;
}

async function terminalPrompt(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^\s*y(es)?\s*$/i.test(await rl.question(question));
  } finally {
    rl.close();
  }
}

/** The password of `--source-admin-url`, as written and decoded, for redaction. */
function urlSecrets(url: string | undefined): string[] {
  const raw = url ? rawUrlPassword(url) : undefined;
  if (!raw) return [];
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    decoded = raw;
  }
  return [raw, decoded];
}

export function registerCutover(program: Command, io: CliIo, deps: CutoverCliDeps = {}): void {
  program
    .command('cutover')
    .description(
      'the guided end of a move: check lag, make the source read-only, record its final position, wait until ' +
        'the sink applied everything, move sequences / AUTO_INCREMENT on the target, verify, and say what to ' +
        'switch (exit 0 ready, 1 not ready)',
    )
    .requiredOption('-c, --config <file>', 'pipeline config file')
    .option('--dry-run', 'print the plan (each step and its statements) and change nothing')
    .option('--yes', 'answer yes to every question (needed without a terminal)')
    .option('--no-read-only', 'do not switch the source read-only; confirm instead that its writers stopped')
    .option(
      '--timeout <seconds>',
      `how long to wait for the pipeline to catch up (default ${DEFAULT_TIMEOUT_MS / 1000})`,
      seconds,
      DEFAULT_TIMEOUT_MS / 1000,
    )
    .option(
      '--source-admin-url <url>',
      'a source user that may switch read-only (MariaDB READ_ONLY ADMIN / SUPER, PostgreSQL database owner); ' +
        'default: the source.url user. Never printed',
    )
    .option('--terminate-sessions', 'PostgreSQL source: end the other sessions of the database once it is read-only')
    .option('--rollback', 'switch read-only off on the source again (undo step 2) and stop')
    .option('--json', 'print the outcome as JSON')
    .action(async (opts: CutoverCliOptions) => {
      const config = loadConfig(opts.config);
      const secrets = [...secretsOf(config), ...urlSecrets(opts.sourceAdminUrl)];
      rememberSecrets(secrets);
      const safe = (text: string) => redactString(text, secrets);
      const logger = createLogger({
        level: config.log.level,
        format: config.log.format,
        secrets,
        fields: { pipeline: config.name, command: 'cutover' },
        destination: { write: (line: string) => io.err(line.replace(/\n$/, '')), isTTY: io.isTTY },
      });
      const admin = opts.sourceAdminUrl ? { sourceAdminUrl: opts.sourceAdminUrl } : {};

      if (opts.rollback) {
        const r = await rollbackReadOnly(config, { ...admin, dryRun: opts.dryRun === true });
        io.out(safe(opts.json ? JSON.stringify(r, null, 2) : formatRollback(r)));
        return;
      }

      const confirm =
        deps.confirm !== undefined
          ? (deps.confirm ?? undefined)
          : io.isTTY && process.stdin.isTTY
            ? terminalPrompt
            : undefined;
      if (!opts.json) {
        io.out(
          safe(
            `ferry cutover ${config.name}: ${config.source.kind} → ${config.sink.kind} ${maskedTargetUrl(config)}` +
              (opts.dryRun ? ' (dry run: nothing is changed)' : ''),
          ),
        );
      }
      const outcome = await runCutover(config, {
        ...admin,
        logger,
        dryRun: opts.dryRun === true,
        yes: opts.yes === true,
        readOnly: opts.readOnly,
        timeoutMs: opts.timeout * 1000,
        terminateSessions: opts.terminateSessions === true,
        ...(confirm ? { confirm } : {}),
        progress: (line) => io.err(safe(line)),
        onStep: (step) => {
          if (!opts.json) io.out(safe(formatStep(step).join('\n')));
        },
        configFile: opts.config,
      });
      io.out(safe(opts.json ? cutoverJson(outcome) : formatOutcome(outcome).join('\n')));
      if (!outcome.ok && !outcome.dryRun) throw new CliExit(EXIT.failure);
    });
}
