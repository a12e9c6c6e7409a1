import { z } from 'zod';
import {
  ContextId,
  IdempotencyKey,
  JsonObject,
  Principal,
  Region,
  SafeError,
  TenantId,
  Timestamp,
  ToolName,
} from './common.js';

export const ToolCallRequested = z
  .object({
    callId: z
      .string()
      .min(1)
      .max(128)
      .describe('Id of this attempt (unique per delivery attempt by the orchestrator)'),
    idempotencyKey: IdempotencyKey,
    tool: ToolName,
    toolVersion: z.string().max(64).optional(),
    input: JsonObject,
    principal: Principal,
    tenant: TenantId,
    region: Region,
    deadline: Timestamp.describe('After this instant the result is no longer wanted'),
    contextId: ContextId.optional(),
    attempt: z.number().int().min(1).default(1),
    grant: z
      .string()
      .max(8192)
      .optional()
      .describe(
        'The call grant: a compact JWS the dispatcher signed for this call and this consumer (principal, tenant, scopes, region, input hash); consumers take those from it and refuse a call without one. Over HTTP it is the bearer token instead',
      ),
  })
  .describe('A tool call for a tool consumer to execute');
export type ToolCallRequested = z.infer<typeof ToolCallRequested>;

export const ToolCallCompleted = z
  .object({
    callId: z.string(),
    idempotencyKey: IdempotencyKey,
    tool: ToolName,
    output: z.unknown().describe('The tool output (JSON), valid against the tool output schema'),
    durationMs: z.number().nonnegative(),
    deduplicated: z
      .boolean()
      .describe('True when the stored result of an earlier identical call was returned'),
    completedAt: Timestamp,
  })
  .describe('A tool call that succeeded');
export type ToolCallCompleted = z.infer<typeof ToolCallCompleted>;

export const ToolCallFailed = z
  .object({
    callId: z.string(),
    idempotencyKey: IdempotencyKey,
    tool: ToolName,
    error: SafeError,
    durationMs: z.number().nonnegative(),
    failedAt: Timestamp,
  })
  .describe('A tool call that failed, with a classified error safe to show the model');
export type ToolCallFailed = z.infer<typeof ToolCallFailed>;
