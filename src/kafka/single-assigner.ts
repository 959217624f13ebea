/**
 * A kafkajs partition assigner that gives every partition of the group to ONE member: the one
 * that joined first (its start time travels in the member metadata); the others are standbys
 * and take over when it leaves. Sinks in transaction mode use it: a source transaction spans
 * partitions, so one process must see them all (docs/transactions.md#sink-groups). Members that
 * use another assigner cannot join the same group (Kafka refuses: no common protocol).
 */
import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

export const SINGLE_ACTIVE_ASSIGNER = 'ferry-single-active';

export function singleActiveAssigner(startedAt: number = Date.now()): PartitionAssigner {
  return ({ cluster }) => ({
    name: SINGLE_ACTIVE_ASSIGNER,
    version: 1,
    protocol({ topics }) {
      const userData = Buffer.from(JSON.stringify({ startedAt }));
      return {
        name: SINGLE_ACTIVE_ASSIGNER,
        metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData }),
      };
    },
    async assign({ members, topics }) {
      const started = (m: (typeof members)[number]): number => {
        try {
          const meta = AssignerProtocol.MemberMetadata.decode(m.memberMetadata);
          const v = JSON.parse(meta?.userData?.toString() || '{}') as { startedAt?: unknown };
          return typeof v.startedAt === 'number' ? v.startedAt : Number.MAX_SAFE_INTEGER;
        } catch {
          return Number.MAX_SAFE_INTEGER;
        }
      };
      const sorted = [...members].sort((a, b) => started(a) - started(b) || a.memberId.localeCompare(b.memberId));
      const active = sorted[0];
      const all: Record<string, number[]> = {};
      for (const topic of topics) {
        all[topic] = cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId);
      }
      return sorted.map((m) => ({
        memberId: m.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: m === active ? all : {},
          userData: Buffer.alloc(0),
        }),
      }));
    },
  });
}
