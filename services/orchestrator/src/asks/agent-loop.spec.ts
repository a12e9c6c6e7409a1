import type {
  AskRequested,
  ChatMessage,
  ContentPart,
  ModelRequest,
  ModelResponse,
  Principal,
  ToolDefinition,
} from '@toolbus/contracts';
import { createLogger } from '@toolbus/observability';
import { describe, expect, it } from 'vitest';
import { ToolCatalog } from '../catalog/tool-catalog.js';
import type { ToolCallRequest, ToolCallResult, ToolCalls } from '../calls/tool-call.js';
import { AgentLoop, AskRefused, callKey, type AgentLoopOptions } from './agent-loop.js';
import type {
  AskCheckpoint,
  ConversationPort,
  ModelPort,
  ProgressPort,
  SpendPort,
} from './ports.js';

const logger = createLogger({ name: 'loop-test', level: 'silent' });
const alice: Principal = { subject: 'alice', kind: 'user', tenant: 'acme', scopes: ['crm:read'] };

function tool(name: string, description: string): ToolDefinition {
  return {
    name,
    version: '1.0.0',
    title: name,
    description,
    inputSchema: { type: 'object' },
    annotations: {
      readOnlyHint: true,
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: false,
    },
    owner: 'team-crm',
    scopes: ['crm:read'],
    timeoutMs: 2000,
    cacheTtlSeconds: 0,
    transport: { kind: 'kafka', topic: 'tool_requests.crm' },
    sync: false,
    region: 'eu',
    tags: [],
    status: 'approved',
  };
}

const catalogTools = [
  tool('get_credit_limit', 'The credit limit of a customer'),
  tool('find_customer', 'Find a customer by name'),
  tool('get_invoice', 'An invoice by number'),
];

type Turn = {
  text?: string;
  calls?: Array<{ id: string; name: string; input?: Record<string, unknown> }>;
  tokens?: number;
};

/** A model that plays a script, one turn per call, recording what it was sent. */
function scriptedModel(turns: Turn[]): ModelPort & { requests: ModelRequest[] } {
  const requests: ModelRequest[] = [];
  return {
    requests,
    async complete(request) {
      requests.push(structuredClone(request));
      const turn = turns[Math.min(requests.length - 1, turns.length - 1)]!;
      const content: ContentPart[] = [
        ...(turn.text ? [{ type: 'text' as const, text: turn.text }] : []),
        ...(turn.calls ?? []).map((c) => ({
          type: 'tool_use' as const,
          id: c.id,
          name: c.name,
          input: c.input ?? {},
        })),
      ];
      const response: ModelResponse = {
        contextId: request.contextId,
        content,
        toolCalls: (turn.calls ?? []).map((c) => ({
          id: c.id,
          name: c.name,
          input: c.input ?? {},
        })),
        stopReason: turn.calls?.length ? 'tool_use' : 'end_turn',
        usage: {
          inputTokens: turn.tokens ?? 100,
          outputTokens: 10,
          cacheReadTokens: 0,
          cacheWriteTokens: 0,
        },
        costUsd: 0.001,
        provider: 'fake',
        model: 'fake-1',
        latencyMs: 1,
      };
      return { ok: true, response, callId: `call-${requests.length}` };
    },
  };
}

function memoryConversation(): ConversationPort & {
  checkpoints: Map<string, AskCheckpoint>;
  turns: ChatMessage[][];
} {
  const checkpoints = new Map<string, AskCheckpoint>();
  const turns: ChatMessage[][] = [];
  return {
    checkpoints,
    turns,
    history: async () => ({ messages: turns.flat(), dropped: 0 }),
    resume: async (askId) => structuredClone(checkpoints.get(askId)),
    checkpoint: async (askId, messages) => void checkpoints.set(askId, structuredClone(messages)),
    finish: async (_t, _c, askId, messages) => {
      turns.push(structuredClone(messages));
      checkpoints.delete(askId);
    },
  };
}

function fakeTools(
  behaviour: (r: ToolCallRequest) => Promise<Partial<ToolCallResult>> = async () => ({
    output: { ok: true },
  }),
) {
  const requests: ToolCallRequest[] = [];
  const tools: ToolCalls = {
    async run(request) {
      requests.push(request);
      const r = await behaviour(request);
      return {
        outcome: 'succeeded',
        tool: request.tool,
        idempotencyKey: request.idempotencyKey,
        durationMs: 1,
        ...r,
      };
    },
  };
  return { tools, requests };
}

const progressLog = () => {
  const events: Array<{ stage: string; message: string; tool?: string }> = [];
  const port: ProgressPort = { publish: async (e) => void events.push(e) };
  return { events, port };
};

const freeSpend = (): SpendPort => ({
  refusal: async () => undefined,
  record: async () => ({ warnings: [] }),
  askTokens: async () => 0,
});

const options: AgentLoopOptions = {
  maxSteps: 8,
  maxOfferedTools: 32,
  askTokenCap: 2000,
  maxTokensPerStep: 1024,
};

function loop(parts: {
  model: ModelPort;
  tools?: ToolCalls;
  conversation?: ConversationPort;
  progress?: ProgressPort;
  spend?: SpendPort;
  options?: Partial<AgentLoopOptions>;
  catalog?: ToolDefinition[];
}) {
  return new AgentLoop(
    { ...options, ...parts.options },
    new ToolCatalog({ servedVersions: () => parts.catalog ?? catalogTools }),
    parts.model,
    parts.tools ?? fakeTools().tools,
    parts.conversation ?? memoryConversation(),
    parts.progress ?? progressLog().port,
    parts.spend ?? freeSpend(),
    logger,
  );
}

const ask: AskRequested = {
  contextId: 'ctx-000001',
  principal: alice,
  question: 'What is the credit limit for Acme Corp?',
  model: 'default',
  requestedAt: new Date().toISOString(),
};
const run = (over: Partial<Parameters<AgentLoop['run']>[0]> = {}) => ({
  ask,
  askId: 'ask-000001',
  principal: alice,
  tenantSettings: {},
  deadline: Date.now() + 30_000,
  ...over,
});

describe('AgentLoop', () => {
  it('runs the tool the model asks for, feeds the result back, and answers', async () => {
    const model = scriptedModel([
      { calls: [{ id: 'tu_1', name: 'get_credit_limit', input: { customer_id: 'C-1' } }] },
      { text: 'The credit limit is 50,000 EUR.' },
    ]);
    const { tools, requests } = fakeTools(async () => ({ output: { limit: 50000 } }));
    const progress = progressLog();
    const answer = await loop({ model, tools, progress: progress.port }).run(run());
    expect(answer).toMatchObject({
      answer: 'The credit limit is 50,000 EUR.',
      stopReason: 'answer',
    });
    expect(answer.toolCalls).toEqual([
      expect.objectContaining({
        tool: 'get_credit_limit',
        outcome: 'succeeded',
        idempotencyKey: callKey('ask-000001', 'tu_1'),
      }),
    ]);
    expect(requests[0]).toMatchObject({ tool: 'get_credit_limit', input: { customer_id: 'C-1' } });
    expect([...requests[0]!.offered!]).toContain('get_credit_limit');
    // The second model call sees the result as a tool_result for its tool_use id.
    const fed = model.requests[1]!.messages.at(-1)!.content[0]!;
    expect(fed).toMatchObject({ type: 'tool_result', toolUseId: 'tu_1', isError: false });
    expect(JSON.parse((fed as { content: Array<{ text: string }> }).content[0]!.text)).toEqual({
      limit: 50000,
    });
    expect(progress.events.map((e) => e.stage)).toEqual([
      'planning',
      'model_call',
      'tool_call',
      'tool_result',
      'model_call',
      'answering',
    ]);
    expect(answer.budget).toEqual({ capTokens: 2000, usedTokens: 220, unusedTokens: 1780 });
  });

  it('runs several calls of one step in parallel', async () => {
    let inFlight = 0;
    let most = 0;
    const { tools } = fakeTools(async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 20));
      inFlight--;
      return { output: {} };
    });
    const model = scriptedModel([
      {
        calls: [
          { id: 'a', name: 'get_credit_limit' },
          { id: 'b', name: 'find_customer' },
          { id: 'c', name: 'get_invoice' },
        ],
      },
      { text: 'done' },
    ]);
    await loop({ model, tools }).run(run());
    expect(most).toBe(3);
  });

  it('stops at the step limit, the deadline and the token cap, saying which', async () => {
    const forever = () =>
      scriptedModel([{ calls: [{ id: 'x', name: 'get_invoice' }], tokens: 400 }]);
    const steps = await loop({ model: forever(), options: { maxSteps: 2 } }).run(run());
    expect(steps).toMatchObject({
      stopReason: 'max_steps',
      answer: expect.stringContaining('maximum number of steps'),
    });
    const budget = await loop({ model: forever() }).run(
      run({ tenantSettings: { askTokenCap: 900 } }),
    );
    // 410 tokens per step: the third step would pass the cap of 900.
    expect(budget).toMatchObject({
      stopReason: 'budget',
      budget: { capTokens: 900, usedTokens: 1230, unusedTokens: 0 },
    });
    expect(budget.answer).toContain('token budget (900 tokens)');
    const late = await loop({ model: forever() }).run(run({ deadline: Date.now() - 1 }));
    expect(late).toMatchObject({ stopReason: 'deadline', toolCalls: [] });
  });

  it('refuses before any model call when the tenant has spent its budget', async () => {
    const model = scriptedModel([{ text: 'never' }]);
    const spend: SpendPort = {
      refusal: async () => ({
        code: 'monthly_budget_exhausted',
        message: 'acme has used its 1,000,000 tokens for 2026-12',
      }),
      record: async () => ({ warnings: [] }),
      askTokens: async () => 0,
    };
    await expect(loop({ model, spend }).run(run())).rejects.toBeInstanceOf(AskRefused);
    expect(model.requests).toHaveLength(0);
  });

  it('reports a budget warning as progress', async () => {
    const progress = progressLog();
    const spend: SpendPort = {
      ...freeSpend(),
      record: async () => ({ warnings: ['acme has used 80% of its monthly tokens'] }),
    };
    await loop({ model: scriptedModel([{ text: 'hi' }]), spend, progress: progress.port }).run(
      run(),
    );
    expect(progress.events).toContainEqual(
      expect.objectContaining({
        stage: 'budget_warning',
        message: 'acme has used 80% of its monthly tokens',
      }),
    );
  });

  it('stops at the cap with the rest reported unused when the next step cannot fit in it', async () => {
    const script = scriptedModel([{ calls: [{ id: 'x', name: 'get_invoice' }], tokens: 500 }]);
    // The shim's answer once the next input alone would pass what is left of the cap.
    const model: ModelPort = {
      complete: async (request, deadline) =>
        script.requests.length === 0
          ? script.complete(request, deadline)
          : {
              ok: false,
              failure: {
                contextId: request.contextId,
                attempts: 1,
                error: {
                  class: 'budget_exceeded',
                  code: 'budget_exceeded',
                  message: `the input alone needs at least 600 tokens but only ${request.remainingBudgetTokens} remain in the budget`,
                  retryable: false,
                },
              },
            },
    };
    const stopped = await loop({ model }).run(run({ tenantSettings: { askTokenCap: 900 } }));
    expect(stopped).toMatchObject({
      stopReason: 'budget',
      budget: { capTokens: 900, usedTokens: 510, unusedTokens: 390 },
      toolCalls: [{ tool: 'get_invoice', outcome: 'succeeded' }],
    });
    expect(stopped.answer).toContain('token budget (900 tokens)');
  });

  it('records each model call once, named by its answer, against the tenant and the ask', async () => {
    const recorded: Parameters<SpendPort['record']>[0][] = [];
    const spend: SpendPort = {
      ...freeSpend(),
      record: async (s) => (recorded.push(s), { warnings: [] }),
    };
    const model = scriptedModel([
      { calls: [{ id: 'a', name: 'get_invoice' }], tokens: 100 },
      { text: 'done', tokens: 200 },
    ]);
    await loop({ model, spend }).run(run());
    expect(recorded).toEqual([
      expect.objectContaining({
        tenant: 'acme',
        askId: 'ask-000001',
        callId: 'call-1',
        inputTokens: 100,
        outputTokens: 10,
      }),
      expect.objectContaining({
        tenant: 'acme',
        askId: 'ask-000001',
        callId: 'call-2',
        inputTokens: 200,
        outputTokens: 10,
      }),
    ]);
  });

  it('stops when the month runs out during the ask, saying so', async () => {
    let checks = 0;
    const spend: SpendPort = {
      ...freeSpend(),
      refusal: async () =>
        ++checks > 1
          ? { code: 'budget_exceeded', message: 'Tenant acme has used its monthly token budget.' }
          : undefined,
    };
    const model = scriptedModel([{ calls: [{ id: 'x', name: 'get_invoice' }] }]);
    const stopped = await loop({ model, spend }).run(run());
    expect(stopped).toMatchObject({ stopReason: 'budget', budget: { usedTokens: 110 } });
    expect(stopped.answer).toContain(
      'I had to stop: Tenant acme has used its monthly token budget.',
    );
    expect(model.requests).toHaveLength(1);
  });

  it('counts what a resumed ask spent before its crash against its cap', async () => {
    const conversation = memoryConversation();
    await conversation.checkpoint('ask-000001', {
      messages: [{ role: 'user', content: [{ type: 'text', text: ask.question }] }],
      historyLength: 0,
    });
    const spend: SpendPort = { ...freeSpend(), askTokens: async () => 850 };
    const model = scriptedModel([{ calls: [{ id: 'x', name: 'get_invoice' }], tokens: 100 }]);
    const resumed = await loop({ model, spend, conversation }).run(
      run({ tenantSettings: { askTokenCap: 900 } }),
    );
    expect(resumed).toMatchObject({
      stopReason: 'budget',
      budget: { capTokens: 900, usedTokens: 960, unusedTokens: 0 },
    });
    // What was left of the cap after the crash is what the model was allowed.
    expect(model.requests[0]!.remainingBudgetTokens).toBe(50);
  });

  it('gives a refusal back to the model as an error it can explain', async () => {
    const { tools } = fakeTools(async () => ({
      outcome: 'refused',
      error: {
        class: 'rate_limited',
        code: 'quota_exceeded',
        message: 'get_credit_limit allows 500 calls a minute; the next slot opens in 1.2 s',
        retryable: true,
      },
    }));
    const model = scriptedModel([
      { calls: [{ id: 'q', name: 'get_credit_limit' }] },
      { text: 'The tool is busy; try again in a moment.' },
    ]);
    const answer = await loop({ model, tools }).run(run());
    expect(answer.toolCalls[0]).toMatchObject({
      outcome: 'refused',
      code: 'quota_exceeded',
      errorClass: 'rate_limited',
    });
    const fed = model.requests[1]!.messages.at(-1)!.content[0] as {
      isError: boolean;
      content: Array<{ text: string }>;
    };
    expect(fed.isError).toBe(true);
    expect(fed.content[0]!.text).toContain('next slot opens in 1.2 s');
  });

  it('offers at most the limit, the relevant one first, and find_tools finds more', async () => {
    const many = [
      ...Array.from({ length: 100 }, (_, i) =>
        tool(`account_report_${i}`, `Sales report number ${i}`),
      ),
      tool('get_credit_limit', 'The credit limit of a customer'),
      tool('get_exchange_rate', 'Currency exchange rates'),
    ];
    const model = scriptedModel([
      { calls: [{ id: 'f', name: 'find_tools', input: { query: 'currency exchange rate' } }] },
      { calls: [{ id: 'r', name: 'get_exchange_rate' }] },
      { text: 'ok' },
    ]);
    const { tools, requests } = fakeTools();
    await loop({ model, tools, catalog: many, options: { maxOfferedTools: 5 } }).run(run());
    const first = model.requests[0]!.tools.map((t) => t.name);
    expect(first).toHaveLength(6);
    expect(first[0]).toBe('get_credit_limit');
    expect(first.at(-1)).toBe('find_tools');
    expect(first).not.toContain('get_exchange_rate');
    expect(model.requests[1]!.tools.map((t) => t.name)).toContain('get_exchange_rate');
    expect(requests.map((r) => r.tool)).toEqual(['get_exchange_rate']);
    expect(requests[0]!.offered!.has('get_exchange_rate')).toBe(true);
  });

  it('resumes an interrupted ask from its checkpoint, with the same idempotency key', async () => {
    const conversation = memoryConversation();
    const model = scriptedModel([
      { calls: [{ id: 'tu_9', name: 'get_credit_limit' }] },
      { text: 'The limit is 50,000.' },
    ]);
    let crash = true;
    const { tools, requests } = fakeTools(async () => {
      if (crash) throw new Error('process killed mid-call');
      return { output: { limit: 50000 } };
    });
    await expect(loop({ model, tools, conversation }).run(run())).rejects.toThrow('killed');
    crash = false;
    // The redelivered ask: the model is not asked again for the step it already answered.
    const resumedModel = scriptedModel([{ text: 'The limit is 50,000.' }]);
    const answer = await loop({ model: resumedModel, tools, conversation }).run(run());
    expect(answer.answer).toBe('The limit is 50,000.');
    expect(requests.map((r) => r.idempotencyKey)).toEqual([
      callKey('ask-000001', 'tu_9'),
      callKey('ask-000001', 'tu_9'),
    ]);
    expect(resumedModel.requests).toHaveLength(1);
    expect(conversation.checkpoints.size).toBe(0);
  });
});
