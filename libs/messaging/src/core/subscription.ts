import { dlqTopic } from '@toolbus/contracts';
import type { Logger } from '@toolbus/observability';
import { Dispatcher, type DeadLetterInfo, type DispatcherOptions } from './dispatcher.js';
import { decodeRecord } from './envelope.js';
import type { PayloadReader } from './payload-reader.js';
import { busMetrics } from './metrics.js';
import { inConsumerSpan } from './tracing.js';
import type { ProduceRecord, RawRecord, Transport } from './transport.js';
import type {
  IncomingMessage,
  MessageHandler,
  SubscribeOptions,
  Subscription,
  SubscriptionStats,
} from './types.js';

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

const DEFAULT_RETRY = { attempts: 5, initialDelayMs: 100, maxDelayMs: 5_000 };

/** What a subscription needs from its bus. */
export interface SubscriptionContext {
  transport: Transport;
  logger: Logger;
  shutdownDeadlineMs: number;
  /** Called once the subscription has stopped. */
  stopped(subscription: Subscription): void;
}

/** What `respond()` adds to a plain subscription. */
export interface ConsumeExtras {
  /**
   * Checks a decoded message before the dispatcher goes on; what it throws parks the message on
   * the DLQ at once (requests: a reply address that is missing or not allowed).
   */
  admit?: (message: IncomingMessage<unknown>) => void;
  /** Runs after a record was parked on the DLQ. */
  onDeadLetter?: (record: RawRecord, info: DeadLetterInfo) => Promise<void>;
}

/**
 * Starts consuming `options.topic`: every record is decoded, handled in a consumer span,
 * retried or parked on the DLQ by a Dispatcher, and counted; stopping drains in-flight work.
 */
export async function startSubscription<T>(
  ctx: SubscriptionContext,
  options: SubscribeOptions<T>,
  reader: PayloadReader,
  handler: MessageHandler<T>,
  extra: ConsumeExtras,
): Promise<Subscription> {
  const { topic, groupId } = options;
  const logger = ctx.logger.child({ topic, group: groupId });
  const dispatcher = new Dispatcher<T>({
    concurrency: options.concurrency ?? 8,
    retry: { ...DEFAULT_RETRY, ...options.retry },
    logger,
    decode: decodeStep(reader, extra),
    handle: handleStep(options, handler),
    deadLetter: deadLetterStep(ctx.transport, options, logger, extra),
    observe: observeStep({ topic, group: groupId }),
  });
  const consumer = await ctx.transport.consume(
    { groupId, topic, fromBeginning: options.fromBeginning ?? true },
    (records, hooks) => dispatcher.processBatch(records, hooks),
  );
  let stopping: Promise<void> | undefined;
  const subscription: Subscription = {
    topic,
    groupId,
    stats: (): SubscriptionStats => dispatcher.stats(),
    stop: (deadlineMs = ctx.shutdownDeadlineMs) => {
      stopping ??= (async () => {
        consumer.pause();
        await dispatcher.drain(deadlineMs);
        await consumer.stop();
        ctx.stopped(subscription);
        logger.info(dispatcher.stats(), 'subscription stopped');
      })();
      return stopping;
    },
  };
  return subscription;
}

function decodeStep<T>(
  reader: PayloadReader,
  extra: ConsumeExtras,
): DispatcherOptions<T>['decode'] {
  return (record, signal) => {
    const message = decodeRecord<T>(record, signal, reader);
    extra.admit?.(message);
    return message;
  };
}

function handleStep<T>(
  { topic, groupId }: SubscribeOptions<T>,
  handler: MessageHandler<T>,
): DispatcherOptions<T>['handle'] {
  return (message) =>
    inConsumerSpan(
      `${topic} process`,
      {
        'messaging.destination.name': topic,
        'messaging.consumer.group.name': groupId,
        'messaging.message.id': message.event.id,
      },
      message.headers,
      () => handler(message),
    );
}

function deadLetterStep(
  transport: Transport,
  { topic, groupId }: Pick<SubscribeOptions, 'topic' | 'groupId'>,
  logger: Logger,
  extra: ConsumeExtras,
): DispatcherOptions<unknown>['deadLetter'] {
  return async (record, info) => {
    await transport.produce([deadLetterRecord(topic, groupId, record, info)]);
    await extra
      .onDeadLetter?.(record, info)
      .catch((e: unknown) => logger.error({ err: e }, 'could not send the failure reply'));
  };
}

/** The DLQ entry of a record: its key, bytes and headers, and why and where it was parked. */
function deadLetterRecord(
  topic: string,
  groupId: string,
  record: RawRecord,
  info: DeadLetterInfo,
): ProduceRecord {
  return {
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
  };
}

function observeStep(labels: {
  topic: string;
  group: string;
}): DispatcherOptions<unknown>['observe'] {
  return (outcome, seconds) => {
    busMetrics.consumed().inc({ ...labels, outcome });
    if (outcome !== 'retried') busMetrics.handlerSeconds().observe(labels, seconds);
  };
}
