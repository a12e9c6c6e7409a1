import { REPLY_TOPICS, type TopicSpec } from '@toolbus/contracts';
import { createLogger, type Logger } from '@toolbus/observability';
import { encodeRecord } from './envelope.js';
import { BusClosedError } from './errors.js';
import { busMetrics } from './metrics.js';
import { payloadReader } from './payload-reader.js';
import { ReplyTopics } from './reply-address.js';
import { ReplyRoutes, type ReplyRouteStats } from './reply-router.js';
import type { ReplyAddress } from './reply-address.js';
import { answering, PendingRequest, readReply, sendReply } from './request-reply.js';
import { startSubscription, type ConsumeExtras } from './subscription.js';
import { inProducerSpan } from './tracing.js';
import type { Transport } from './transport.js';
import type {
  IncomingMessage,
  MessageBus,
  MessageHandler,
  OutgoingMessage,
  Reply,
  RequestHandler,
  RequestOptions,
  RespondOptions,
  SubscribeOptions,
  Subscription,
} from './types.js';

export interface BusOptions {
  /** Service name: the CloudEvents source (`/toolbus/<name>`) and the prefix of reply groups. */
  serviceName: string;
  logger?: Logger;
  /** How long `close()` and `Subscription.stop()` let in-flight handlers finish. Default 10 s. */
  shutdownDeadlineMs?: number;
  /** How long `request()` waits for this instance to be given a reply partition. Default 30 s. */
  replyAssignmentTimeoutMs?: number;
  /**
   * Reply topics this bus's responders answer on besides the platform's (`REPLY_TOPICS` of
   * libs/contracts), for tests and tools with reply topics of their own.
   */
  replyTopics?: readonly string[];
}

/**
 * The MessageBus over any Transport: CloudEvents envelope (`envelope.ts`), validation, trace
 * context, dispatching, retries and DLQ (`subscription.ts`, `dispatcher.ts`), request-reply
 * (`request-reply.ts`) and its routing (`reply-router.ts`), graceful shutdown.
 */
export class TransportBus implements MessageBus {
  private readonly logger: Logger;
  private readonly source: string;
  private readonly subscriptions = new Set<Subscription>();
  /** A consumer group serves one topic: Kafka's assignors mix topics up across members otherwise. */
  private readonly groupTopics = new Map<string, string>();
  private readonly replies: ReplyRoutes;
  private readonly replyTopics: ReplyTopics;
  private closed = false;

  constructor(
    private readonly transport: Transport,
    private readonly options: BusOptions,
  ) {
    this.logger =
      options.logger ?? createLogger({ name: options.serviceName }).child({ component: 'bus' });
    this.source = `/toolbus/${options.serviceName}`;
    this.replies = new ReplyRoutes(
      transport,
      options.serviceName,
      options.replyAssignmentTimeoutMs ?? 30_000,
    );
    this.replyTopics = new ReplyTopics([...REPLY_TOPICS, ...(options.replyTopics ?? [])], (t) =>
      transport.partitionCount(t),
    );
  }

  get kind(): Transport['kind'] {
    return this.transport.kind;
  }

  async publish<T>(topic: string, message: OutgoingMessage<T>): Promise<void> {
    this.assertOpen();
    const headers = { ...(message.headers ?? {}) };
    await inProducerSpan(
      `${topic} publish`,
      { 'messaging.destination.name': topic, 'messaging.system': this.transport.kind },
      headers,
      () => this.transport.produce([encodeRecord(this.source, topic, message, headers, {})]),
    );
    busMetrics.published().inc({ topic });
  }

  async subscribe<T>(
    options: SubscribeOptions<T>,
    handler: MessageHandler<T>,
  ): Promise<Subscription> {
    return this.consume(options, handler);
  }

  async respond<T, R>(
    { replyTopics, ...options }: RespondOptions<T>,
    handler: RequestHandler<T, R>,
  ): Promise<Subscription> {
    const send = (to: ReplyAddress, reply: Reply, key: string | undefined) =>
      sendReply(this.transport, this.source, to, reply, key);
    const topics = this.replyTopics.with(replyTopics);
    const { admit, handle, onDeadLetter } = answering(send, handler, topics);
    return this.consume<T>(options, handle, { admit, onDeadLetter });
  }

  async request<T, R>(
    topic: string,
    message: OutgoingMessage<T>,
    options: RequestOptions<R>,
  ): Promise<IncomingMessage<R>> {
    this.assertOpen();
    const pending = new PendingRequest(topic, options.timeoutMs ?? 30_000);
    try {
      const router = await pending.within(this.replies.route(options.replyTopic));
      const { partition, reply } = pending.awaitReply(router);
      await this.sendRequest(topic, message, {
        correlationid: pending.correlationid,
        replyto: options.replyTopic,
        replypartition: partition,
        deadline: pending.deadline,
      });
      const answer = readReply(await pending.within(reply), topic, options.replySchema);
      pending.succeeded();
      return answer;
    } catch (error) {
      pending.failed(error);
      throw error;
    } finally {
      pending.dispose();
    }
  }

  /**
   * What this instance's reply route looks like: the partitions it owns, the replies it read
   * (only those sent to its partitions) and how many of them nobody waited for any more.
   */
  replyRouteStats(replyTopic: string): Promise<ReplyRouteStats | undefined> {
    return this.replies.stats(replyTopic);
  }

  async prepareReplies(replyTopic: string): Promise<void> {
    this.assertOpen();
    await this.replies.route(replyTopic);
  }

  ensureTopics(specs: TopicSpec[]): Promise<void> {
    return this.transport.ensureTopics(specs);
  }

  isHealthy(): Promise<boolean> {
    return this.closed ? Promise.resolve(false) : this.transport.isHealthy();
  }

  async close(deadlineMs = this.options.shutdownDeadlineMs ?? 10_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.stop(deadlineMs)));
    await this.replies.close(() => new BusClosedError());
    await this.transport.close();
  }

  // ---------------------------------------------------------------------------------------

  private assertOpen(): void {
    if (this.closed) throw new BusClosedError();
  }

  private async sendRequest<T>(
    topic: string,
    message: OutgoingMessage<T>,
    attributes: {
      correlationid: string;
      replyto: string;
      replypartition: number;
      deadline: string;
    },
  ): Promise<void> {
    const headers = { ...(message.headers ?? {}) };
    await inProducerSpan(
      `${topic} request`,
      { 'messaging.destination.name': topic, 'messaging.system': this.transport.kind },
      headers,
      () =>
        this.transport.produce([encodeRecord(this.source, topic, message, headers, attributes)]),
    );
  }

  private async consume<T>(
    options: SubscribeOptions<T>,
    handler: MessageHandler<T>,
    extra: ConsumeExtras = {},
  ): Promise<Subscription> {
    this.assertOpen();
    const reader = payloadReader(options);
    this.bindGroup(options.groupId, options.topic);
    const subscription = await startSubscription(
      {
        transport: this.transport,
        logger: this.logger,
        shutdownDeadlineMs: this.options.shutdownDeadlineMs ?? 10_000,
        stopped: (s) => this.subscriptions.delete(s),
      },
      options,
      reader,
      handler,
      extra,
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  private bindGroup(groupId: string, topic: string): void {
    const bound = this.groupTopics.get(groupId);
    if (bound && bound !== topic) {
      throw new Error(
        `consumer group "${groupId}" already consumes ${bound}; use one group per topic (e.g. "${groupId}.${topic}")`,
      );
    }
    this.groupTopics.set(groupId, topic);
  }
}
