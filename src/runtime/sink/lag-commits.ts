/**
 * Kafka group offsets for lag tools (docs/sinks.md#offsets): the offsets that count are stored in
 * the target with the rows; these only let `kafka-consumer-groups` and other lag tools see where
 * the group is. So they are sent outside the apply path: the latest offset per partition is kept,
 * and one commit request at a time carries all of them. Under load that is one request per round
 * trip, not one per applied chunk; the last offsets are always sent once the request before them
 * returned. A failed commit is logged at debug and left to the next one.
 */
import type { Logger } from '../../api/index.js';

export interface LagOffset {
  topic: string;
  partition: number;
  /** The next offset to read (one past the last applied record). */
  offset: string;
}

export class LagCommits {
  private pending = new Map<string, LagOffset>();
  private inFlight: Promise<void> | null = null;

  constructor(
    private readonly commit: (offsets: LagOffset[]) => Promise<void>,
    private readonly logger: Logger,
  ) {}

  /** A partition was applied up to `offset` (exclusive). */
  note(topic: string, partition: number, offset: string): void {
    this.pending.set(`${topic}\u0000${partition}`, { topic, partition, offset });
    this.send();
  }

  /** Partitions were reassigned: what waits belongs to the old assignment. */
  clear(): void {
    this.pending.clear();
  }

  /** Waits for the request under way and the one after it, if any (before the consumer leaves). */
  async settle(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  private send(): void {
    if (this.inFlight || this.pending.size === 0) return;
    const offsets = [...this.pending.values()];
    this.pending.clear();
    this.inFlight = this.commit(offsets)
      .catch((err: unknown) => {
        this.logger.debug('could not commit Kafka group offsets (only used by lag tools)', {
          error: err instanceof Error ? err.message : String(err),
        });
      })
      .finally(() => {
        this.inFlight = null;
        this.send();
      });
  }
}
