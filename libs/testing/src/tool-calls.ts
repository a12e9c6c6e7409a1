import type {
  Principal,
  SafeError,
  ToolCallCompleted,
  ToolCallFailed,
  ToolCallRequested,
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

type ToolOutcome =
  { ok: true; completed: ToolCallCompleted } | { ok: false; failed: ToolCallFailed };

/** The completed call, or a test failure that shows the error it got instead. */
export function completedOf(reply: ToolOutcome): ToolCallCompleted {
  if (!reply.ok) throw new Error(`expected success, got ${JSON.stringify(reply.failed.error)}`);
  return reply.completed;
}

/** The call's error, or a test failure that shows the result it got instead. */
export function failureOf(reply: ToolOutcome): SafeError {
  if (reply.ok) throw new Error(`expected failure, got ${JSON.stringify(reply.completed)}`);
  return reply.failed.error;
}
