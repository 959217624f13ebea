import {
  type Assigner,
  AssignerProtocol,
  type Consumer,
  type GroupMember,
  type Kafka,
  type PartitionAssigner,
} from 'kafkajs';
import type { Logger } from '../api/index.js';
import { ensureTopics, withAdmin } from './admin.js';

/**
 * Leader election through Kafka's own group membership (docs/failover.md): every source instance
 * of a pipeline joins the consumer group `<pipeline>.__leader` on the single-partition topic of the
 * same name; the member that Kafka assigns partition 0 is the active one. No other coordination
 * service is involved: the group coordinator removes a member that stops heartbeating for the
 * session timeout, and the next rebalance hands partition 0 to a standby.
 *
 * The holder also keeps a lease: it counts as active only while its last confirmed heartbeat (or
 * join) was sent less than `leaseMs` ago, `leaseMs` being shorter than the session timeout by a
 * margin; in between it is paused, and a session timeout without a confirmed heartbeat ends it. The coordinator can only give partition 0 to someone else a full session timeout after
 * the last heartbeat it received, which is later than the last one sent, so a holder whose lease is
 * still valid cannot have been replaced yet.
 */
export interface LeaderElectorOptions {
  /** `<pipeline>.__leader`: the topic and the consumer group. */
  topic: string;
  groupId: string;
  sessionTimeoutMs: number;
  logger: Logger;
  replicationFactor: number;
}

export type LeaderEvent = { kind: 'assigned' } | { kind: 'lost'; reason: string };

const ASSIGNER = 'ferry-leader';

/** How much of the session timeout the lease keeps in hand. */
export function leaseMsFor(sessionTimeoutMs: number): number {
  return sessionTimeoutMs - Math.max(1000, Math.floor(sessionTimeoutMs / 4));
}

/** Member metadata: the epoch of the term the member runs (null: none), or `holding` while it claims one. */
interface Claim {
  epoch: number | null;
  holding: boolean;
}

/**
 * Partition 0 stays with the member that runs the highest epoch (a stale instance that rejoins
 * with an old epoch loses to the current one); then with a member that is claiming it; else it
 * goes to the member with the smallest id. Every other member gets nothing.
 */
export function pickLeader(members: Array<{ memberId: string; claim: Claim | null }>): string | null {
  const rank = (c: Claim | null) => (c?.epoch != null ? c.epoch + 1 : c?.holding ? 0 : -1);
  const sorted = [...members].sort((a, b) => rank(b.claim) - rank(a.claim) || a.memberId.localeCompare(b.memberId));
  return sorted[0]?.memberId ?? null;
}

function decodeClaim(member: GroupMember): Claim | null {
  try {
    const meta = AssignerProtocol.MemberMetadata.decode(member.memberMetadata);
    if (!meta?.userData || meta.userData.length === 0) return null;
    const c = JSON.parse(meta.userData.toString('utf8')) as Partial<Claim>;
    return { epoch: typeof c.epoch === 'number' ? c.epoch : null, holding: c.holding === true };
  } catch {
    return null;
  }
}

function leaderAssigner(claim: () => Claim): PartitionAssigner {
  return (): Assigner => ({
    name: ASSIGNER,
    version: 1,
    protocol: ({ topics }) => ({
      name: ASSIGNER,
      metadata: AssignerProtocol.MemberMetadata.encode({
        version: 1,
        topics,
        userData: Buffer.from(JSON.stringify(claim())),
      }),
    }),
    async assign({ members, topics }) {
      const winner = pickLeader(members.map((m) => ({ memberId: m.memberId, claim: decodeClaim(m) })));
      return members.map((m) => ({
        memberId: m.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: Object.fromEntries(topics.map((t) => [t, m.memberId === winner ? [0] : []])),
          userData: Buffer.alloc(0),
        }),
      }));
    },
  });
}

export class LeaderElector {
  private consumer: Consumer | null = null;
  private claim: Claim = { epoch: null, holding: false };
  /** Date.now() when the last request of each kind was sent (from kafkajs' request events). */
  private readonly sentAt = new Map<string, number>();
  private leaseBase = 0;
  private assigned = false;
  private readonly leaseMs: number;
  private readonly listeners = new Set<(e: LeaderEvent) => void>();
  private watchdog: NodeJS.Timeout | null = null;

  constructor(
    private readonly kafka: Kafka,
    private readonly o: LeaderElectorOptions,
  ) {
    this.leaseMs = leaseMsFor(o.sessionTimeoutMs);
  }

  on(listener: (e: LeaderEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** True while partition 0 is assigned to this member and its lease holds. Synchronous: the fence. */
  holds(): boolean {
    return this.assigned && Date.now() - this.leaseBase < this.leaseMs;
  }

  /** Partition 0 is assigned to this member (its lease may be paused). */
  isAssigned(): boolean {
    return this.assigned;
  }

  /** What this member tells the assigner on its next join. */
  setClaim(epoch: number | null, holding = false): void {
    this.claim = { epoch, holding };
  }

  /** Joins the group (creating the topic when missing). */
  async start(): Promise<void> {
    await withAdmin(this.kafka, (admin) =>
      ensureTopics(admin, [{ topic: this.o.topic, partitions: 1, replicationFactor: this.o.replicationFactor }]),
    );
    await this.join();
    // A lease that ran out pauses the holder (holds() is false: nothing is written) until the next
    // confirmed heartbeat renews it: a heartbeat accepted for the generation that assigned partition
    // 0 proves that nobody else holds it. Past the session timeout the coordinator has removed this
    // member for certain: the term ends.
    this.watchdog = setInterval(() => {
      if (this.assigned && Date.now() - this.leaseBase >= this.o.sessionTimeoutMs)
        this.lose('no heartbeat confirmed within the session timeout');
    }, 100);
    this.watchdog.unref();
  }

  /** Leaves the group and joins again as a new member (after a term ended while still assigned). */
  async rejoin(): Promise<void> {
    this.lose('rejoining');
    await this.leave();
    await this.join();
  }

  async close(): Promise<void> {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    this.lose('closing');
    await this.leave();
  }

  private async leave(): Promise<void> {
    const c = this.consumer;
    this.consumer = null;
    if (c) await c.disconnect().catch(() => undefined);
  }

  private async join(): Promise<void> {
    const heartbeatInterval = Math.max(100, Math.floor(this.o.sessionTimeoutMs / 10));
    const consumer = this.kafka.consumer({
      groupId: this.o.groupId,
      sessionTimeout: this.o.sessionTimeoutMs,
      rebalanceTimeout: this.o.sessionTimeoutMs,
      heartbeatInterval,
      maxWaitTimeInMs: heartbeatInterval,
      partitionAssigners: [leaderAssigner(() => this.claim)],
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 2000 },
    });
    this.consumer = consumer;
    const mine = () => this.consumer === consumer;
    consumer.on(consumer.events.REQUEST, (e) => {
      if (mine()) this.sentAt.set(e.payload.apiName, e.payload.sentAt);
    });
    consumer.on(consumer.events.HEARTBEAT, () => {
      if (mine() && this.assigned) this.leaseBase = this.sentAt.get('Heartbeat') ?? 0;
    });
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      if (!mine()) return;
      const has = (e.payload.memberAssignment[this.o.topic] ?? []).includes(0);
      if (has) {
        this.leaseBase = this.sentAt.get('SyncGroup') ?? 0;
        if (!this.assigned) {
          this.assigned = true;
          this.o.logger.info('this instance was assigned the leader partition', { memberId: e.payload.memberId });
          this.emit({ kind: 'assigned' });
        }
      } else if (this.assigned) {
        this.lose('the leader partition went to another instance');
      }
    });
    for (const ev of [consumer.events.CRASH, consumer.events.STOP, consumer.events.DISCONNECT]) {
      consumer.on(ev, () => {
        if (mine()) this.lose(`group membership ended (${ev})`);
      });
    }
    consumer.on(consumer.events.REBALANCING, () => {
      if (mine()) this.o.logger.debug('leader group rebalancing');
    });
    await consumer.connect();
    await consumer.subscribe({ topic: this.o.topic, fromBeginning: false });
    await consumer.run({ eachMessage: async () => undefined });
  }

  private lose(reason: string): void {
    if (!this.assigned) return;
    this.assigned = false;
    this.leaseBase = 0;
    this.claim = { epoch: null, holding: false };
    this.o.logger.warn('this instance lost the leader partition', { reason });
    this.emit({ kind: 'lost', reason });
  }

  private emit(e: LeaderEvent): void {
    for (const l of this.listeners) l(e);
  }
}
