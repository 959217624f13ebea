import type { Logger } from '../../api/index.js';
import { decodeSignal } from '../../signals/signals.js';
import { sleep } from '../retry.js';
import type { SnapshotEngine } from './snapshot-engine.js';
import type { SourceTransport } from './transport.js';

export interface SignalPollOptions {
  transport: SourceTransport;
  topic: string;
  engine: SnapshotEngine;
  intervalMs: number;
  signal: AbortSignal;
  logger: Logger;
}

/**
 * Picks up snapshot requests from `<pipeline>.__signals` while the source runs: every
 * `intervalMs`, when the topic grew past the offset the engine stored last, reads the new records
 * and queues their tables. The offset of the next record rides on the stored progress, so a
 * request is taken exactly once in effect (a restart before it was stored takes it again, which
 * only re-reads the tables once more).
 */
export async function pollSignals(o: SignalPollOptions): Promise<void> {
  let next = BigInt(o.engine.signals ?? '0');
  let failing = false;
  while (!o.signal.aborted) {
    try {
      const end = o.transport.endOffset ? await o.transport.endOffset(o.topic) : null;
      if (end === null || end > next) {
        const records = await o.transport.readTopic(o.topic);
        for (const r of records) {
          const offset = BigInt(r.offset);
          if (offset < next || r.value === null) continue;
          next = offset + 1n;
          try {
            const request = decodeSignal(r.value, r.offset);
            const unknown = request.keys
              ? o.engine.requestKeys(request.tables[0]!, request.keys, next.toString())
              : o.engine.request(request.tables, next.toString());
            if (unknown.length > 0) {
              o.logger.warn('snapshot request names tables the pipeline does not capture; ignored them', {
                tables: unknown,
                offset: r.offset,
              });
            }
          } catch (err) {
            o.logger.warn('ignored a signal ferry does not understand', { error: (err as Error).message });
            o.engine.request([], next.toString());
          }
        }
      }
      failing = false;
    } catch (err) {
      if (!failing) o.logger.warn('reading snapshot requests failed; retrying', { error: (err as Error).message });
      failing = true;
    }
    await sleep(o.intervalMs, o.signal).catch(() => undefined);
  }
}
