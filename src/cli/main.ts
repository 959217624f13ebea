import { processIo } from './io.js';
import { runCli } from './program.js';

const code = await runCli(process.argv.slice(2), processIo);
// Exit once the command is done: drivers may still hold timers or retries (kafkajs cannot cancel
// a connect that is retrying), and everything that matters is stored by now. Flush stdout first.
process.stdout.write('', () => process.exit(code));
