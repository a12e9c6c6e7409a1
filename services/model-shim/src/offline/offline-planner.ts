import type {
  ChatMessage,
  ContentPart,
  JsonObject,
  ModelRequest,
  ToolCall,
  Usage,
} from '@toolbus/contracts';
import { estimateInputTokens, estimateOutputTokens } from '../accounting/token-estimate.js';
import { analyzeQuestion } from './question.js';
import { errorMessage, extractId, readResult, renderResult } from './result-render.js';
import { planFor, type Plan } from './tool-choice.js';

/** The next assistant turn as the offline planner writes it. */
export interface PlannerResult {
  /** Text and/or tool_use parts, as an assistant message would carry them. */
  content: ContentPart[];
  /** The tool_use parts of `content` again, as calls. */
  toolCalls: ToolCall[];
  stopReason: 'end_turn' | 'tool_use';
  /** Estimated at four characters a token, both ways; nothing is cached. */
  usage: Usage;
}

type ToolUsePart = Extract<ContentPart, { type: 'tool_use' }>;
type ToolResultPart = Extract<ContentPart, { type: 'tool_result' }>;

/** Every text the planner writes starts with this, so no one mistakes it for a model's answer. */
const PREFIX = 'Offline planner (no language model): ';

const isToolUse = (part: ContentPart): part is ToolUsePart => part.type === 'tool_use';
const isToolResult = (part: ContentPart): part is ToolResultPart => part.type === 'tool_result';

/**
 * The message that asks the question: the latest user message with text and no tool results.
 * In a one-question conversation that is the first user message; a follow-up question starts
 * a new plan instead of answering the old one again.
 */
function questionIndex(messages: readonly ChatMessage[]): number {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (
      message?.role === 'user' &&
      message.content.some((p) => p.type === 'text') &&
      !message.content.some(isToolResult)
    ) {
      return i;
    }
  }
  return messages.findIndex((m) => m.role === 'user' && m.content.some((p) => p.type === 'text'));
}

function textOf(message: ChatMessage | undefined): string {
  if (message === undefined) return '';
  return message.content
    .flatMap((p) => (p.type === 'text' ? [p.text] : []))
    .join('\n')
    .trim();
}

function quote(text: string): string {
  return `"${text}"`;
}

function list(names: readonly string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1) ?? ''}`;
}

/** Hands out tool_use ids that follow on from the ones already in the conversation. */
class ToolUseIds {
  private next: number;

  constructor(
    private readonly taken: ReadonlySet<string>,
    alreadyUsed: number,
  ) {
    this.next = alreadyUsed + 1;
  }

  allocate(): string {
    // Another provider may have used the same scheme earlier in the conversation.
    while (this.taken.has(`offline_${this.next}`)) this.next++;
    return `offline_${this.next++}`;
  }
}

function callTool(ids: ToolUseIds, text: string, name: string, input: JsonObject): ContentPart[] {
  return [
    { type: 'text', text: `${PREFIX}${text}` },
    { type: 'tool_use', id: ids.allocate(), name, input },
  ];
}

function answer(text: string): ContentPart[] {
  return [{ type: 'text', text: `${PREFIX}${text}` }];
}

/** The first turn for a question: call a tool, or say why no tool is called. */
function firstTurn(plan: Plan, ids: ToolUseIds): ContentPart[] {
  switch (plan.kind) {
    case 'no_tools':
      return answer('no tool fits this question, because no tools were offered.');
    case 'no_fit':
      return answer(
        `no tool fits this question. None of the offered tools (${list(plan.offered)}) ` +
          'matches its words, so there is no answer to give.',
      );
    case 'missing':
      return answer(
        `${plan.tool} looks like the tool for this question, but the offline planner could not ` +
          `tell ${list(plan.missing)} from the question, so it did not call it.`,
      );
    case 'call':
      return callTool(
        ids,
        `calling ${plan.tool} with ${JSON.stringify(plan.input)}.`,
        plan.tool,
        plan.input,
      );
    case 'find':
      return callTool(
        ids,
        `looking up ${quote(plan.lookup)} with ${plan.finder} to get the ${plan.idProperty} ` +
          `for ${plan.tool}.`,
        plan.finder,
        plan.finderInput,
      );
  }
}

/** Whether a call with this name and input was already made. */
function alreadyCalled(uses: readonly ToolUsePart[], name: string, input: JsonObject): boolean {
  const wanted = JSON.stringify(input);
  return uses.some((u) => u.name === name && JSON.stringify(u.input) === wanted);
}

/** The turn after tool results: call the tool the finder found the id for, or answer. */
function nextTurn(
  plan: Plan,
  batch: readonly ToolResultPart[],
  since: readonly ChatMessage[],
  useOf: ReadonlyMap<string, ToolUsePart>,
  ids: ToolUseIds,
): ContentPart[] {
  const nameOf = (part: ToolResultPart) => useOf.get(part.toolUseId)?.name ?? 'the tool';
  const usesSince = since.flatMap((m) => m.content.filter(isToolUse));
  const resultsSince = since.flatMap((m) => m.content.filter(isToolResult));

  const failures = batch.filter((r) => r.isError);
  if (failures.length > 0) {
    return answer(
      failures
        .map((r) => `the tool ${nameOf(r)} failed: ${quote(errorMessage(readResult(r)))}.`)
        .join(' '),
    );
  }

  if (plan.kind === 'find') {
    const fromFinder = batch.find((r) => nameOf(r) === plan.finder);
    if (fromFinder !== undefined && !usesSince.some((u) => u.name === plan.tool)) {
      const found = extractId(readResult(fromFinder), plan.idProperty);
      if (found === undefined) {
        return answer(
          `nothing matched ${quote(plan.lookup)}: ${plan.finder} found no match, so ` +
            `${plan.tool} was not called.`,
        );
      }
      const id = plan.idIsNumber && /^\d+$/.test(String(found.id)) ? Number(found.id) : found.id;
      const filled: JsonObject = { ...plan.input, [plan.idProperty]: id };
      const input: JsonObject = {};
      for (const key of plan.order) if (key in filled) input[key] = filled[key];
      if (!alreadyCalled(usesSince, plan.tool, input)) {
        return callTool(
          ids,
          `${plan.finder} found ${plan.idProperty} ${String(id)}; calling ${plan.tool} with ` +
            `${JSON.stringify(input)}.`,
          plan.tool,
          input,
        );
      }
    }
  }

  // A finder that matched several records picked the first; the answer says so.
  let note = '';
  let subject: string | undefined;
  if (plan.kind === 'find') {
    const finderResult = resultsSince.find((r) => nameOf(r) === plan.finder);
    const found =
      finderResult === undefined ? undefined : extractId(readResult(finderResult), plan.idProperty);
    subject = found?.name;
    if (found !== undefined && found.count > 1) {
      note =
        ` (${plan.finder} matched ${found.count} records for ${quote(plan.lookup)}; ` +
        `this is the first, ${plan.idProperty} ${String(found.id)}.)`;
    }
  }
  const rendered = batch.map((r) => renderResult(nameOf(r), readResult(r), subject));
  return answer(`${rendered.join(' ')}${note}`);
}

/** The same estimate the budget check uses, so the planner's usage is accounted alike. */
function estimateUsage(request: ModelRequest, content: readonly ContentPart[]): Usage {
  return {
    inputTokens: estimateInputTokens(request),
    outputTokens: estimateOutputTokens(content),
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
  };
}

/**
 * Plans the next assistant turn for a normalized request without any model behind it: picks a
 * tool by matching the question's words against tool names, descriptions and enum values, fills
 * its arguments from the question (looking an id up with a `find_*` tool first when needed),
 * and composes the answer from the tool results. Pure and deterministic: the same request gives
 * the same result, and tool_use ids continue the count of tool_use parts already in the
 * conversation (`offline_1`, `offline_2`...). Every text says it came from the offline planner.
 */
export function planOffline(request: ModelRequest): PlannerResult {
  const { messages, tools } = request;
  const index = questionIndex(messages);
  const plan = planFor(analyzeQuestion(textOf(messages[index])), tools);

  const uses = messages.flatMap((m) => m.content.filter(isToolUse));
  const useOf = new Map(uses.map((u) => [u.id, u]));
  const ids = new ToolUseIds(new Set(uses.map((u) => u.id)), uses.length);

  const last = messages.at(-1);
  const batch = last?.role === 'user' && index >= 0 ? last.content.filter(isToolResult) : [];
  const content =
    batch.length > 0 && messages.length - 1 > index
      ? nextTurn(plan, batch, messages.slice(index + 1), useOf, ids)
      : firstTurn(plan, ids);

  const toolCalls: ToolCall[] = content
    .filter(isToolUse)
    .map(({ id, name, input }) => ({ id, name, input }));
  return {
    content,
    toolCalls,
    stopReason: toolCalls.length > 0 ? 'tool_use' : 'end_turn',
    usage: estimateUsage(request, content),
  };
}
