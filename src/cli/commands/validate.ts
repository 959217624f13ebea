import type { Command } from 'commander';
import { loadConfig, secretsOf } from '../../config/index.js';
import { createLogger, redactString } from '../../log/index.js';
import { formatChecks, runChecks } from '../../pipeline/checks.js';
import { CliExit, EXIT } from '../exit.js';
import type { CliIo } from '../io.js';
import { rememberSecrets } from '../secrets.js';

export function registerValidate(program: Command, io: CliIo): void {
  program
    .command('validate')
    .description(
      'check the config, then the live systems: Kafka, source settings and privileges, target (exit 0 ok, 1 a check failed, 2 config error)',
    )
    .requiredOption('-c, --config <file>', 'pipeline config (YAML)')
    .option('--config-only', 'check the config file only, not the live systems')
    .option('--json', 'print the checks as JSON')
    .action(async (flags: { config: string; configOnly?: boolean; json?: boolean }) => {
      const config = loadConfig(flags.config);
      const secrets = secretsOf(config);
      rememberSecrets(secrets);
      if (flags.configOnly) {
        io.out(
          flags.json
            ? JSON.stringify({ ok: true, sections: [] })
            : `✓ ${flags.config} is a valid pipeline config (${config.name})`,
        );
        return;
      }
      // Every problem becomes a ✗ line with its fix; driver and kafkajs logs would only repeat
      // them (kafkajs logs each connection retry).
      const logger = createLogger({ level: 'silent', secrets, fields: { pipeline: config.name } });
      if (!flags.json) io.out(`✓ config ${flags.config} (${config.name})`);
      // Text: each section as soon as it is checked (an unreachable server takes a while).
      const sections = await runChecks(config, logger, (section) => {
        if (!flags.json) for (const line of formatChecks([section])) io.out(redactString(line, secrets));
      });
      const ok = sections.every((s) => s.checks.every((c) => c.ok));
      if (flags.json) io.out(redactString(JSON.stringify({ ok, sections }, null, 2), secrets));
      else io.out(ok ? 'all checks passed' : 'some checks failed: fix them and run `ferry validate` again');
      if (!ok) throw new CliExit(EXIT.failure);
    });
}
