import { type Command, InvalidArgumentError } from 'commander';
import { runDemo } from '../../demo/demo.js';
import { defaultSandboxDir } from '../../sandbox/index.js';
import { CliExit, EXIT } from '../exit.js';
import type { CliIo } from '../io.js';

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
}

export function registerDemo(program: Command, io: CliIo): void {
  program
    .command('demo')
    .description(
      'a live MariaDB → Kafka → PostgreSQL move on the local sandbox while an application writes, ending in a verification report',
    )
    .option('--dir <dir>', 'sandbox directory', defaultSandboxDir())
    .option('--seconds <n>', 'how long the application keeps writing', positive, 20)
    .option('--orders <n>', 'orders in the initial data', positive, 30_000)
    .action(async (opts: { dir: string; seconds: number; orders: number }) => {
      const equal = await runDemo({
        dir: opts.dir,
        writeSeconds: opts.seconds,
        sizes: { customers: 2000, products: 500, orders: opts.orders },
        out: io.out,
        err: io.err,
      });
      if (!equal) throw new CliExit(EXIT.failure);
    });
}
