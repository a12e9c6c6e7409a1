import { createHash } from 'node:crypto';
import type {
  AskCompleted,
  AskRequested,
  ChatMessage,
  ContentPart,
  ModelResponse,
  Principal,
  SafeError,
  ToolCall,
  ToolDefinition,
  Usage,
} from '@toolbus/contracts';
import type { Logger } from '@toolbus/observability';
import type { ToolCatalog } from '../catalog/tool-catalog.js';
import { ToolIndex } from '../catalog/tool-ranking.js';
import type { ToolCalls } from '../calls/tool-call.js';
import type { TenantSettings } from '@toolbus/policy';
import { FIND_TOOLS, findTools, toolSpec } from './find-tools.js';
import type { ConversationPort, ModelPort, ProgressPort, SpendPort } from './ports.js';
import {
  addUsage,
  summary,
  textOf,
  toolResult,
  toolUsesOf,
  unansweredCalls,
} from './loop-messages.js';
import { systemPrompt } from './system-prompt.js';

export interface AgentLoopOptions {
  maxSteps: number;
  maxOfferedTools: number;
  /** Tokens one ask may use unless the tenant's policy says otherwise. */
  askTokenCap: number;
  /** The largest answer asked of the model in one step. */
  maxTokensPerStep: number;
}

/** One ask, as the loop runs it: verified caller, its tenant's policy, when to stop waiting. */
export interface AskRun {
  ask: AskRequested;
  askId: string;
  principal: Principal;
  tenantSettings: TenantSettings;
  deadline: number;
}

/** The loop stopped before the model answered; the ask still answers, saying why. */
export class AskRefused extends Error {
  constructor(readonly error: SafeError) {
    super(error.message);
  }
}

type StopReason = NonNullable<AskCompleted['stopReason']>;

interface LoopState {
  run: AskRun;
  messages: ChatMessage[];
  /** How many of `messages` are earlier turns (the rest is this ask's turn). */
  historyLength: number;
  offered: Map<string, ToolDefinition>;
  usage: Usage;
  /** Tokens this ask spent before it was interrupted and resumed (the usage ledger's count). */
  spentBefore: number;
  costUsd: number;
  model: string;
  cap: number;
  /** Why the budget stopped the ask, when it was not the ask's own cap running out. */
  budgetStop?: string;
  calls: AskCompleted['toolCalls'];
  /** What `find_tools` searches: every tool the caller may use in this ask. */
  index: ToolIndex;
  answer?: string;
}

/**
 * The agent loop: offers the model what the caller may use (the most relevant
 * `maxOfferedTools`, and `find_tools` for more), runs the calls it asks for in parallel through
 * the policy chain, feeds the results back, and stops on an answer, at the step limit, at the
 * deadline, or when the ask's token cap is spent, saying which. Every step is checkpointed, so
 * an ask redelivered after a crash resumes where it was and its calls keep their keys.
 */
export class AgentLoop {
  constructor(
    private readonly options: AgentLoopOptions,
    private readonly catalog: ToolCatalog,
    private readonly model: ModelPort,
    private readonly tools: ToolCalls,
    private readonly conversation: ConversationPort,
    private readonly progress: ProgressPort,
    private readonly spend: SpendPort,
    private readonly logger: Logger,
  ) {}

  async run(run: AskRun): Promise<AskCompleted> {
    const { ask, askId } = run;
    const refusal = await this.spend.refusal(run.principal.tenant);
    if (refusal) throw new AskRefused({ class: 'budget_exceeded', ...refusal, retryable: false });
    const state = await this.start(run);
    // Interrupted after the model asked for calls, before their results were recorded: run
    // them first (with the same keys, so effects that did happen are not repeated).
    const pending = unansweredCalls(state.messages);
    if (pending.length > 0) await this.runTools(state, pending);
    let stop: StopReason | undefined;
    for (let step = 1; !stop; step++) {
      stop = this.limitReached(state, step);
      if (stop) break;
      // The month may run out during an ask: the first model call was checked above.
      const monthly = step > 1 ? await this.spend.refusal(run.principal.tenant) : undefined;
      if (monthly) {
        state.budgetStop = monthly.message;
        stop = 'budget';
        break;
      }
      const response = await this.callModel(state);
      if (!response) {
        stop = 'budget';
        break;
      }
      if (response.toolCalls.length === 0) {
        state.answer = textOf(response.content);
        stop = 'answer';
        break;
      }
      await this.runTools(state, response.toolCalls);
      await this.save(state);
    }
    await this.conversation.finish(
      run.principal.tenant,
      ask.contextId,
      askId,
      state.messages.slice(state.historyLength),
    );
    await this.progress.publish({
      contextId: ask.contextId,
      askId,
      stage: 'answering',
      message: stop,
    });
    const used = usedTokens(state);
    return {
      contextId: ask.contextId,
      askId,
      answer: state.answer ?? stoppedAnswer(stop, state),
      toolCalls: state.calls,
      usage: state.usage,
      costUsd: state.costUsd,
      model: state.model,
      stopReason: stop,
      budget: {
        capTokens: state.cap,
        usedTokens: used,
        unusedTokens: Math.max(0, state.cap - used),
      },
      completedAt: new Date().toISOString(),
    };
  }

  /** The conversation so far (or the interrupted ask), and the tools to offer. */
  private async start(run: AskRun): Promise<LoopState> {
    const { ask, askId, principal, tenantSettings } = run;
    const usable = this.catalog.usable(principal, tenantSettings);
    const allowed = ask.tools ? usable.filter((t) => ask.tools!.includes(t.name)) : usable;
    const index = new ToolIndex(allowed);
    const offered = new Map(
      index.rank(ask.question, this.options.maxOfferedTools).map((t) => [t.name, t]),
    );
    const resumed = await this.conversation.resume(askId);
    let messages: ChatMessage[];
    let historyLength: number;
    let spentBefore = 0;
    if (resumed) {
      ({ messages, historyLength } = resumed);
      spentBefore = await this.spend.askTokens(principal.tenant, askId);
      this.logger.info({ askId, messages: messages.length }, 'resuming an interrupted ask');
    } else {
      const history = await this.conversation.history(principal.tenant, ask.contextId);
      historyLength = history.messages.length;
      messages = [
        ...history.messages,
        { role: 'user', content: [{ type: 'text', text: ask.question }] },
      ];
      await this.conversation.checkpoint(askId, { messages, historyLength });
    }
    // Tools the model found with find_tools earlier in this ask stay offered after a resume.
    for (const name of toolUsesOf(messages))
      if (!offered.has(name)) {
        const tool = allowed.find((t) => t.name === name);
        if (tool) offered.set(name, tool);
      }
    await this.progress.publish({
      contextId: ask.contextId,
      askId,
      stage: 'planning',
      message: `offering ${offered.size} of ${allowed.length} tools`,
    });
    return {
      run,
      messages,
      historyLength,
      offered,
      usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
      spentBefore,
      costUsd: 0,
      model: ask.model,
      // The tenant's cap (or the platform's) bounds the ask; an ask may ask for less.
      cap: Math.min(
        tenantSettings.askTokenCap ?? this.options.askTokenCap,
        ask.maxTokens ?? Number.MAX_SAFE_INTEGER,
      ),
      calls: [],
      index,
    };
  }

  private save(state: LoopState): Promise<void> {
    return this.conversation.checkpoint(state.run.askId, {
      messages: state.messages,
      historyLength: state.historyLength,
    });
  }

  private limitReached(state: LoopState, step: number): StopReason | undefined {
    if (step > this.options.maxSteps) return 'max_steps';
    if (Date.now() >= state.run.deadline) return 'deadline';
    if (usedTokens(state) >= state.cap) return 'budget';
    return undefined;
  }

  /** The model's next turn, or undefined when what is left of the cap cannot pay for it. */
  private async callModel(state: LoopState): Promise<ModelResponse | undefined> {
    const { run } = state;
    const remaining = Math.max(1, state.cap - usedTokens(state));
    await this.progress.publish({
      contextId: run.ask.contextId,
      askId: run.askId,
      stage: 'model_call',
      message: `asking ${run.ask.model}`,
    });
    const outcome = await this.model.complete(
      {
        contextId: run.ask.contextId,
        tenant: run.principal.tenant,
        model: run.ask.model,
        system: systemPrompt(run.principal),
        messages: state.messages,
        tools: [...[...state.offered.values()].map(toolSpec), FIND_TOOLS],
        maxTokens: Math.min(this.options.maxTokensPerStep, remaining),
        remainingBudgetTokens: remaining,
      },
      run.deadline,
    );
    // The shim refuses a step whose input alone would pass what is left of the cap: the cap
    // stops the ask there, with that remainder unused, rather than failing it.
    if (!outcome.ok && outcome.failure.error.class === 'budget_exceeded') return undefined;
    if (!outcome.ok) throw new AskRefused(outcome.failure.error);
    const { response } = outcome;
    state.usage = addUsage(state.usage, response.usage);
    state.costUsd += response.costUsd;
    state.model = response.model;
    const spent = await this.spend.record({
      tenant: run.principal.tenant,
      askId: run.askId,
      callId: outcome.callId,
      model: response.model,
      inputTokens: response.usage.inputTokens,
      outputTokens: response.usage.outputTokens,
      costUsd: response.costUsd,
    });
    for (const warning of spent.warnings)
      await this.progress.publish({
        contextId: run.ask.contextId,
        askId: run.askId,
        stage: 'budget_warning',
        message: warning,
      });
    state.messages.push({ role: 'assistant', content: response.content });
    await this.save(state);
    return response;
  }

  /** Runs the step's calls in parallel; each result becomes a tool_result for the model. */
  private async runTools(state: LoopState, calls: ToolCall[]): Promise<void> {
    const { run } = state;
    const results = await Promise.all(
      calls.map(async (call): Promise<ContentPart> => {
        if (call.name === FIND_TOOLS.name) return this.findMore(state, call);
        await this.progress.publish({
          contextId: run.ask.contextId,
          askId: run.askId,
          stage: 'tool_call',
          tool: call.name,
          message: `calling ${call.name}`,
        });
        const result = await this.tools.run({
          tool: call.name,
          input: call.input,
          principal: run.principal,
          tenantSettings: run.tenantSettings,
          idempotencyKey: callKey(run.askId, call.id),
          deadline: run.deadline,
          offered: new Set(state.offered.keys()),
          askId: run.askId,
          contextId: run.ask.contextId,
        });
        state.calls.push(summary(result));
        await this.progress.publish({
          contextId: run.ask.contextId,
          askId: run.askId,
          stage: 'tool_result',
          tool: call.name,
          message: `${call.name} ${result.outcome}${result.stale ? ' (stale, from cache)' : ''}`,
        });
        return toolResult(call.id, result);
      }),
    );
    state.messages.push({ role: 'user', content: results });
  }

  private findMore(state: LoopState, call: ToolCall): ContentPart {
    const found = findTools(state.index, call.input, new Set(state.offered.keys()));
    for (const tool of found.tools) state.offered.set(tool.name, tool);
    return {
      type: 'tool_result',
      toolUseId: call.id,
      content: [{ type: 'text', text: found.text }],
      isError: false,
    };
  }
}

/**
 * The idempotency key of a call the model asked for: the same ask and the same tool_use id
 * give the same key, so a retry, or the ask redelivered after a crash and resumed from its
 * checkpoint, can never run the effect twice.
 */
export function callKey(askId: string, toolUseId: string): string {
  const digest = createHash('sha256').update(`${askId}\u0000${toolUseId}`).digest('hex');
  return `ask:${digest.slice(0, 40)}`;
}

/** Tokens of the ask so far, the part spent before a resume included. */
function usedTokens(state: LoopState): number {
  return state.spentBefore + state.usage.inputTokens + state.usage.outputTokens;
}

/** The answer when the loop stopped before the model gave one: why, and what it had. */
function stoppedAnswer(stop: StopReason, state: LoopState): string {
  const last = [...state.messages].reverse().find((m) => m.role === 'assistant');
  const partial = last ? textOf(last.content) : '';
  const why: Record<StopReason, string> = {
    answer: '',
    max_steps: 'I stopped after the maximum number of steps without a final answer.',
    deadline: 'I ran out of time before I could finish.',
    budget: state.budgetStop
      ? `I had to stop: ${state.budgetStop}`
      : `I reached this request's token budget (${state.cap} tokens) before I could finish.`,
  };
  return [why[stop], partial].filter(Boolean).join(' ');
}
