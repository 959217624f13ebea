import { FerryError } from '../../api/index.js';
import type { OutMessage } from '../../kafka/producer.js';
import { offsetsTopic } from '../../kafka/topics.js';
import { highestEpoch, stampEpoch } from '../../offsets/leader-epoch.js';
import type { SourceTransport } from './transport.js';

export interface LeaderTerm {
  pipeline: string;
  sourceId: string;
  epoch: number;
  /** True while the lease holds (false while it is paused, and for good once the term ended). */
  holds(): boolean;
  /** True once the term ended (partition reassigned or expired, newer epoch seen, stop). */
  ended(): boolean;
  /** Ends the term: a newer epoch was found in the offsets topic. */
  end(reason: string): void;
}

export function fencedError(term: LeaderTerm, why: string): FerryError {
  return new FerryError(
    'FERRY_FENCED',
    `source instance of epoch ${term.epoch} is no longer the active one (${why}); nothing more is published or stored by it`,
    { retriable: false },
  );
}

/**
 * The source transport of one leader term (docs/failover.md#fencing): every write first checks
 * that the term still holds; every batch that stores a position first compares the latest epoch in
 * `<pipeline>.__offsets` with the term's own (an end-offset probe; the topic is read again only
 * when someone else wrote to it); every record is stamped with the epoch.
 */
export function fencedTransport(inner: SourceTransport, term: LeaderTerm): SourceTransport {
  const topic = offsetsTopic(term.pipeline);
  /** End of the offsets topic as this term last left it (null: unknown, read it). */
  let expectedEnd: bigint | null = null;
  /** Waits while the lease is paused (until a heartbeat renews it); throws once the term ended. */
  const ensure = async (what: string) => {
    while (!term.holds()) {
      if (term.ended()) throw fencedError(term, `lost the lead before ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const checkEpoch = async () => {
    const end = inner.endOffset ? await inner.endOffset(topic) : null;
    if (end !== null && end === expectedEnd) return;
    const newest = highestEpoch(await inner.readTopic(topic), term.sourceId);
    if (newest > term.epoch) {
      term.end(`epoch ${newest} exists in ${topic}`);
      throw fencedError(term, `a newer epoch ${newest} is stored`);
    }
    expectedEnd = end;
  };
  return {
    async ensureTopics(specs) {
      await ensure('creating topics');
      await inner.ensureTopics(specs);
    },
    partitionCount: (t) => inner.partitionCount(t),
    readTopic: (t) => inner.readTopic(t),
    ...(inner.endOffset ? { endOffset: (t: string) => inner.endOffset!(t) } : {}),
    ...(inner.partitionEnds ? { partitionEnds: (t: string) => inner.partitionEnds!(t) } : {}),
    async send(messages: OutMessage[]) {
      await ensure('publishing');
      const stores = messages.filter((m) => m.topic === topic).length;
      if (stores > 0) await checkEpoch();
      await ensure('publishing');
      await inner.send(messages.map((m) => stampEpoch(m, term.epoch, term.pipeline)));
      if (stores > 0 && expectedEnd !== null) expectedEnd += BigInt(stores);
    },
    close: () => inner.close(),
  };
}
