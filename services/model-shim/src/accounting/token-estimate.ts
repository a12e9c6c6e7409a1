import type { ContentPart, ModelRequest } from '@toolbus/contracts';

/**
 * Local input-token estimate for providers without a count endpoint: UTF-8 bytes / 4 over the
 * system prompt, every part and every tool schema, plus a few tokens of framing per message.
 * Bytes rather than characters keep it honest for non-Latin scripts (a CJK character is 3
 * bytes and roughly one token).
 *
 * Error bound (checked by a unit test against the cl100k BPE tokenizer on English prose,
 * JSON tool results, tool schemas and mixed-script text): the true count lies within
 * [0.5 × estimate, 1.6 × estimate]. Budget decisions use this bound: a request is refused
 * before any provider call only when even the low end exceeds the budget.
 */
export const ESTIMATE_LOW = 0.5;
export const ESTIMATE_HIGH = 1.6;

const PER_MESSAGE = 4;
const PER_TOOL = 8;

/** UTF-8 bytes of message parts, the unit both estimates count in. */
function contentBytes(parts: readonly ContentPart[]): number {
  let bytes = 0;
  for (const part of parts) {
    if (part.type === 'text') bytes += Buffer.byteLength(part.text);
    else if (part.type === 'tool_use')
      bytes += Buffer.byteLength(part.name) + Buffer.byteLength(JSON.stringify(part.input));
    else for (const c of part.content) bytes += Buffer.byteLength(c.text);
  }
  return bytes;
}

export function estimateInputTokens(
  request: Pick<ModelRequest, 'system' | 'messages' | 'tools'>,
): number {
  let bytes = Buffer.byteLength(request.system ?? '');
  let framing = 0;
  for (const m of request.messages) {
    framing += PER_MESSAGE;
    bytes += contentBytes(m.content);
  }
  for (const t of request.tools ?? []) {
    framing += PER_TOOL;
    bytes +=
      Buffer.byteLength(t.name) +
      Buffer.byteLength(t.description) +
      Buffer.byteLength(JSON.stringify(t.inputSchema));
  }
  return Math.ceil(bytes / 4) + framing;
}

/** Output estimate for adapters that get no usage back (the offline planner). */
export function estimateOutputTokens(parts: readonly ContentPart[]): number {
  return Math.ceil(contentBytes(parts) / 4);
}
