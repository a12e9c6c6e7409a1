import { z } from 'zod';
import { ContextId, JsonObject, SafeError, TenantId, ToolName, Usage } from './common.js';

export const TextPart = z.object({ type: z.literal('text'), text: z.string() });
export const ToolUsePart = z.object({
  type: z.literal('tool_use'),
  id: z
    .string()
    .min(1)
    .max(128)
    .describe('Id the model gave this call; the tool_result refers to it'),
  name: ToolName,
  input: JsonObject,
});
export const ToolResultPart = z.object({
  type: z.literal('tool_result'),
  toolUseId: z.string().min(1).max(128),
  content: z.array(TextPart).describe('The result as text parts (JSON results are serialized)'),
  isError: z.boolean().default(false),
});
export const ContentPart = z.discriminatedUnion('type', [TextPart, ToolUsePart, ToolResultPart]);
export type ContentPart = z.infer<typeof ContentPart>;

export const ChatMessage = z.object({
  role: z.enum(['user', 'assistant']),
  content: z.array(ContentPart).min(1),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

/** A tool as the model sees it: name, description, JSON Schema of its input. */
export const ToolSpec = z.object({
  name: ToolName,
  description: z.string().max(10_000),
  inputSchema: JsonObject.describe('JSON Schema (an object schema) of the tool input'),
});
export type ToolSpec = z.infer<typeof ToolSpec>;

export const ModelRequest = z
  .object({
    contextId: ContextId,
    tenant: TenantId,
    model: z.string().min(1).max(100).describe('Model alias, e.g. default'),
    system: z.string().max(200_000).optional(),
    messages: z.array(ChatMessage).min(1),
    tools: z.array(ToolSpec).max(256).default([]),
    maxTokens: z.number().int().positive().max(1_000_000),
    temperature: z.number().min(0).max(2).optional(),
    remainingBudgetTokens: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .describe('Tokens the conversation may still spend'),
  })
  .describe('One normalized call to a model');
export type ModelRequest = z.infer<typeof ModelRequest>;

export const ToolCall = z.object({
  id: z.string().min(1).max(128),
  name: ToolName,
  input: JsonObject,
});
export type ToolCall = z.infer<typeof ToolCall>;

export const ModelResponse = z
  .object({
    contextId: ContextId,
    content: z.array(ContentPart),
    toolCalls: z.array(ToolCall),
    stopReason: z.enum(['end_turn', 'tool_use', 'max_tokens', 'stop_sequence', 'refusal']),
    usage: Usage,
    costUsd: z.number().nonnegative(),
    provider: z.string(),
    model: z.string(),
    latencyMs: z.number().nonnegative(),
  })
  .describe('One normalized model answer');
export type ModelResponse = z.infer<typeof ModelResponse>;

export const ModelFailed = z
  .object({
    contextId: ContextId,
    error: SafeError,
    provider: z.string().optional(),
    attempts: z.number().int().nonnegative(),
  })
  .describe('A model call that failed after retries and failover');
export type ModelFailed = z.infer<typeof ModelFailed>;
