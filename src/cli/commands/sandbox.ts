import type { Command } from 'commander';
import { FerryError } from '../../api/errors.js';
import {
  defaultSandboxDir,
  SERVER_NAMES,
  type ServerName,
  sandboxDown,
  sandboxStatus,
  sandboxUp,
} from '../../sandbox/index.js';
import type { CliIo } from '../io.js';

function parseOnly(value: string | undefined): ServerName[] | undefined {
  if (!value) return undefined;
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of names) {
    if (!(SERVER_NAMES as readonly string[]).includes(n)) {
      throw new FerryError('FERRY_USAGE', `--only: unknown server "${n}"; allowed: ${SERVER_NAMES.join(', ')}`);
    }
  }
  return names as ServerName[];
}

export function registerSandbox(program: Command, io: CliIo): void {
  const sandbox = program
    .command('sandbox')
    .description('local Kafka, PostgreSQL and MariaDB servers for the demo, tests and trials (no Docker needed)');

  sandbox
    .command('up')
    .description('start the sandbox servers (detached) and write <dir>/sandbox.json with their addresses')
    .option('--dir <dir>', 'sandbox directory (data, logs, pid files)', defaultSandboxDir())
    .option('--only <servers>', `comma-separated subset of ${SERVER_NAMES.join(',')}`)
    .option('--tls', 'a new sandbox with TLS-only servers and a throwaway CA (docs/security.md)')
    .action(async (opts: { dir: string; only?: string; tls?: boolean }) => {
      const only = parseOnly(opts.only);
      const info = await sandboxUp({
        dir: opts.dir,
        ...(only ? { only } : {}),
        ...(opts.tls ? { tls: true } : {}),
        log: (line) => io.err(line),
      });
      io.out(`sandbox is up (${opts.dir}/sandbox.json)`);
      if (info.kafka) io.out(`  kafka      ${info.kafka.brokers.join(',')}${info.tls ? ' (SSL)' : ''}`);
      if (info.tls) {
        io.out(
          `  kafka      ${info.tls.kafkaSaslBrokers.join(',')} (SASL_SSL, ${info.tls.saslMechanism}, user ${info.tls.saslUser})`,
        );
        io.out(`  tls        every server takes TLS only; CA ${info.tls.caFile}`);
      }
      if (info.mysql) io.out(`  mariadb    ${info.mysql.host}:${info.mysql.port}  user ${info.mysql.user}`);
      if (info.postgres) {
        io.out(
          `  postgres   ${info.postgres.host}:${info.postgres.port}  user ${info.postgres.user}  db ${info.postgres.database}`,
        );
      }
      io.out('stop it with: npx ferry sandbox down');
    });

  sandbox
    .command('down')
    .description('stop the sandbox servers (their data is kept for the next `up`)')
    .option('--dir <dir>', 'sandbox directory', defaultSandboxDir())
    .action(async (opts: { dir: string }) => {
      await sandboxDown({ dir: opts.dir, log: (line) => io.err(line) });
      io.out('sandbox is down');
    });

  sandbox
    .command('status')
    .description('show which sandbox servers are running')
    .option('--dir <dir>', 'sandbox directory', defaultSandboxDir())
    .option('--json', 'print JSON')
    .action(async (opts: { dir: string; json?: boolean }) => {
      const status = sandboxStatus({ dir: opts.dir });
      if (opts.json) {
        io.out(JSON.stringify(status, null, 2));
        return;
      }
      for (const [name, s] of Object.entries(status)) {
        io.out(
          `${name.padEnd(10)} ${s.running ? `running (pid ${s.pid})` : 'stopped'}  port ${s.port}  log ${s.logFile}`,
        );
      }
    });
}
