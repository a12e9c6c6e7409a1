import type { CloudEventAttributes, Headers, MessageKind, TopicSpec } from '@toolbus/contracts';
import type { z } from 'zod';

/** A message to publish. The payload is JSON; `type` becomes the CloudEvents `ce_type`. */
export interface OutgoingMessage<T = unknown> {
  type: string;
  value: T;
  /** Kafka key: the contextId for conversation traffic, the idempotency key for tool traffic. */
  key?: string;
  /** Extra headers; `ce_*` attributes are set by the bus. */
  headers?: Headers;
  /** Event id; a random UUID when omitted. */
  id?: string;
  subject?: string;
}

/** A message as a handler receives it: decoded, validated, with its CloudEvents attributes. */
export interface IncomingMessage<T = unknown> {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: T;
  headers: Headers;
  event: CloudEventAttributes;
  /**
   * The kind the message arrived as, when the subscription names a `kind`. An older version has
   * already been upcast, so `value` always has the subscription kind's shape; `kind.version`
   * tells which version the producer sent (for logs, metrics, or the rare handler that cares).
   */
  kind?: MessageKind;
  /** 1 on first delivery to this consumer, then 2, 3... while the handler is being retried. */
  attempt: number;
  /** Aborted when the consumer shuts down and the shutdown deadline passed. */
  signal: AbortSignal;
}

export type MessageHandler<T> = (message: IncomingMessage<T>) => Promise<void>;

/** Retry policy of a subscription: exponential backoff with full jitter, then the DLQ. */
export interface RetryPolicy {
  /** Attempts in total, including the first. Default 5. */
  attempts?: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
}

export interface SubscribeOptions<T = unknown> {
  topic: string;
  /** Consumer group; instances with the same group share the topic's partitions. */
  groupId: string;
  /** Most messages handled at once by this instance. Default 8. */
  concurrency?: number;
  /**
   * The message kind the handler is written for (libs/contracts): its `ce_type` is accepted and
   * its schema validates the payload. Use instead of `schema` and `types`; see `forKind`.
   */
  kind?: MessageKind<z.ZodType<T>>;
  /**
   * Older versions of `kind` accepted too, each validated by its own schema and then upcast to
   * `kind`'s shape by the upcasts declared with the kinds; subscribing fails when one cannot be.
   */
  olderVersions?: readonly MessageKind[];
  /** Payload schema; a message that fails it is parked on the DLQ without being retried. */
  schema?: z.ZodType<T>;
  /** Accepted `ce_type` values; anything else is parked on the DLQ, the reason naming these. */
  types?: string[];
  retry?: RetryPolicy;
  /** Read from the oldest retained message when the group has no committed offset. Default true. */
  fromBeginning?: boolean;
}

/** Subscribe options of a responder, and the reply topics it answers on beyond the platform's. */
export interface RespondOptions<T = unknown> extends SubscribeOptions<T> {
  /**
   * Topics this responder may send replies to, on top of the bus's (`REPLY_TOPICS` of
   * libs/contracts and `BusOptions.replyTopics`). A request naming any other `ce_replyto` is
   * parked on the DLQ unanswered.
   */
  replyTopics?: readonly string[];
}

/** What a responder returns: the reply's type and payload. */
export interface Reply<R = unknown> {
  type: string;
  value: R;
  headers?: Headers;
}

export type RequestHandler<T, R> = (message: IncomingMessage<T>) => Promise<Reply<R>>;

export interface RequestOptions<R = unknown> {
  /** Topic the reply comes back on (e.g. `tool_responses`). */
  replyTopic: string;
  /** How long to wait; the deadline header tells the responder when to give up. Default 30 s. */
  timeoutMs?: number;
  /** Validates the reply payload; a reply that fails it rejects the request. */
  replySchema?: z.ZodType<R>;
}

/** Counters of one subscription, for tests, benchmarks and health. */
export interface SubscriptionStats {
  inFlight: number;
  maxInFlight: number;
  /** Fetched messages not yet started: bounded by the fetch size, never the backlog. */
  buffered: number;
  maxBuffered: number;
  handled: number;
  retried: number;
  deadLettered: number;
  expired: number;
}

export interface Subscription {
  readonly topic: string;
  readonly groupId: string;
  stats(): SubscriptionStats;
  /** Stops fetching, lets in-flight work finish within the deadline, commits, disconnects. */
  stop(deadlineMs?: number): Promise<void>;
}

/**
 * The platform's message bus. Implementations: Kafka (`createKafkaBus`) and in-memory
 * (`createMemoryBus`); both pass the same contract suite, so services never know which.
 */
export interface MessageBus {
  /** Which transport carries the messages (readiness checks name it). */
  readonly kind: 'kafka' | 'memory';
  publish<T>(topic: string, message: OutgoingMessage<T>): Promise<void>;
  subscribe<T>(options: SubscribeOptions<T>, handler: MessageHandler<T>): Promise<Subscription>;
  /** Sends a request and waits for its one reply; rejects with RequestTimeoutError at the deadline. */
  request<T, R>(
    topic: string,
    message: OutgoingMessage<T>,
    options: RequestOptions<R>,
  ): Promise<IncomingMessage<R>>;
  /**
   * Joins the reply group of `replyTopic` now, so the first request does not wait for it;
   * services call it at start-up before reporting ready.
   */
  prepareReplies(replyTopic: string): Promise<void>;
  /**
   * Answers requests on a topic; the reply goes to the one instance that waits for it, and only
   * to a reply topic: a request naming another (or a partition its topic lacks) is parked on
   * the DLQ with the reason, unanswered.
   */
  respond<T, R>(options: RespondOptions<T>, handler: RequestHandler<T, R>): Promise<Subscription>;
  /** Creates the topics that do not exist yet; existing ones are left as they are. */
  ensureTopics(specs: TopicSpec[]): Promise<void>;
  /** Stops every subscription (finishing in-flight work within the deadline) and disconnects. */
  close(deadlineMs?: number): Promise<void>;
  /** True while connected; used by readiness probes. */
  isHealthy(): Promise<boolean>;
}

/**
 * Subscribe options for a message kind from libs/contracts, typing the handler's payload, and
 * the older versions of it the handler accepts as well (delivered upcast to `kind`'s shape):
 * `forKind(Messages.toolCallRequested)`, or mid-migration `forKind(ToolCallRequestedV2, Messages.toolCallRequested)`.
 */
export function forKind<K extends MessageKind>(
  kind: K,
  ...olderVersions: MessageKind[]
): { kind: K; olderVersions: MessageKind[] } {
  return { kind, olderVersions };
}
