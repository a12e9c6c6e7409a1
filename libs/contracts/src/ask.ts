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

export const AskRequested = z
  .object({
    contextId: ContextId,
    principal: Principal,
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
    requestedAt: Timestamp,
  })
  .describe('A question for the agent loop');
export type AskRequested = z.infer<typeof AskRequested>;

export const AskProgress = z
  .object({
    contextId: ContextId,
    seq: z.number().int().nonnegative().describe('Increases by one per progress event of an ask'),
    stage: z.enum(['planning', 'model_call', 'tool_call', 'tool_result', 'answering']),
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
    failedAt: Timestamp,
  })
  .describe('An ask that could not be answered, and why');
export type AskFailed = z.infer<typeof AskFailed>;
