import { randomUUID } from 'node:crypto';
import { describeIssues, type Headers } from '@toolbus/contracts';
import type { z } from 'zod';
import type { DeadLetterInfo } from './dispatcher.js';
import { decodeRecord, encodeRecord } from './envelope.js';
import { ANY_PAYLOAD } from './payload-reader.js';
import { NonRetryableError, RequestFailedError, RequestTimeoutError } from './errors.js';
import { busMetrics } from './metrics.js';
import type { ReplyAddress, ReplyTopics } from './reply-address.js';
import type { ReplyRouter } from './reply-router.js';
import { inProducerSpan } from './tracing.js';
import type { RawRecord, Transport } from './transport.js';
import type { IncomingMessage, MessageHandler, Reply, RequestHandler } from './types.js';

/** `ce_type` of the reply a responder sends when it parks a request on its DLQ. */
export const REQUEST_FAILED_TYPE = 'dev.toolbus.bus.request_failed.v1';

/**
 * One request in flight: its correlation id, its deadline, and the one timer that covers the
 * whole request, joining the reply group included, so a caller's deadline holds even on the
 * first request of a fresh instance. Records the request's outcome once it ends.
 */
export class PendingRequest {
  readonly correlationid = randomUUID();
  readonly deadline: string;
  private readonly started = performance.now();
  private readonly timer: NodeJS.Timeout;
  private readonly timedOut: Promise<never>;
  private router?: ReplyRouter;

  constructor(
    private readonly topic: string,
    timeoutMs: number,
  ) {
    this.deadline = new Date(Date.now() + timeoutMs).toISOString();
    let timer: NodeJS.Timeout | undefined;
    this.timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.router?.pending.delete(this.correlationid);
        reject(new RequestTimeoutError(topic, timeoutMs));
      }, timeoutMs);
    });
    this.timer = timer!;
    this.timedOut.catch(() => undefined);
  }

  /** `step`, or RequestTimeoutError once the deadline passes. */
  within<T>(step: Promise<T>): Promise<T> {
    return Promise.race([step, this.timedOut]);
  }

  /** Waits on the router's home partition; call before sending, so no reply can come first. */
  awaitReply(router: ReplyRouter): { partition: number; reply: Promise<RawRecord> } {
    this.router = router;
    const partition = router.homePartition();
    const reply = new Promise<RawRecord>((resolve, reject) =>
      router.pending.set(this.correlationid, { partition, resolve, reject }),
    );
    reply.catch(() => undefined);
    return { partition, reply };
  }

  succeeded(): void {
    this.observe('ok');
  }

  failed(error: unknown): void {
    this.router?.pending.delete(this.correlationid);
    this.observe(error instanceof RequestTimeoutError ? 'timeout' : 'error');
  }

  dispose(): void {
    clearTimeout(this.timer);
  }

  private observe(outcome: string): void {
    busMetrics
      .requestSeconds()
      .observe({ topic: this.topic, outcome }, (performance.now() - this.started) / 1000);
  }
}

/**
 * A reply as the caller gets it: a responder's failure notice becomes RequestFailedError with
 * its reason, and `replySchema` (when given) validates the payload.
 */
export function readReply<R>(
  record: RawRecord,
  topic: string,
  replySchema: z.ZodType<R> | undefined,
): IncomingMessage<R> {
  const decoded = decodeRecord<R>(record, new AbortController().signal, ANY_PAYLOAD);
  if (decoded.event.type === REQUEST_FAILED_TYPE) {
    const value = decoded.value as { reason?: string };
    throw new RequestFailedError(topic, value.reason ?? 'unknown', false);
  }
  if (replySchema) {
    const parsed = replySchema.safeParse(decoded.value);
    if (!parsed.success) {
      throw new RequestFailedError(
        topic,
        `reply does not match its schema: ${describeIssues(parsed.error)}`,
        false,
      );
    }
    decoded.value = parsed.data;
  }
  return decoded;
}

/** Sends a reply to the one partition its caller waits on. */
export async function sendReply<R>(
  transport: Transport,
  source: string,
  to: ReplyAddress,
  reply: Reply<R>,
  key: string | undefined,
): Promise<void> {
  const headers: Headers = { ...(reply.headers ?? {}) };
  const record = encodeRecord(
    source,
    to.replyto,
    { type: reply.type, value: reply.value, key },
    headers,
    { correlationid: to.correlationid },
    to.partition,
  );
  await inProducerSpan(
    `${to.replyto} reply`,
    { 'messaging.destination.name': to.replyto },
    record.headers,
    () => transport.produce([record]),
  );
}

/**
 * A request handler as a subscription's parts: `admit` refuses, before anything runs, a request
 * whose reply address is not one of `topics`; `handle` answers each request; `onDeadLetter`
 * tells the caller at once why a request was parked on the DLQ, which it would otherwise learn
 * only from its timeout, unless the address itself was refused: nothing is ever sent there.
 */
export function answering<T, R>(
  send: (to: ReplyAddress, reply: Reply, key: string | undefined) => Promise<void>,
  handler: RequestHandler<T, R>,
  topics: ReplyTopics,
): {
  admit: (message: IncomingMessage<unknown>) => void;
  handle: MessageHandler<T>;
  onDeadLetter: (record: RawRecord, info: DeadLetterInfo) => Promise<void>;
} {
  return {
    admit: (message) => void topics.address(message.headers),
    handle: async (message) => {
      const to = topics.address(message.headers);
      // Before the handler: a request naming a partition that does not exist is never handled.
      await topics.assertPartition(to);
      const reply = await handler(message);
      await send(to, reply, message.key ?? undefined);
    },
    onDeadLetter: async (record, info) => {
      let to: ReplyAddress;
      try {
        to = topics.address(record.headers);
        await topics.assertPartition(to);
      } catch (error) {
        if (error instanceof NonRetryableError) return;
        throw error;
      }
      await send(
        to,
        { type: REQUEST_FAILED_TYPE, value: { reason: info.reason, attempts: info.attempts } },
        undefined,
      );
    },
  };
}
