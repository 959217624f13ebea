import { Command, CommanderError } from 'commander';
import { FerryError } from '../api/errors.js';
import { FERRY_VERSION } from '../event/envelope.js';
import { isSecretKey, MASK, redactString } from '../log/index.js';
import { registerCutover } from './commands/cutover.js';
import { registerDemo } from './commands/demo.js';
import { registerRun } from './commands/run.js';
import { registerSandbox } from './commands/sandbox.js';
import { registerSnapshot } from './commands/snapshot.js';
import { registerStatus } from './commands/status.js';
import { registerValidate } from './commands/validate.js';
import { registerVerify } from './commands/verify.js';
import { CliExit, EXIT, exitCodeFor } from './exit.js';
import type { CliIo } from './io.js';
import { rememberedSecrets } from './secrets.js';

/** Builds the `ferry` command tree. Separate from main.ts so tests can run it in-process. */
export function buildProgram(io: CliIo): Command {
  const program = new Command('ferry')
    .description('ferry — change data capture: MySQL/MariaDB and PostgreSQL → Kafka → PostgreSQL or MySQL/MariaDB')
    .version(FERRY_VERSION, '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.replace(/\n$/, '')),
      writeErr: (s) => io.err(s.replace(/\n$/, '')),
    });
  registerRun(program);
  registerSnapshot(program, io);
  registerValidate(program, io);
  registerStatus(program, io);
  registerVerify(program, io);
  registerCutover(program, io);
  registerSandbox(program, io);
  registerDemo(program, io);
  for (const cmd of program.commands) {
    cmd.exitOverride();
    for (const sub of cmd.commands) sub.exitOverride();
  }
  return program;
}

/**
 * Masks the value of every `key: value` line whose key looks secret. A YAML syntax error quotes
 * the offending line of the config, which can be `password: <the password>`; the config did not
 * load, so its secrets are not known yet.
 */
export function maskSecretLines(text: string): string {
  return text.replace(/^(\s*(?:-\s+)?["']?)([A-Za-z0-9_.-]+)(["']?[ \t]*:[ \t]+)(\S.*)$/gm, (line, pre, key, sep) =>
    isSecretKey(key) ? `${pre}${key}${sep}${MASK}` : line,
  );
}

/** Runs the command line and returns the exit code (never calls process.exit itself). */
export async function runCli(argv: string[], io: CliIo, secrets: string[] = []): Promise<number> {
  const program = buildProgram(io);
  if (argv.length === 0) {
    program.outputHelp();
    return EXIT.usage;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CliExit) return err.exitCode;
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
        return EXIT.ok;
      }
      // commander already printed its message (unknown command/option, missing argument).
      io.err(`Run \`ferry --help\` (or \`ferry <command> --help\`) to see what is allowed.`);
      return EXIT.usage;
    }
    const code = exitCodeFor(err);
    const known = [...secrets, ...rememberedSecrets()];
    // Messages never carry secrets on purpose; redaction also catches URLs with credentials
    // that a driver may have echoed back.
    const text =
      err instanceof FerryError
        ? `ferry: ${err.message} [${err.code}]`
        : `ferry: ${(err as Error)?.stack ?? String(err)}`;
    io.err(redactString(maskSecretLines(text), known));
    return code;
  }
}
