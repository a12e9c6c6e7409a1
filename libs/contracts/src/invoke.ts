import { z } from 'zod';
import { PrincipalAssertion } from './ask.js';
import {
  ContextId,
  IdempotencyKey,
  JsonObject,
  Principal,
  SafeError,
  Timestamp,
  ToolName,
} from './common.js';

/**
 * A tool call made directly, without a model: an MCP client that brings its own model, or a
 * REST caller. It passes the same policy chain as a call a model asks for.
 */
export const ToolInvocationRequested = z
  .object({
    tool: ToolName,
    toolVersion: z.string().max(64).optional().describe('Pin a version; default the served one'),
    input: JsonObject,
    principal: Principal,
    principalAssertion: PrincipalAssertion.optional(),
    idempotencyKey: IdempotencyKey.optional().describe(
      'Reuse to retry without a second effect; default one per invocation',
    ),
    deadline: Timestamp.optional().describe("Default: now + the tool's timeout"),
    contextId: ContextId.optional(),
  })
  .describe('A direct tool call, for the orchestrator to run under policy');
export type ToolInvocationRequested = z.infer<typeof ToolInvocationRequested>;

export const ToolInvocationAnswered = z
  .object({
    tool: ToolName,
    toolVersion: z.string().max(64).optional(),
    idempotencyKey: IdempotencyKey,
    outcome: z
      .enum(['succeeded', 'failed', 'refused'])
      .describe('refused: a policy step said no; failed: the tool ran and failed'),
    output: z.unknown().optional().describe('The tool output, valid against its output schema'),
    error: SafeError.optional().describe('Why it failed or was refused; readable by a model'),
    stale: z
      .object({ ageMs: z.number().nonnegative() })
      .optional()
      .describe("Answered from the result cache while the tool's breaker is open"),
    durationMs: z.number().nonnegative(),
    answeredAt: Timestamp,
  })
  .describe('The outcome of a direct tool call');
export type ToolInvocationAnswered = z.infer<typeof ToolInvocationAnswered>;
