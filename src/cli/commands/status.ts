import type { Command } from 'commander';
import { loadConfig, secretsOf } from '../../config/index.js';
import { createLogger, redactString } from '../../log/index.js';
import { collectStatus, formatStatus } from '../../pipeline/status.js';
import type { CliIo } from '../io.js';
import { rememberSecrets } from '../secrets.js';

export function registerStatus(program: Command, io: CliIo): void {
  program
    .command('status')
    .description('per table: snapshot state, Kafka end offsets, sink applied offsets and lag; plus the source position')
    .requiredOption('-c, --config <file>', 'pipeline config (YAML)')
    .option('--json', 'print JSON (for scripts)')
    .action(async (flags: { config: string; json?: boolean }) => {
      const config = loadConfig(flags.config);
      const secrets = secretsOf(config);
      rememberSecrets(secrets);
      // Problems end in the error ferry prints; kafkajs would log every connection retry on top.
      const logger = createLogger({ level: 'silent', secrets, fields: { pipeline: config.name } });
      const report = await collectStatus(config, logger);
      const text = flags.json ? JSON.stringify(report, null, 2) : formatStatus(report).join('\n');
      io.out(redactString(text, secrets));
    });
}
