import {
  Messages,
  type Principal,
  type SafeError,
  type ToolCallCompleted,
  type ToolCallFailed,
  type ToolCallRequested,
} from '@toolbus/contracts';
import { uniqueName } from './wait.js';

export interface ToolCallOptions {
  /** Idempotency key; a fresh one by default. */
  key?: string;
  callId?: string;
  /** Milliseconds from now until the deadline. Default 10 s. */
  deadlineMs?: number;
  /** The caller; default a user of tenant `acme` with no scopes. */
  principal?: Principal;
  region?: string;
}

/** A valid tool call for tests, with fresh ids and a deadline. */
export function toolCall(
  tool: string,
  input: Record<string, unknown>,
  options: ToolCallOptions = {},
): ToolCallRequested {
  const principal = options.principal ?? {
    subject: 'test-caller',
    kind: 'user',
    tenant: 'acme',
    scopes: [],
  };
  return {
    callId: options.callId ?? uniqueName('call'),
    idempotencyKey: options.key ?? uniqueName('key'),
    tool,
    input,
    principal,
    tenant: principal.tenant,
    region: options.region ?? 'eu',
    deadline: new Date(Date.now() + (options.deadlineMs ?? 10_000)).toISOString(),
    attempt: 1,
  };
}

/** A runtime's reply (`ToolReply`), or an answer off the bus (`ToolCaller.call` of `@toolbus/testing-bus`). */
type ToolOutcome =
  | { ok: true; completed: ToolCallCompleted }
  | { ok: false; failed: ToolCallFailed }
  | { event: { type: string }; value: ToolCallCompleted | ToolCallFailed };

function settled(
  reply: ToolOutcome,
): { completed: ToolCallCompleted } | { failed: ToolCallFailed } | { other: string } {
  if (!('event' in reply)) return reply;
  if (reply.event.type === Messages.toolCallCompleted.type)
    return { completed: reply.value as ToolCallCompleted };
  if (reply.event.type === Messages.toolCallFailed.type)
    return { failed: reply.value as ToolCallFailed };
  return { other: `a ${reply.event.type} message: ${JSON.stringify(reply.value)}` };
}

/** The completed call, or a test failure that shows the error it got instead. */
export function completedOf(reply: ToolOutcome): ToolCallCompleted {
  const outcome = settled(reply);
  if ('completed' in outcome) return outcome.completed;
  throw new Error(
    `expected success, got ${'failed' in outcome ? JSON.stringify(outcome.failed.error) : outcome.other}`,
  );
}

/** The call's error, or a test failure that shows the result it got instead. */
export function failureOf(reply: ToolOutcome): SafeError {
  const outcome = settled(reply);
  if ('failed' in outcome) return outcome.failed.error;
  throw new Error(
    `expected failure, got ${'completed' in outcome ? JSON.stringify(outcome.completed) : outcome.other}`,
  );
}
