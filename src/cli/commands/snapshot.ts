import type { Command } from 'commander';
import { FerryError, isTableCaptured, tableName } from '../../api/index.js';
import { loadConfig, secretsOf, tableFilterOf } from '../../config/index.js';
import { createLogger } from '../../log/index.js';
import { sourceConnectorFor } from '../../pipeline/connectors.js';
import { kafkaFor } from '../../pipeline/pipeline.js';
import { requestSnapshot } from '../../signals/send.js';
import type { CliIo } from '../io.js';
import { rememberSecrets } from '../secrets.js';

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerSnapshot(program: Command, io: CliIo): void {
  program
    .command('snapshot')
    .description(
      'read tables again while the pipeline keeps streaming (a request a running source picks up; ferry status shows progress)',
    )
    .requiredOption('-c, --config <file>', 'pipeline config (YAML)')
    .requiredOption('-t, --table <db.table>', 'a captured table to snapshot again (repeat for more)', collect, [])
    .action(async (flags: { config: string; table: string[] }) => {
      const config = loadConfig(flags.config);
      const secrets = secretsOf(config);
      rememberSecrets(secrets);
      const filter = tableFilterOf(config);
      for (const name of flags.table) {
        const dot = name.indexOf('.');
        const id = dot > 0 ? { db: name.slice(0, dot), table: name.slice(dot + 1) } : null;
        if (!id?.table || !isTableCaptured(filter, id)) {
          throw new FerryError(
            'FERRY_USAGE',
            `--table ${name}: not a table this pipeline captures (write it as db.table, matching source.tables ` +
              `${JSON.stringify(config.source.tables)} and not source.exclude)`,
          );
        }
      }
      const logger = createLogger({ level: 'silent', secrets, fields: { pipeline: config.name } });
      const kafka = kafkaFor(config, logger, 'snapshot', true);
      // The source's captured tables as they are now: a name that matches the patterns but names
      // no table (a typo) is refused.
      const connector = sourceConnectorFor(config);
      let captured: Set<string>;
      try {
        const ctx = { pipeline: config.name, logger, filter, signal: new AbortController().signal };
        captured = new Set((await connector.discover(ctx)).map(tableName));
      } finally {
        await connector.close().catch(() => undefined);
      }
      const unknown = flags.table.filter((t) => !captured.has(t));
      if (unknown.length > 0) {
        throw new FerryError(
          'FERRY_USAGE',
          `--table ${unknown.join(', ')}: no such table is captured by pipeline ${config.name} ` +
            `(captured: ${[...captured].sort().join(', ') || 'none'})`,
        );
      }
      const id = await requestSnapshot(kafka, config.name, flags.table, config.kafka.replicationFactor);
      io.out(
        `requested a snapshot of ${flags.table.join(', ')} (request ${id}); the running source reads ` +
          `${flags.table.length > 1 ? 'them' : 'it'} while it streams: \`ferry status -c ${flags.config}\` shows the progress`,
      );
    });
}
