import {
  Messages,
  platformTopics,
  toolRequestsTopic,
  Topics,
  type ToolCallCompleted,
  type ToolCallFailed,
  type ToolCallRequested,
} from '@toolbus/contracts';
import { createKafkaBus, type IncomingMessage, type MessageBus } from '@toolbus/messaging';
import { createLogger, type Logger } from '@toolbus/observability';
import { infraFromEnv, uniqueName } from '@toolbus/testing';
import { grantEnv, signTestGrant } from './test-grants.js';

/** A tool consumer's answer to one call, as the caller receives it from `tool_responses`. */
export type ToolAnswer = IncomingMessage<ToolCallCompleted | ToolCallFailed>;

export interface ToolCallerOptions {
  /** Default: a silent logger (`TEST_LOG_LEVEL` raises it). */
  logger?: Logger;
  /** Prefix of the caller's unique service name. Default `tool-caller`. */
  name?: string;
}

export interface ToolCallerCallOptions {
  /** Extra message headers, e.g. a caller's token a gateway forwarded. */
  headers?: Record<string, string>;
  /** How long to wait for the answer. Default 30 s. */
  timeoutMs?: number;
  /** The message's event id; sending one twice is a duplicate delivery. Default a fresh UUID. */
  eventId?: string;
  /**
   * Send the request as it is, without signing a grant for it (attack tests: no grant, or the
   * one the request already holds). Default: a request without a `grant` gets the test
   * issuer's grant for `service`.
   */
  unsigned?: boolean;
}

export interface ToolCaller {
  /** The caller's own Kafka bus, for anything beyond `call`. */
  bus: MessageBus;
  /**
   * Sends the call to `tool_requests.<service>`, keyed by its idempotency key, with the test
   * issuer's grant for `service` (unless it has one, or `unsigned`); resolves with the answer.
   */
  call(
    service: string,
    request: ToolCallRequested,
    options?: ToolCallerCallOptions,
  ): Promise<ToolAnswer>;
  /** Closes the bus. */
  close(): Promise<void>;
}

/**
 * A caller of tool consumers over the real Kafka (`infraFromEnv()`), as the orchestrator calls
 * them: its own unique service name, replies prepared on `tool_responses`, the topics of each
 * service ensured before its first call, and each call signed by the test issuer for the
 * service it goes to (consumers started with {@link consumerTestEnv} or {@link grantEnv} trust it). Pass the answers to `completedOf` / `failureOf` of
 * `@toolbus/testing`.
 */
export async function startToolCaller(options: ToolCallerOptions = {}): Promise<ToolCaller> {
  const logger =
    options.logger ??
    createLogger({ name: 'tool-caller', level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });
  const bus = createKafkaBus({
    serviceName: uniqueName(options.name ?? 'tool-caller'),
    brokers: infraFromEnv().kafkaBrokers,
    logger,
  });
  try {
    await bus.prepareReplies(Topics.toolResponses);
  } catch (error) {
    await bus.close(2_000);
    throw error;
  }
  const topicsOf = new Map<string, Promise<void>>();
  const ensureTopics = (service: string): Promise<void> => {
    let ensured = topicsOf.get(service);
    if (!ensured) {
      ensured = bus.ensureTopics(platformTopics([service]));
      // A failed attempt is not remembered: the next call tries again.
      ensured.catch(() => topicsOf.delete(service));
      topicsOf.set(service, ensured);
    }
    return ensured;
  };
  return {
    bus,
    async call(service, request, { headers, timeoutMs = 30_000, eventId, unsigned } = {}) {
      await ensureTopics(service);
      const value =
        unsigned || request.grant !== undefined
          ? request
          : { ...request, grant: await signTestGrant(service, request) };
      return bus.request<ToolCallRequested, ToolCallCompleted | ToolCallFailed>(
        toolRequestsTopic(service),
        {
          type: Messages.toolCallRequested.type,
          key: request.idempotencyKey,
          value,
          ...(headers ? { headers } : {}),
          ...(eventId ? { id: eventId } : {}),
        },
        { replyTopic: Topics.toolResponses, timeoutMs },
      );
    },
    close: () => bus.close(2_000),
  };
}

/**
 * The environment of an in-process `runToolConsumer` on the real infrastructure: Kafka and
 * PostgreSQL from `infraFromEnv()`, its own `schema`, a random port, silent logs, the test
 * issuer's grant keys ({@link grantEnv}); `extra` adds or overrides variables.
 */
export function consumerTestEnv(
  schema: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  const { kafkaBrokers, databaseUrl } = infraFromEnv();
  return {
    KAFKA_BROKERS: kafkaBrokers.join(','),
    DATABASE_URL: databaseUrl,
    DATABASE_SCHEMA: schema,
    PORT: '0',
    MANAGEMENT_PORT: '0',
    LOG_LEVEL: 'silent',
    ...grantEnv(),
    ...extra,
  };
}
