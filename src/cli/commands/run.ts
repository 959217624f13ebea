import { constants } from 'node:os';
import { type Command, InvalidArgumentError } from 'commander';
import { loadConfig, secretsOf } from '../../config/index.js';
import { createLogger } from '../../log/index.js';
import { FerryMetrics } from '../../metrics/metrics.js';
import { type MetricsServer, startMetricsServer } from '../../metrics/server.js';
import { applyMemorySettings } from '../../pipeline/memory.js';
import { Pipeline, type PipelineRoles } from '../../pipeline/pipeline.js';
import { ProgressView } from '../progress.js';
import { rememberSecrets } from '../secrets.js';

interface RunFlags {
  config: string;
  resnapshot?: boolean;
  progress?: boolean;
  stopTimeout: number;
}

/** After the first SIGINT/SIGTERM, how long a graceful stop may take before ferry exits anyway. */
const DEFAULT_STOP_TIMEOUT_S = 30;

function seconds(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(n > 0)) throw new InvalidArgumentError('expected seconds, more than 0');
  return n;
}

export function registerRun(program: Command): void {
  const roles: Array<[string, PipelineRoles, string]> = [
    ['run', { source: true, sink: true }, 'run a whole pipeline (source and sink) in this process'],
    ['source', { source: true, sink: false }, 'run only the source: database log → Kafka'],
    [
      'sink',
      { source: false, sink: true },
      'run only the sink: Kafka → target database (start several to share the load)',
    ],
  ];
  for (const [name, role, description] of roles) {
    const cmd = program
      .command(name)
      .description(description)
      .requiredOption('-c, --config <file>', 'pipeline config (YAML)')
      .option('--no-progress', 'no live progress view on a terminal')
      .option(
        '--stop-timeout <seconds>',
        'graceful stop bound after SIGINT/SIGTERM; beyond it ferry exits with 1',
        seconds,
        DEFAULT_STOP_TIMEOUT_S,
      );
    if (role.source) cmd.option('--resnapshot', 'forget the stored source position and take a new initial snapshot');
    cmd.action(async (flags: RunFlags) => runPipeline(flags, role));
  }
}

async function runPipeline(flags: RunFlags, roles: PipelineRoles): Promise<void> {
  const config = loadConfig(flags.config);
  applyMemorySettings(config.memory);
  const secrets = secretsOf(config);
  rememberSecrets(secrets);
  const metrics = new FerryMetrics(config.name);
  const tty = Boolean(process.stderr.isTTY) && flags.progress !== false;
  let view: ProgressView | null = null;
  const logger = createLogger({
    level: config.log.level,
    format: config.log.format,
    secrets,
    fields: { pipeline: config.name },
    destination: {
      isTTY: Boolean(process.stderr.isTTY),
      write: (line: string) => (view ? view.writeAbove(line) : process.stderr.write(line)),
    },
  });
  const pipeline = new Pipeline(config, roles, {
    logger,
    metrics,
    ...(flags.resnapshot ? { resnapshot: true } : {}),
    topicRefreshMs: roles.source ? 2000 : 10_000,
    // The runtimes' own flush bound stays inside the process's bound, so they finish first.
    stopTimeoutMs: Math.max(500, flags.stopTimeout * 1000 - 1000),
    // Source and sink each on a core: the sink of `ferry run` runs on its own thread.
    sinkThread: {
      writeLog: (line: string) => (view ? view.writeAbove(line) : process.stderr.write(line)),
      logFormat: config.log.format,
      isTTY: Boolean(process.stderr.isTTY),
    },
  });

  let server: MetricsServer | null = null;
  if (config.metrics.enabled) {
    server = await startMetricsServer(config.metrics.listen, metrics, pipeline);
    logger.info(`metrics on http://${server.address}/metrics (health: /healthz, /readyz)`);
  }
  if (tty) {
    view = new ProgressView(
      process.stderr,
      metrics,
      () => pipeline.sourceProgress(),
      roles,
      () => pipeline.sinkFigures(),
    );
    view.start();
  }

  const stopTimeoutMs = flags.stopTimeout * 1000;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn(`${signal} again: exiting now without a graceful stop (offsets already stored stay valid)`);
      // 128 + the signal's number, as shells report a process killed by it (130 / 143).
      process.exit(128 + (constants.signals[signal] ?? 2));
    }
    stopping = true;
    logger.info(`${signal}: stopping gracefully (send it again to exit at once)`);
    const bound = setTimeout(() => {
      logger.error(
        `graceful stop took longer than ${stopTimeoutMs / 1000}s; exiting (offsets already stored stay valid)`,
      );
      process.exit(1);
    }, stopTimeoutMs);
    bound.unref();
    void pipeline.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const what = roles.source && roles.sink ? 'pipeline' : roles.source ? 'source' : 'sink';
  logger.info(`${what} ${config.name} starting: ${config.source.kind} → Kafka → ${config.sink.kind}`);
  try {
    await pipeline.run();
    logger.info(`${what} ${config.name} stopped`);
  } finally {
    view?.stop();
    view = null;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await server?.close();
  }
}
