import { randomUUID } from 'node:crypto';
import {
  CE_HEADERS,
  describeIssues,
  dlqTopic,
  fromCloudEventHeaders,
  toCloudEventHeaders,
  type CloudEventAttributes,
  type Headers,
  type TopicSpec,
} from '@toolbus/contracts';
import { createLogger, type Logger } from '@toolbus/observability';
import { Dispatcher, type DeadLetterInfo } from './dispatcher.js';
import {
  BusClosedError,
  errorMessage,
  NonRetryableError,
  PoisonMessageError,
  ReplyRouteLostError,
  RequestFailedError,
  RequestTimeoutError,
} from './errors.js';
import { busMetrics } from './metrics.js';
import { inConsumerSpan, inProducerSpan } from './tracing.js';
import type {
  BatchHooks,
  ProduceRecord,
  RawRecord,
  Transport,
  TransportConsumer,
} from './transport.js';
import type {
  IncomingMessage,
  MessageBus,
  MessageHandler,
  OutgoingMessage,
  Reply,
  RequestHandler,
  RequestOptions,
  SubscribeOptions,
  Subscription,
  SubscriptionStats,
} from './types.js';

export interface BusOptions {
  /** Service name: the CloudEvents source (`/toolbus/<name>`) and the prefix of reply groups. */
  serviceName: string;
  logger?: Logger;
  /** How long `close()` and `Subscription.stop()` let in-flight handlers finish. Default 10 s. */
  shutdownDeadlineMs?: number;
  /** How long `request()` waits for this instance to be given a reply partition. Default 30 s. */
  replyAssignmentTimeoutMs?: number;
}

/** Headers the bus adds when it parks a message on a dead-letter topic. */
export const DLQ_HEADERS = {
  reason: 'toolbus_dlq_reason',
  error: 'toolbus_dlq_error',
  attempts: 'toolbus_dlq_attempts',
  topic: 'toolbus_dlq_topic',
  partition: 'toolbus_dlq_partition',
  offset: 'toolbus_dlq_offset',
  group: 'toolbus_dlq_group',
  at: 'toolbus_dlq_at',
} as const;

/** `ce_type` of the reply a responder sends when it parks a request on its DLQ. */
export const REQUEST_FAILED_TYPE = 'dev.toolbus.bus.request_failed.v1';

const DEFAULT_RETRY = { attempts: 5, initialDelayMs: 100, maxDelayMs: 5_000 };

interface Pending {
  partition: number;
  resolve(record: RawRecord): void;
  reject(error: Error): void;
}

/** Routes replies to the requests this instance waits for (see README: reply routing). */
class ReplyRouter {
  owned: number[] = [];
  readonly pending = new Map<string, Pending>();
  private readyResolve!: () => void;
  readonly ready = new Promise<void>((r) => (this.readyResolve = r));
  consumer?: TransportConsumer;
  received = 0;
  orphans = 0;

  constructor(readonly topic: string) {}

  onAssign(partitions: number[]): void {
    this.owned = [...partitions].sort((a, b) => a - b);
    const owned = new Set(this.owned);
    for (const [id, p] of this.pending) {
      if (!owned.has(p.partition)) {
        this.pending.delete(id);
        p.reject(new ReplyRouteLostError(this.topic, p.partition));
      }
    }
    if (this.owned.length > 0) this.readyResolve();
  }

  /**
   * The home partition: this instance's lowest. The sticky assignment keeps it with this
   * instance through rebalances, so a reply in flight while replicas join or leave still lands here.
   */
  homePartition(): number {
    const p = this.owned[0];
    if (p === undefined) throw new ReplyRouteLostError(this.topic, -1);
    return p;
  }

  async handleBatch(records: RawRecord[], hooks: BatchHooks): Promise<void> {
    for (const record of records) {
      this.received++;
      const id = record.headers[CE_HEADERS.correlationid];
      const waiter = id ? this.pending.get(id) : undefined;
      if (waiter && id) {
        this.pending.delete(id);
        waiter.resolve(record);
      } else {
        // A reply whose waiter timed out, or that predates a rebalance: nobody to give it to.
        this.orphans++;
      }
      hooks.resolveOffset(record.offset);
    }
  }
}

/**
 * The MessageBus over any Transport: CloudEvents envelope, validation, trace context,
 * dispatching, retries and DLQ, request-reply routing, graceful shutdown.
 */
export class TransportBus implements MessageBus {
  private readonly logger: Logger;
  private readonly source: string;
  private readonly subscriptions = new Set<Subscription>();
  /** A consumer group serves one topic: Kafka's assignors mix topics up across members otherwise. */
  private readonly groupTopics = new Map<string, string>();
  private readonly routers = new Map<string, Promise<ReplyRouter>>();
  private closed = false;

  constructor(
    private readonly transport: Transport,
    private readonly options: BusOptions,
  ) {
    this.logger =
      options.logger ?? createLogger({ name: options.serviceName }).child({ component: 'bus' });
    this.source = `/toolbus/${options.serviceName}`;
  }

  get kind(): Transport['kind'] {
    return this.transport.kind;
  }

  async publish<T>(topic: string, message: OutgoingMessage<T>): Promise<void> {
    this.assertOpen();
    const headers: Headers = { ...(message.headers ?? {}) };
    await inProducerSpan(
      `${topic} publish`,
      { 'messaging.destination.name': topic, 'messaging.system': this.transport.kind },
      headers,
      () => this.transport.produce([this.encode(topic, message, headers, {})]),
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
    options: SubscribeOptions<T>,
    handler: RequestHandler<T, R>,
  ): Promise<Subscription> {
    return this.consume<T>(
      options,
      async (message) => {
        const { correlationid, replyto, replypartition } = message.event;
        const reply = await handler(message);
        await this.sendReply(message, reply, correlationid!, replyto!, replypartition);
      },
      {
        requireReplyTo: true,
        onDeadLetter: async (record, info) => {
          // The caller would otherwise wait for its timeout; tell it now why its request failed.
          const headers = record.headers;
          const correlationid = headers[CE_HEADERS.correlationid];
          const replyto = headers[CE_HEADERS.replyto];
          if (!correlationid || !replyto) return;
          const partition = headers[CE_HEADERS.replypartition];
          await this.sendReply(
            null,
            { type: REQUEST_FAILED_TYPE, value: { reason: info.reason, attempts: info.attempts } },
            correlationid,
            replyto,
            partition === undefined ? undefined : Number(partition),
          );
        },
      },
    );
  }

  async request<T, R>(
    topic: string,
    message: OutgoingMessage<T>,
    options: RequestOptions<R>,
  ): Promise<IncomingMessage<R>> {
    this.assertOpen();
    const timeoutMs = options.timeoutMs ?? 30_000;
    const started = performance.now();
    const deadline = new Date(Date.now() + timeoutMs).toISOString();
    const correlationid = randomUUID();
    let router: ReplyRouter | undefined;
    let timer: NodeJS.Timeout | undefined;
    // One timer covers the whole request, joining the reply group included: a caller's deadline
    // holds even on the first request of a fresh instance.
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        router?.pending.delete(correlationid);
        reject(new RequestTimeoutError(topic, timeoutMs));
      }, timeoutMs);
    });
    timedOut.catch(() => undefined);
    const outcome = (o: string) =>
      busMetrics
        .requestSeconds()
        .observe({ topic, outcome: o }, (performance.now() - started) / 1000);
    try {
      router = await Promise.race([this.router(options.replyTopic), timedOut]);
      const partition = router.homePartition();
      const waiting = router;
      const reply = new Promise<RawRecord>((resolve, reject) =>
        waiting.pending.set(correlationid, { partition, resolve, reject }),
      );
      reply.catch(() => undefined);
      const headers: Headers = { ...(message.headers ?? {}) };
      await inProducerSpan(
        `${topic} request`,
        { 'messaging.destination.name': topic, 'messaging.system': this.transport.kind },
        headers,
        () =>
          this.transport.produce([
            this.encode(topic, message, headers, {
              correlationid,
              replyto: options.replyTopic,
              replypartition: partition,
              deadline,
            }),
          ]),
      );
      const record = await Promise.race([reply, timedOut]);
      const decoded = this.decode<R>(record, new AbortController().signal, {});
      if (decoded.event.type === REQUEST_FAILED_TYPE) {
        const value = decoded.value as { reason?: string };
        throw new RequestFailedError(topic, value.reason ?? 'unknown', false);
      }
      if (options.replySchema) {
        const parsed = options.replySchema.safeParse(decoded.value);
        if (!parsed.success) {
          throw new RequestFailedError(
            topic,
            `reply does not match its schema: ${describeIssues(parsed.error)}`,
            false,
          );
        }
        decoded.value = parsed.data;
      }
      outcome('ok');
      return decoded;
    } catch (error) {
      router?.pending.delete(correlationid);
      outcome(error instanceof RequestTimeoutError ? 'timeout' : 'error');
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * What this instance's reply route looks like: the partitions it owns, the replies it read
   * (only those sent to its partitions) and how many of them nobody waited for any more.
   */
  async replyRouteStats(
    replyTopic: string,
  ): Promise<{ owned: number[]; received: number; orphans: number; pending: number } | undefined> {
    const router = await this.routers.get(replyTopic)?.catch(() => undefined);
    if (!router) return undefined;
    return {
      owned: [...router.owned],
      received: router.received,
      orphans: router.orphans,
      pending: router.pending.size,
    };
  }

  async prepareReplies(replyTopic: string): Promise<void> {
    this.assertOpen();
    await this.router(replyTopic);
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
    for (const routerPromise of this.routers.values()) {
      const router = await routerPromise.catch(() => undefined);
      if (!router) continue;
      for (const p of router.pending.values()) p.reject(new BusClosedError());
      router.pending.clear();
      await router.consumer?.stop();
    }
    await this.transport.close();
  }

  // ---------------------------------------------------------------------------------------

  private assertOpen(): void {
    if (this.closed) throw new BusClosedError();
  }

  private encode<T>(
    topic: string,
    message: OutgoingMessage<T>,
    headers: Headers,
    extra: Partial<CloudEventAttributes>,
    partition?: number,
  ): ProduceRecord {
    const value = Buffer.from(JSON.stringify(message.value));
    const attrs = toCloudEventHeaders({
      specversion: '1.0',
      id: message.id ?? randomUUID(),
      source: this.source,
      type: message.type,
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      ...(message.subject === undefined ? {} : { subject: message.subject }),
      ...extra,
    });
    return { topic, partition, key: message.key ?? null, value, headers: { ...headers, ...attrs } };
  }

  private decode<T>(
    record: RawRecord,
    signal: AbortSignal,
    options: Pick<SubscribeOptions<T>, 'schema' | 'types'>,
  ): IncomingMessage<T> {
    let event: CloudEventAttributes;
    try {
      event = fromCloudEventHeaders(record.headers);
    } catch (error) {
      throw new PoisonMessageError(errorMessage(error));
    }
    if (options.types && !options.types.includes(event.type)) {
      throw new PoisonMessageError(
        `unexpected ce_type "${event.type}": this consumer accepts ${options.types.join(', ')}`,
      );
    }
    if (record.value === null || record.value.length === 0)
      throw new PoisonMessageError('message has no value: expected a JSON payload');
    let value: unknown;
    try {
      value = JSON.parse(record.value.toString('utf8'));
    } catch (error) {
      throw new PoisonMessageError(`value is not JSON: ${errorMessage(error)}`);
    }
    if (options.schema) {
      const parsed = options.schema.safeParse(value);
      if (!parsed.success)
        throw new PoisonMessageError(
          `payload does not match ${event.type}: ${describeIssues(parsed.error)}`,
        );
      value = parsed.data;
    }
    return {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      key: record.key,
      value: value as T,
      headers: record.headers,
      event,
      attempt: 1,
      signal,
    };
  }

  private async sendReply<R>(
    request: IncomingMessage<unknown> | null,
    reply: Reply<R>,
    correlationid: string,
    replyto: string,
    partition: number | undefined,
  ): Promise<void> {
    const headers: Headers = { ...(reply.headers ?? {}) };
    const record = this.encode(
      replyto,
      { type: reply.type, value: reply.value, key: request?.key ?? undefined },
      headers,
      { correlationid },
      partition,
    );
    await inProducerSpan(
      `${replyto} reply`,
      { 'messaging.destination.name': replyto },
      record.headers,
      () => this.transport.produce([record]),
    );
  }

  private async consume<T>(
    options: SubscribeOptions<T>,
    handler: MessageHandler<T>,
    extra: {
      requireReplyTo?: boolean;
      onDeadLetter?: (record: RawRecord, info: DeadLetterInfo) => Promise<void>;
    } = {},
  ): Promise<Subscription> {
    this.assertOpen();
    const { topic, groupId } = options;
    const bound = this.groupTopics.get(groupId);
    if (bound && bound !== topic) {
      throw new Error(
        `consumer group "${groupId}" already consumes ${bound}; use one group per topic (e.g. "${groupId}.${topic}")`,
      );
    }
    this.groupTopics.set(groupId, topic);
    const logger = this.logger.child({ topic, group: groupId });
    const labels = { topic, group: groupId };
    const dispatcher = new Dispatcher<T>({
      concurrency: options.concurrency ?? 8,
      retry: { ...DEFAULT_RETRY, ...options.retry },
      logger,
      decode: (record, signal) => {
        const message = this.decode(record, signal, options);
        if (extra.requireReplyTo && (!message.event.correlationid || !message.event.replyto)) {
          throw new PoisonMessageError(
            'request has no ce_correlationid or ce_replyto header: send requests with MessageBus.request()',
          );
        }
        return message;
      },
      handle: (message) =>
        inConsumerSpan(
          `${topic} process`,
          {
            'messaging.destination.name': topic,
            'messaging.consumer.group.name': groupId,
            'messaging.message.id': message.event.id,
          },
          message.headers,
          () => handler(message),
        ),
      deadLetter: async (record, info) => {
        await this.transport.produce([
          {
            topic: dlqTopic(topic),
            key: record.key,
            value: record.value ?? Buffer.alloc(0),
            headers: {
              ...record.headers,
              [DLQ_HEADERS.reason]: info.reason.slice(0, 4000),
              [DLQ_HEADERS.error]: info.errorName,
              [DLQ_HEADERS.attempts]: String(info.attempts),
              [DLQ_HEADERS.topic]: record.topic,
              [DLQ_HEADERS.partition]: String(record.partition),
              [DLQ_HEADERS.offset]: record.offset,
              [DLQ_HEADERS.group]: groupId,
              [DLQ_HEADERS.at]: new Date().toISOString(),
            },
          },
        ]);
        await extra
          .onDeadLetter?.(record, info)
          .catch((e: unknown) => logger.error({ err: e }, 'could not send the failure reply'));
      },
      observe: (outcome, seconds) => {
        busMetrics.consumed().inc({ ...labels, outcome });
        if (outcome !== 'retried') busMetrics.handlerSeconds().observe(labels, seconds);
      },
    });
    const consumer = await this.transport.consume(
      { groupId, topic, fromBeginning: options.fromBeginning ?? true },
      (records, hooks) => dispatcher.processBatch(records, hooks),
    );
    let stopping: Promise<void> | undefined;
    const subscription: Subscription = {
      topic,
      groupId,
      stats: (): SubscriptionStats => dispatcher.stats(),
      stop: (deadlineMs = this.options.shutdownDeadlineMs ?? 10_000) => {
        stopping ??= (async () => {
          consumer.pause();
          await dispatcher.drain(deadlineMs);
          await consumer.stop();
          this.subscriptions.delete(subscription);
          logger.info(dispatcher.stats(), 'subscription stopped');
        })();
        return stopping;
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  private router(topic: string): Promise<ReplyRouter> {
    let existing = this.routers.get(topic);
    if (!existing) {
      existing = this.startRouter(topic);
      this.routers.set(topic, existing);
      existing.catch(() => this.routers.delete(topic));
    }
    return existing;
  }

  private async startRouter(topic: string): Promise<ReplyRouter> {
    const router = new ReplyRouter(topic);
    // One group per requesting service and reply topic: Kafka gives each instance its own
    // partitions of the reply topic, and each request names one of them as its reply partition.
    const groupId = `${this.options.serviceName}.${topic}.replies`;
    await this.transport.prepareReplyGroup(groupId, topic);
    router.consumer = await this.transport.consume(
      { groupId, topic, fromBeginning: true, onAssign: (p) => router.onAssign(p) },
      (records, hooks) => router.handleBatch(records, hooks),
    );
    const limit = this.options.replyAssignmentTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new NonRetryableError(
              `no partition of ${topic} was assigned to this instance within ${limit} ms: ` +
                'are there more instances of this service than partitions of the reply topic?',
            ),
          ),
        limit,
      );
    });
    try {
      await Promise.race([router.ready, timeout]);
    } catch (error) {
      await router.consumer.stop();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return router;
  }
}
