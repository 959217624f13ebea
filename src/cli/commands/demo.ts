import type { Command } from 'commander';
import { defaultSandboxDir, sandboxUp } from '../../sandbox/index.js';
import type { CliIo } from '../io.js';

export function registerDemo(program: Command, io: CliIo): void {
  program
    .command('demo')
    .description('bring up the local sandbox (Kafka, PostgreSQL, MariaDB) and show what is running')
    .option('--dir <dir>', 'sandbox directory', defaultSandboxDir())
    .action(async (opts: { dir: string }) => {
      io.err('ferry demo: starting the sandbox (the first start downloads Kafka from Maven Central)…');
      const info = await sandboxUp({ dir: opts.dir, log: (line) => io.err(`  ${line}`) });
      io.out('');
      io.out('The ferry sandbox is running:');
      io.out(`  Kafka       ${info.kafka.brokers.join(', ')}`);
      io.out(`  MariaDB     ${info.mysql.host}:${info.mysql.port} (binlog ROW, FULL row image and metadata)`);
      io.out(
        `  PostgreSQL  ${info.postgres.host}:${info.postgres.port} (wal_level=logical), database ${info.postgres.database}`,
      );
      io.out(`Connection details: ${opts.dir}/sandbox.json`);
      io.out('Stop it with: npx ferry sandbox down');
    });
}
