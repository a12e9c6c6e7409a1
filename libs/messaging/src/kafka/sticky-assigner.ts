import kafkajs, { type PartitionAssigner } from 'kafkajs';
import { stickyAssign } from '../core/sticky-assignment.js';

const { AssignerProtocol } = kafkajs;

/** What the member owns now; read when it (re)joins, so the leader can keep it in place. */
export interface OwnedPartitions {
  topic: string;
  partitions: number[];
}

/** kafkajs assigner around {@link stickyAssign}; members share their owned partitions as userData. */
export function stickyAssigner(owned: OwnedPartitions): PartitionAssigner {
  return ({ cluster }) => ({
    name: 'ToolbusSticky',
    version: 1,
    async assign({ members, topics }) {
      const perTopic = new Map<string, Map<string, number[]>>();
      for (const topic of topics) {
        const partitions = cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId);
        const sticky = members.map((m) => {
          const meta = AssignerProtocol.MemberMetadata.decode(m.memberMetadata);
          let previous: number[] = [];
          try {
            const data = meta?.userData?.length
              ? (JSON.parse(meta.userData.toString()) as OwnedPartitions)
              : undefined;
            if (data?.topic === topic && Array.isArray(data.partitions))
              previous = data.partitions.filter(Number.isInteger);
          } catch {
            // A member with unreadable userData simply starts from nothing.
          }
          return { id: m.memberId, previous };
        });
        perTopic.set(topic, stickyAssign(partitions, sticky));
      }
      return members.map((m) => ({
        memberId: m.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: Object.fromEntries(
            topics.map((t) => [t, perTopic.get(t)?.get(m.memberId) ?? []]),
          ),
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }) {
      return {
        name: 'ToolbusSticky',
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: 1,
          topics,
          userData: Buffer.from(JSON.stringify(owned)),
        }),
      };
    },
  });
}
