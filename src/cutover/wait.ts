/** Cutover step 4 (and verify's re-check hook): waiting until the pipeline has applied everything. */
import type { Kafka } from 'kafkajs';
import { type PipelineConfig, tableFilterOf } from '../config/index.js';
import { readSourceOffset } from '../offsets/source-offsets.js';
import { sinkConnectorFor } from '../pipeline/connectors.js';
import { readSinkProgress } from '../runtime/sink/status.js';
import type { FinalPosition } from './positions.js';
import type { SourceAdmin } from './source.js';
import { nf } from './steps.js';
import type { CutoverOptions } from './types.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface WaitResult {
  ok: boolean;
  lagEvents: number | null;
  detail: string;
}

/**
 * Waits until the source runtime stored a position at or past `final` (or nothing captured lies
 * between) and then the sink has applied everything Kafka holds. Reports every few seconds.
 */
export async function waitCaughtUp(
  config: PipelineConfig,
  admin: SourceAdmin,
  kafka: Kafka,
  final: FinalPosition,
  deadline: number,
  opts: CutoverOptions,
): Promise<WaitResult> {
  const filter = tableFilterOf(config);
  const poll = opts.pollMs ?? 500;
  const say = opts.progress ?? (() => undefined);
  let lastSaid = 0;
  let published = false;
  let publishedDetail = '';
  let lagEvents: number | null = null;
  const sink = sinkConnectorFor(config);
  await sink.start({ pipeline: config.name, group: config.sink.group, logger: opts.logger });
  try {
    for (;;) {
      let detail: string;
      if (!published) {
        const stored = await readSourceOffset(kafka, config.name);
        const check = await admin.published(stored, final, filter);
        published = check.done;
        publishedDetail = check.detail;
        detail = `source: ${check.detail}`;
      } else {
        detail = `source: ${publishedDetail}`;
      }
      if (published) {
        const progress = await readSinkProgress({ kafka, connector: sink, pipeline: config.name });
        lagEvents = progress.totalLag;
        if (lagEvents === 0) return { ok: true, lagEvents, detail: `${detail}; sink: lag 0` };
        detail += `; sink: ${nf.format(lagEvents)} event(s) to apply`;
      }
      if (Date.now() >= deadline) return { ok: false, lagEvents, detail };
      if (Date.now() - lastSaid >= 5000) {
        say(`cutover: waiting — ${detail}`);
        lastSaid = Date.now();
      }
      await sleep(poll);
    }
  } finally {
    await sink.close().catch(() => undefined);
  }
}
