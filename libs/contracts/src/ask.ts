import { z } from 'zod';
import {
  ContextId,
  ErrorClass,
  Principal,
  SafeError,
  Timestamp,
  ToolName,
  Usage,
} from './common.js';

/**
 * A principal as the gateway verified it, signed by the gateway (a compact JWS): the
 * orchestrator believes the principal of a message only through it, never the body's copy.
 */
export const PrincipalAssertion = z
  .string()
  .min(16)
  .max(16_384)
  .regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'must be a compact JWS')
  .describe("The gateway's signed assertion of the caller (a compact JWS)");

export const AskRequested = z
  .object({
    contextId: ContextId,
    askId: z
      .string()
      .min(8)
      .max(128)
      .regex(/^[A-Za-z0-9._:-]+$/)
      .optional()
      .describe('Id of this ask within the conversation; default the message id'),
    principal: Principal,
    principalAssertion: PrincipalAssertion.optional(),
    question: z.string().min(1).max(100_000).describe('What the user asked'),
    model: z
      .string()
      .min(1)
      .max(100)
      .default('default')
      .describe('Model alias to use, e.g. default'),
    maxTokens: z
      .number()
      .int()
      .positive()
      .max(1_000_000)
      .optional()
      .describe('Token budget for the whole ask'),
    tools: z
      .array(ToolName)
      .max(256)
      .optional()
      .describe('Restrict the ask to these tools (still filtered by scopes)'),
    region: z.string().optional().describe('Data region the caller requires'),
    deadline: Timestamp.optional().describe('When the caller stops waiting; default from config'),
    requestedAt: Timestamp,
  })
  .describe('A question for the agent loop');
export type AskRequested = z.infer<typeof AskRequested>;

export const AskProgress = z
  .object({
    contextId: ContextId,
    seq: z.number().int().nonnegative().describe('Increases by one per progress event of an ask'),
    askId: z.string().min(8).max(128).optional(),
    stage: z.enum([
      'planning',
      'model_call',
      'tool_call',
      'tool_result',
      'answering',
      'budget_warning',
    ]),
    message: z.string().max(2000),
    tool: ToolName.optional(),
    at: Timestamp,
  })
  .describe('Progress of an ask while it runs');
export type AskProgress = z.infer<typeof AskProgress>;

export const ToolCallSummary = z.object({
  tool: ToolName,
  idempotencyKey: z.string(),
  outcome: z.enum(['succeeded', 'failed', 'refused', 'cached']),
  durationMs: z.number().nonnegative(),
  errorClass: ErrorClass.optional(),
  toolVersion: z.string().max(64).optional(),
  code: z.string().max(100).optional().describe('Why it was refused or failed'),
});

export const AskCompleted = z
  .object({
    contextId: ContextId,
    answer: z.string(),
    toolCalls: z.array(ToolCallSummary),
    usage: Usage,
    costUsd: z.number().nonnegative(),
    model: z.string(),
    traceId: z.string().optional(),
    askId: z.string().min(8).max(128).optional(),
    stopReason: z
      .enum(['answer', 'max_steps', 'deadline', 'budget'])
      .optional()
      .describe('Why the loop stopped: a final answer, the step limit, the deadline, the budget'),
    budget: z
      .object({
        capTokens: z.number().int().nonnegative(),
        usedTokens: z.number().int().nonnegative(),
        unusedTokens: z.number().int().nonnegative(),
      })
      .optional()
      .describe("The ask's token cap, what it used and what was left unused"),
    completedAt: Timestamp,
  })
  .describe('The answer to an ask, with the tool calls made and the tokens used');
export type AskCompleted = z.infer<typeof AskCompleted>;

export const AskFailed = z
  .object({
    contextId: ContextId,
    error: SafeError,
    usage: Usage.optional(),
    traceId: z.string().optional(),
    askId: z.string().min(8).max(128).optional(),
    failedAt: Timestamp,
  })
  .describe('An ask that could not be answered, and why');
export type AskFailed = z.infer<typeof AskFailed>;
