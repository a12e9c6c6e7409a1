import { applyDecorators, Catch, UseFilters, type RpcExceptionFilter } from '@nestjs/common';
import {
  BaseRpcContext,
  EventPattern,
  MessagePattern,
  Server,
  type CustomTransportStrategy,
} from '@nestjs/microservices';
import type { MessageKind } from '@toolbus/contracts';
import { isObservable, lastValueFrom, throwError, type Observable } from 'rxjs';
import type { z } from 'zod';
import type {
  IncomingMessage,
  MessageBus,
  Reply,
  RetryPolicy,
  Subscription,
} from '../core/types.js';

/** Per-handler options, given to {@link OnMessage} / {@link OnRequest}. */
export interface BusHandlerOptions {
  /** Consumer group; defaults to `<groupPrefix>.<topic>` so replicas of a service share the work. */
  groupId?: string;
  concurrency?: number;
  /** The kind the handler is written for, and older versions it accepts upcast: `forKind(...)`. */
  kind?: MessageKind;
  olderVersions?: readonly MessageKind[];
  schema?: z.ZodType;
  types?: string[];
  retry?: RetryPolicy;
  /** `@OnRequest` only: reply topics beyond the bus's that this responder answers on. */
  replyTopics?: readonly string[];
}

/** The Nest execution context of a bus handler: `@Ctx() ctx: BusContext`. */
export class BusContext extends BaseRpcContext<[IncomingMessage]> {
  /** The whole message: key, headers, CloudEvents attributes, attempt, abort signal. */
  getMessage(): IncomingMessage {
    return this.args[0];
  }
}

/**
 * Hands a handler's error to the bus unchanged. Nest's default RPC filter would turn it into
 * `{ status: 'error', message: 'Internal server error' }`, losing whether it may be retried
 * and the reason the dead-letter entry should carry.
 */
@Catch()
class PassErrorsToBus implements RpcExceptionFilter {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}

function busHandler(pattern: unknown): MethodDecorator {
  return applyDecorators(pattern as MethodDecorator, UseFilters(new PassErrorsToBus()));
}

/** Handles the messages of a topic: `@OnMessage(Topics.audit, forKind(Messages.auditRecorded))`. */
export const OnMessage = (topic: string, options: BusHandlerOptions = {}): MethodDecorator =>
  busHandler(EventPattern(topic, { ...options }));

/** Answers requests on a topic; the method returns a `Reply` ({ type, value }). */
export const OnRequest = (topic: string, options: BusHandlerOptions = {}): MethodDecorator =>
  busHandler(MessagePattern(topic, { ...options }));

/**
 * A Nest microservice transport over the MessageBus, so services declare handlers with Nest's
 * own pattern decorators (and get pipes, guards and interceptors) while the bus supplies what
 * Nest's built-in Kafka transport lacks: bounded concurrency, per-key order, retries and a DLQ,
 * CloudEvents validation, reply routing without broadcast, and the in-memory mode.
 */
export class BusTransport extends Server implements CustomTransportStrategy {
  // Errors must reach the bus so it can retry and dead-letter, not be swallowed and logged.
  override readonly propagatesEventHandlerErrors = true;
  private readonly subscriptions: Subscription[] = [];

  constructor(
    private readonly bus: MessageBus,
    private readonly options: {
      groupPrefix: string;
      shutdownDeadlineMs?: number;
      /** Per-topic concurrency from the service's config, overriding the decorator's. */
      concurrency?: Record<string, number>;
    },
  ) {
    super();
  }

  async listen(callback: (...optionalParams: unknown[]) => void): Promise<void> {
    try {
      for (const [pattern, handler] of this.messageHandlers) {
        const topic = pattern;
        const extras = (handler.extras ?? {}) as BusHandlerOptions;
        const options = {
          topic,
          groupId: extras.groupId ?? `${this.options.groupPrefix}.${topic}`,
          concurrency: this.options.concurrency?.[topic] ?? extras.concurrency,
          kind: extras.kind,
          olderVersions: extras.olderVersions,
          schema: extras.schema,
          types: extras.types,
          retry: extras.retry,
          replyTopics: extras.replyTopics,
        };
        const invoke = async (message: IncomingMessage): Promise<unknown> => {
          const result = await handler(message.value, new BusContext([message]));
          return isObservable(result) ? lastValueFrom(result, { defaultValue: undefined }) : result;
        };
        if (handler.isEventHandler) {
          this.subscriptions.push(
            await this.bus.subscribe(options, async (m) => void (await invoke(m))),
          );
        } else {
          this.subscriptions.push(
            await this.bus.respond(options, async (m) => {
              const reply = (await invoke(m)) as Reply | undefined;
              if (!reply || typeof reply.type !== 'string' || !('value' in reply)) {
                throw new Error(`handler for ${topic} must return a reply { type, value }`);
              }
              return reply;
            }),
          );
        }
      }
      callback();
    } catch (error) {
      callback(error);
    }
  }

  async close(): Promise<void> {
    await Promise.all(
      this.subscriptions.splice(0).map((s) => s.stop(this.options.shutdownDeadlineMs)),
    );
  }

  on(): void {
    // The bus reports its own events through logs and metrics.
  }

  unwrap<T>(): T {
    return this.bus as T;
  }
}
