/**
 * A thin process entry for one sink: `node dist/src/runtime/sink/main.js <options.json>`.
 * Used by the fault tests (SIGKILL, several processes in one group) and handy for running a sink
 * without a pipeline config. The CLI (`ferry sink`) builds the same SinkRuntime from the config.
 *
 * Exit codes: 0 after a graceful stop (SIGTERM/SIGINT), 1 when the sink fails, 2 for bad options.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { FerryError, isFerryError } from '../../api/index.js';
import { createKafka } from '../../kafka/client.js';
import { createLogger, type LogLevel } from '../../log/index.js';
import { FerryMetrics } from '../../metrics/metrics.js';
import { createSinkConnector, type SinkTargetOptions } from './connectors.js';
import { SinkRuntime, type SinkRuntimeOptions } from './runtime.js';

export interface SinkMainOptions extends Omit<SinkRuntimeOptions, 'connector' | 'kafka' | 'logger' | 'metrics'> {
  kafka: { brokers: string[]; clientId?: string };
  sink: SinkTargetOptions;
  logLevel?: LogLevel;
}

function readOptions(file: string): SinkMainOptions {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new FerryError('FERRY_CONFIG_FILE', `cannot read sink options ${file}: ${(err as Error).message}`);
  }
  const o = parsed as Partial<SinkMainOptions>;
  if (
    !o ||
    typeof o.pipeline !== 'string' ||
    typeof o.group !== 'string' ||
    !o.kafka?.brokers?.length ||
    !o.sink?.kind
  ) {
    throw new FerryError('FERRY_CONFIG_INVALID', `${file}: needs pipeline, group, kafka.brokers and sink.kind`);
  }
  return o as SinkMainOptions;
}

export async function sinkMain(argv: string[]): Promise<number> {
  const file = argv[0];
  if (!file) {
    process.stderr.write('usage: node dist/src/runtime/sink/main.js <options.json>\n');
    return 2;
  }
  let opts: SinkMainOptions;
  try {
    opts = readOptions(file);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  const secrets = [opts.sink.password, opts.sink.url].filter((s): s is string => typeof s === 'string' && s.length > 0);
  const logger = createLogger({
    level: opts.logLevel ?? 'info',
    format: 'json',
    secrets,
    fields: { pid: process.pid },
  });
  const { kafka: kafkaOpts, sink, logLevel: _level, ...runtimeOpts } = opts;
  const kafka = createKafka(
    { brokers: kafkaOpts.brokers, clientId: kafkaOpts.clientId ?? `ferry-sink-${opts.pipeline}` },
    logger,
  );
  const runtime = new SinkRuntime({
    ...runtimeOpts,
    connector: createSinkConnector(sink),
    kafka,
    logger,
    metrics: new FerryMetrics(opts.pipeline),
  });
  const onSignal = (signal: string) => {
    logger.info('signal received; stopping gracefully', { signal });
    void runtime.stop();
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
  try {
    await runtime.run();
    logger.info('sink stopped');
    return 0;
  } catch (err) {
    const code = isFerryError(err) ? err.code : 'FERRY_INTERNAL';
    logger.error('sink failed', { code, error: (err as Error).message });
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  sinkMain(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${(err as Error)?.stack ?? err}\n`);
      process.exit(1);
    },
  );
}
