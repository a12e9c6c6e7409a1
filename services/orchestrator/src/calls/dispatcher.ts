import { randomUUID } from 'node:crypto';
import { context, propagation } from '@opentelemetry/api';
import {
  Messages,
  type SafeError,
  ToolCallCompleted,
  ToolCallFailed,
  Topics,
  type JsonObject,
  type Principal,
  type ToolCallRequested,
  type ToolDefinition,
} from '@toolbus/contracts';
import { RequestFailedError, RequestTimeoutError, type MessageBus } from '@toolbus/messaging';
import type { Logger } from '@toolbus/observability';

/** Signs the short-lived grant a consumer verifies before it runs a call. */
export interface GrantIssuer {
  issue(call: {
    tool: ToolDefinition;
    audience: string;
    principal: Principal;
    input: JsonObject;
    idempotencyKey: string;
    callId: string;
    deadline: number;
  }): Promise<string>;
}

/** What a consumer answered, or why no answer came. */
export type DispatchOutcome = { ok: true; output: unknown } | { ok: false; error: SafeError };

export interface DispatchRequest {
  tool: ToolDefinition;
  input: JsonObject;
  principal: Principal;
  idempotencyKey: string;
  deadline: number;
  contextId?: string;
}

export interface DispatcherOptions {
  /** Attempts of a call whose failure is retryable, the first included. */
  attempts: number;
  /** First backoff between attempts; doubles, with jitter, within the deadline. */
  backoffMs: number;
}

/**
 * Sends an allowed call to its consumer: over Kafka (`tool_requests.<service>`, the answer on
 * `tool_responses`) for asynchronous tools, over HTTP within the deadline for synchronous
 * ones. Every attempt carries a call grant for that consumer and the one idempotency key of
 * the call, so a retry, or a repeat after a restart, never runs the effect twice. Only
 * retryable failures are retried (timeouts, an unavailable consumer), while time remains.
 */
export class Dispatcher {
  constructor(
    private readonly bus: MessageBus,
    private readonly grants: GrantIssuer,
    private readonly options: DispatcherOptions,
    private readonly logger: Logger,
  ) {}

  async dispatch(request: DispatchRequest): Promise<DispatchOutcome> {
    let outcome: DispatchOutcome = timeoutOutcome(request.tool.name);
    for (let attempt = 1; attempt <= this.options.attempts; attempt++) {
      if (Date.now() >= request.deadline) return outcome;
      outcome = await this.attempt(request, attempt);
      if (outcome.ok || !outcome.error.retryable) return outcome;
      const delay = Math.min(
        this.options.backoffMs * 2 ** (attempt - 1) * (0.5 + Math.random()),
        request.deadline - Date.now(),
      );
      if (attempt < this.options.attempts && delay > 0) {
        this.logger.debug(
          { tool: request.tool.name, attempt, code: outcome.error.code, delay },
          'retrying a tool call',
        );
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    return outcome;
  }

  private async attempt(request: DispatchRequest, attempt: number): Promise<DispatchOutcome> {
    const { tool } = request;
    const callId = `${request.idempotencyKey}#${attempt}-${randomUUID().slice(0, 8)}`;
    let audience: string;
    try {
      audience = audienceOf(tool);
    } catch (error) {
      if (!(error instanceof UnroutableToolError)) throw error;
      return failure('internal', 'unroutable_tool', error.message, false);
    }
    const grant = await this.grants.issue({ ...request, audience, callId });
    const call: ToolCallRequested & { grant: string } = {
      callId,
      idempotencyKey: request.idempotencyKey,
      tool: tool.name,
      toolVersion: tool.version,
      input: request.input,
      principal: request.principal,
      tenant: request.principal.tenant,
      region: tool.region,
      deadline: new Date(request.deadline).toISOString(),
      attempt,
      ...(request.contextId ? { contextId: request.contextId } : {}),
      grant,
    };
    return tool.transport.kind === 'http'
      ? this.overHttp(tool.transport.url, call, grant)
      : this.overKafka(tool.transport.topic, call, request.deadline);
  }

  private async overKafka(
    topic: string,
    call: ToolCallRequested,
    deadline: number,
  ): Promise<DispatchOutcome> {
    try {
      const reply = await this.bus.request<ToolCallRequested, unknown>(
        topic,
        {
          type: Messages.toolCallRequested.type,
          key: call.idempotencyKey,
          value: call,
        },
        { replyTopic: Topics.toolResponses, timeoutMs: Math.max(1, deadline - Date.now()) },
      );
      return answerOf(reply.event.type, reply.value);
    } catch (error) {
      if (error instanceof RequestTimeoutError) return timeoutOutcome(call.tool);
      if (error instanceof RequestFailedError)
        return failure(
          'unavailable',
          'consumer_refused',
          `${call.tool}'s consumer could not handle the call: ${error.message}`,
          false,
        );
      throw error;
    }
  }

  private async overHttp(
    base: string,
    call: ToolCallRequested,
    grant: string,
  ): Promise<DispatchOutcome> {
    const { tool, deadline, ...body } = call;
    const remaining = Math.max(1, Date.parse(deadline) - Date.now());
    // The consumer's span continues the tool call's trace, as it does over Kafka.
    const traceHeaders: Record<string, string> = {};
    propagation.inject(context.active(), traceHeaders);
    let response: Response;
    try {
      response = await fetch(
        new URL(`tools/${tool}:invoke`, base.endsWith('/') ? base : `${base}/`),
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${grant}`,
            'x-toolbus-deadline': deadline,
            'x-request-id': call.callId,
            ...traceHeaders,
          },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(remaining),
        },
      );
    } catch (error) {
      if ((error as Error).name === 'TimeoutError') return timeoutOutcome(tool);
      return failure(
        'unavailable',
        'consumer_unreachable',
        `${tool}'s consumer did not answer: ${(error as Error).message}`,
        true,
      );
    }
    const answer = (await response.json().catch(() => undefined)) as unknown;
    if (response.ok) return answerOf(Messages.toolCallCompleted.type, answer);
    const failed = ToolCallFailed.safeParse(answer);
    if (failed.success) return { ok: false, error: failed.data.error };
    return failure(
      response.status >= 500 ? 'unavailable' : 'internal',
      'consumer_error',
      `${tool}'s consumer answered HTTP ${response.status} without a tool error`,
      response.status >= 500,
    );
  }
}

/** A definition the dispatcher cannot send a grant for. */
export class UnroutableToolError extends Error {
  override readonly name = 'UnroutableToolError';
}

/** The consumer service a grant is meant for: it refuses grants for anyone else. */
export function audienceOf(tool: ToolDefinition): string {
  if (tool.transport.kind === 'kafka') return tool.transport.topic.slice('tool_requests.'.length);
  if (tool.transport.service) return tool.transport.service;
  // Registered before HTTP transports named their consumer: no grant can be addressed.
  throw new UnroutableToolError(
    `${tool.name}@${tool.version} has an HTTP transport without its service, so no consumer would accept a grant for it; register it again with a current SDK`,
  );
}

function answerOf(type: string, value: unknown): DispatchOutcome {
  if (type === Messages.toolCallCompleted.type) {
    const completed = ToolCallCompleted.safeParse(value);
    if (completed.success) return { ok: true, output: completed.data.output };
  }
  if (type === Messages.toolCallFailed.type) {
    const failed = ToolCallFailed.safeParse(value);
    if (failed.success) return { ok: false, error: failed.data.error };
  }
  return failure(
    'internal',
    'malformed_answer',
    `the consumer's answer (${type}) is not a tool call outcome`,
    false,
  );
}

function timeoutOutcome(tool: string): DispatchOutcome {
  return failure(
    'timeout',
    'deadline_exceeded',
    `${tool} did not answer before the deadline`,
    true,
  );
}

function failure(
  cls: SafeError['class'],
  code: string,
  message: string,
  retryable: boolean,
): DispatchOutcome {
  return { ok: false, error: { class: cls, code, message, retryable } };
}
