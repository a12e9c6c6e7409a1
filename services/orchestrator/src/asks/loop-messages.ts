import type { AskCompleted, ChatMessage, ContentPart, ToolCall, Usage } from '@toolbus/contracts';
import type { ToolCallResult } from '../calls/tool-call.js';

// What the loop reads from and writes into the conversation: pure, so the loop stays the story.

/** A tool's result as the model reads it: the output (marked stale with its age) or the error. */
export function toolResult(toolUseId: string, result: ToolCallResult): ContentPart {
  const body =
    result.outcome === 'succeeded'
      ? result.stale
        ? { stale: true, ageMs: result.stale.ageMs, output: result.output }
        : result.output
      : { error: result.error, outcome: result.outcome };
  return {
    type: 'tool_result',
    toolUseId,
    content: [{ type: 'text', text: JSON.stringify(body ?? null) }],
    isError: result.outcome !== 'succeeded',
  };
}

/** A call as the ask's reply lists it. */
export function summary(result: ToolCallResult): AskCompleted['toolCalls'][number] {
  return {
    tool: result.tool,
    idempotencyKey: result.idempotencyKey,
    outcome: result.stale ? 'cached' : result.outcome,
    durationMs: result.durationMs,
    ...(result.error ? { errorClass: result.error.class, code: result.error.code } : {}),
    ...(result.toolVersion ? { toolVersion: result.toolVersion } : {}),
  };
}

/** The text parts of a message, joined. */
export function textOf(content: ContentPart[]): string {
  return content
    .filter((p): p is Extract<ContentPart, { type: 'text' }> => p.type === 'text')
    .map((p) => p.text)
    .join('\n')
    .trim();
}

/** The tool calls of a last assistant message that no tool_result answers yet. */
export function unansweredCalls(messages: ChatMessage[]): ToolCall[] {
  const last = messages.at(-1);
  if (last?.role !== 'assistant') return [];
  return last.content.flatMap((p) =>
    p.type === 'tool_use' ? [{ id: p.id, name: p.name, input: p.input }] : [],
  );
}

/** The names of every tool the model called in these messages. */
export function toolUsesOf(messages: ChatMessage[]): string[] {
  return messages.flatMap((m) => m.content.flatMap((p) => (p.type === 'tool_use' ? [p.name] : [])));
}

/** Two usages added up. */
export function addUsage(a: Usage, b: Usage): Usage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadTokens: (a.cacheReadTokens ?? 0) + (b.cacheReadTokens ?? 0),
    cacheWriteTokens: (a.cacheWriteTokens ?? 0) + (b.cacheWriteTokens ?? 0),
  };
}
