import { type Command, InvalidArgumentError } from 'commander';
import { FerryError } from '../../api/errors.js';
import { loadConfig, secretsOf } from '../../config/index.js';
import { createLogger } from '../../log/index.js';
import { DEFAULT_SETTINGS, formatVerifyReport, verifyPipeline, verifyReportJson } from '../../verify/index.js';
import type { CliIo } from '../io.js';
import { rememberSecrets } from '../secrets.js';

interface VerifyCliOptions {
  config: string;
  tables?: string;
  chunkSize?: number;
  maxDrillDepth?: number;
  rechecks?: number;
  recheckDelay?: number;
  concurrency?: number;
  json?: boolean;
}

function integer(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(`expected an integer of at least ${min}`);
    }
    return n;
  };
}

export function registerVerify(program: Command, io: CliIo): void {
  const d = DEFAULT_SETTINGS;
  program
    .command('verify')
    .description(
      'prove the target equals the source: row counts, checksums of key ranges computed inside both databases, ' +
        'drill-down to the keys that are missing, extra or different (exit 0 equal, 1 not equal)',
    )
    .requiredOption('-c, --config <file>', 'pipeline config file')
    .option('--tables <patterns>', 'comma-separated db.table patterns (source or target names) to verify; default all')
    .option('--chunk-size <rows>', `rows per checksum chunk (default ${d.chunkSize})`, integer(1))
    .option(
      '--max-drill-depth <levels>',
      `levels of splitting a mismatched chunk (default ${d.maxDrillDepth})`,
      integer(0),
    )
    .option(
      '--rechecks <n>',
      `re-check rounds for differences, for rows in flight (default ${d.recheck.attempts})`,
      integer(0),
    )
    .option('--recheck-delay <ms>', `pause before each re-check round (default ${d.recheck.delayMs})`, integer(0))
    .option('--concurrency <n>', `chunks compared at once per table (default ${d.concurrency})`, integer(1))
    .option('--json', 'print the report as JSON')
    .action(async (opts: VerifyCliOptions) => {
      const config = loadConfig(opts.config);
      rememberSecrets(secretsOf(config));
      const logger = createLogger({
        level: config.log.level,
        format: config.log.format,
        secrets: secretsOf(config),
        fields: { pipeline: config.name, command: 'verify' },
        destination: { write: (line: string) => io.err(line.replace(/\n$/, '')), isTTY: io.isTTY },
      });
      const tables = opts.tables
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const recheck = {
        ...(opts.rechecks === undefined ? {} : { attempts: opts.rechecks }),
        ...(opts.recheckDelay === undefined ? {} : { delayMs: opts.recheckDelay }),
      };
      const report = await verifyPipeline(config, {
        logger,
        recheck,
        ...(tables ? { tables } : {}),
        ...(opts.chunkSize === undefined ? {} : { chunkSize: opts.chunkSize }),
        ...(opts.maxDrillDepth === undefined ? {} : { maxDrillDepth: opts.maxDrillDepth }),
        ...(opts.concurrency === undefined ? {} : { concurrency: opts.concurrency }),
      });
      io.out(opts.json ? verifyReportJson(report) : formatVerifyReport(report));
      if (!report.equal) {
        const differ = report.tables.filter((t) => !t.equal).map((t) => t.source);
        throw new FerryError(
          'FERRY_VERIFY_MISMATCH',
          `the target differs from the source in ${differ.length} table(s): ${differ.slice(0, 10).join(', ')}${differ.length > 10 ? ', …' : ''}`,
        );
      }
    });
}
