/**
 * Every Kafka topic the platform uses. Topic names are defined here and nowhere else.
 */
export const Topics = {
  askRequests: 'toolbus.ask.requests',
  askReplies: 'toolbus.ask.replies',
  askProgress: 'toolbus.ask.progress',
  invokeRequests: 'toolbus.invoke.requests',
  invokeReplies: 'toolbus.invoke.replies',
  modelRequests: 'toolbus.model.requests',
  modelReplies: 'toolbus.model.replies',
  toolResponses: 'tool_responses',
  audit: 'toolbus.audit',
  registryChanges: 'toolbus.registry.changes',
} as const;

export type PlatformTopic = (typeof Topics)[keyof typeof Topics];

/**
 * The topics replies travel on, and the only ones a responder writes a reply to: a request whose
 * `ce_replyto` names any other topic (the audit log, the registry's change log) is refused, so
 * a forged request cannot make a service write there.
 */
export const REPLY_TOPICS: readonly PlatformTopic[] = [
  Topics.askReplies,
  Topics.modelReplies,
  Topics.invokeReplies,
  Topics.toolResponses,
];

const SERVICE_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/** `tool_requests.<service>`: the topic a tool consumer service reads its calls from. */
export function toolRequestsTopic(service: string): string {
  if (!SERVICE_NAME.test(service)) {
    throw new Error(
      `tool service name "${service}" is invalid: use lower-case letters, digits and dashes, starting with a letter (at most 63)`,
    );
  }
  return `tool_requests.${service}`;
}

/** The dead-letter topic of a topic: where messages that could not be handled are parked. */
export function dlqTopic(topic: string): string {
  return `${topic}.dlq`;
}

/** How a topic is created: partitions, and whether it is compacted or kept for a while. */
export interface TopicSpec {
  name: string;
  partitions: number;
  /** Compacted topics keep the latest value per key forever (the registry's change log). */
  compacted?: boolean;
  retentionMs?: number;
}

const DAY = 24 * 60 * 60 * 1000;

/**
 * The platform's topics with their settings. Reply topics have enough partitions that each
 * waiting instance of a service owns at least one (see libs/messaging: replies are routed to a
 * partition the requester owns, never broadcast). Each topic has a dead-letter twin.
 */
export function platformTopics(toolServices: readonly string[] = []): TopicSpec[] {
  const base: TopicSpec[] = [
    { name: Topics.askRequests, partitions: 12, retentionMs: 7 * DAY },
    { name: Topics.askReplies, partitions: 16, retentionMs: 1 * DAY },
    { name: Topics.askProgress, partitions: 12, retentionMs: 1 * DAY },
    { name: Topics.invokeRequests, partitions: 12, retentionMs: 1 * DAY },
    { name: Topics.invokeReplies, partitions: 16, retentionMs: 1 * DAY },
    { name: Topics.modelRequests, partitions: 12, retentionMs: 7 * DAY },
    { name: Topics.modelReplies, partitions: 16, retentionMs: 1 * DAY },
    { name: Topics.toolResponses, partitions: 16, retentionMs: 1 * DAY },
    { name: Topics.audit, partitions: 6, retentionMs: 30 * DAY },
    { name: Topics.registryChanges, partitions: 3, compacted: true },
    ...toolServices.map((s) => ({
      name: toolRequestsTopic(s),
      partitions: 12,
      retentionMs: 7 * DAY,
    })),
  ];
  return base.flatMap((t) => [t, { name: dlqTopic(t.name), partitions: 1, retentionMs: 30 * DAY }]);
}
