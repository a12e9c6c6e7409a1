import type { ModelRequest } from '@toolbus/contracts';
import { startFakeAnthropic, startFakeOpenAI, type FakeProvider } from '@toolbus/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AnthropicProvider } from './anthropic.provider.js';
import { ProviderError, type ModelProvider, type ProviderCall } from './model-provider.js';
import { OpenAiProvider } from './openai.provider.js';

const tools: ModelRequest['tools'] = [
  {
    name: 'find_customer',
    description: 'Find customers by name',
    inputSchema: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
  },
  {
    name: 'get_credit_limit',
    description: 'Credit limit of a customer',
    inputSchema: {
      type: 'object',
      properties: { customer_id: { type: 'string' } },
      required: ['customer_id'],
    },
  },
];

const question: ModelRequest = {
  contextId: 'ctx-12345678',
  tenant: 'acme',
  model: 'default',
  maxTokens: 512,
  system: 'You are a careful assistant.',
  tools,
  messages: [
    {
      role: 'user',
      content: [{ type: 'text', text: 'What are the credit limits of cus_001 and cus_002?' }],
    },
  ],
};

const call = (request: ModelRequest, maxTokens = 512, timeoutMs = 5_000): ProviderCall => ({
  request,
  model: 'test-model',
  maxTokens,
  timeoutMs,
  signal: AbortSignal.timeout(timeoutMs),
});

async function expectProviderError(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

/** The same behaviours for both adapters, each against a fake speaking its provider's wire format. */
const adapters: Array<[string, () => Promise<{ fake: FakeProvider; provider: ModelProvider }>]> = [
  [
    'anthropic',
    async () => {
      const fake = await startFakeAnthropic();
      return {
        fake,
        provider: new AnthropicProvider({
          apiKey: 'sk-test',
          baseURL: fake.url,
          streamAboveTokens: 1000,
        }),
      };
    },
  ],
  [
    'openai-compatible (vLLM)',
    async () => {
      const fake = await startFakeOpenAI({ servedModels: ['test-model'] });
      return {
        fake,
        provider: new OpenAiProvider({
          name: 'vllm',
          baseURL: `${fake.url}/v1`,
          tokenize: true,
          streamAboveTokens: 1000,
        }),
      };
    },
  ],
];

describe.each(adapters)('%s adapter', (_name, make) => {
  let fake: FakeProvider;
  let provider: ModelProvider;
  beforeAll(async () => ({ fake, provider } = await make()));
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  it('round-trips a tool call: the call, then the result back, then the answer', async () => {
    fake.script([
      {
        when: (r) => r.toolResults.length === 0,
        reply: { toolCalls: [{ name: 'get_credit_limit', input: { customer_id: 'cus_001' } }] },
      },
      {
        when: (r) => r.toolResults.some((t) => t.toolName === 'get_credit_limit'),
        reply: { text: 'The limit is 50,000 USD.' },
      },
    ]);
    const first = await provider.complete(call(question));
    expect(first.stopReason).toBe('tool_use');
    expect(first.toolCalls).toEqual([
      { id: expect.any(String), name: 'get_credit_limit', input: { customer_id: 'cus_001' } },
    ]);
    const followUp: ModelRequest = {
      ...question,
      messages: [
        ...question.messages,
        { role: 'assistant', content: first.content },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              toolUseId: first.toolCalls[0]!.id,
              isError: false,
              content: [{ type: 'text', text: '{"credit_limit":50000}' }],
            },
          ],
        },
      ],
    };
    const second = await provider.complete(call(followUp));
    expect(second).toMatchObject({
      stopReason: 'end_turn',
      toolCalls: [],
      content: [{ type: 'text', text: 'The limit is 50,000 USD.' }],
    });
  });

  it('returns parallel tool calls in order', async () => {
    fake.script([
      {
        reply: {
          toolCalls: [
            { name: 'get_credit_limit', input: { customer_id: 'cus_001' } },
            { name: 'get_credit_limit', input: { customer_id: 'cus_002' } },
          ],
        },
      },
    ]);
    const result = await provider.complete(call(question));
    expect(result.toolCalls.map((t) => t.input)).toEqual([
      { customer_id: 'cus_001' },
      { customer_id: 'cus_002' },
    ]);
    expect(new Set(result.toolCalls.map((t) => t.id)).size).toBe(2);
  });

  it('maps usage, including cache tokens', async () => {
    fake.script([{ reply: { text: 'ok', usage: { input: 321, output: 12, cacheRead: 100 } } }]);
    const result = await provider.complete(call(question));
    expect(result.usage).toMatchObject({
      inputTokens: 321,
      outputTokens: 12,
      cacheReadTokens: 100,
    });
  });

  it('streams long generations and reassembles text and tool calls', async () => {
    fake.script([
      {
        reply: {
          text: 'Let me look that up for you right away.',
          toolCalls: [{ name: 'find_customer', input: { query: 'Acme Corp', limit: 5 } }],
        },
      },
    ]);
    const result = await provider.complete(call(question, 8_000));
    const sent = fake.requests.at(-1)!.body as { stream?: boolean };
    expect(sent.stream).toBe(true);
    expect(result.content[0]).toEqual({
      type: 'text',
      text: 'Let me look that up for you right away.',
    });
    expect(result.toolCalls[0]).toMatchObject({
      name: 'find_customer',
      input: { query: 'Acme Corp', limit: 5 },
    });
    expect(result.usage.outputTokens).toBeGreaterThan(0);
  });

  it('translates tool schemas and the system prompt into the provider format', async () => {
    fake.script([{ reply: { text: 'ok' } }]);
    await provider.complete(call(question));
    const body = JSON.stringify(fake.requests.at(-1)!.body);
    expect(body).toContain('"find_customer"');
    expect(body).toContain('"customer_id"');
    expect(body).toContain('You are a careful assistant.');
  });

  it('classifies 429 as rate limited with the advised delay', async () => {
    fake.fail({ kind: 'status', status: 429, retryAfterSeconds: 7 });
    const error = await expectProviderError(provider.complete(call(question)));
    expect(error).toMatchObject({
      kind: 'rate_limited',
      status: 429,
      retryAfterMs: 7000,
      retryable: true,
    });
  });

  it('classifies 529 and 500 as retryable server trouble', async () => {
    fake.fail({ kind: 'status', status: 529 }, { kind: 'status', status: 500 });
    expect(await expectProviderError(provider.complete(call(question)))).toMatchObject({
      kind: 'overloaded',
      retryable: true,
    });
    expect(await expectProviderError(provider.complete(call(question)))).toMatchObject({
      kind: 'server',
      retryable: true,
    });
  });

  it('classifies malformed JSON as malformed (fail over, do not retry)', async () => {
    fake.fail({ kind: 'malformed' });
    expect(await expectProviderError(provider.complete(call(question)))).toMatchObject({
      kind: 'malformed',
      retryable: false,
    });
  });

  it('gives up at the attempt deadline with a timeout', async () => {
    fake.fail({ kind: 'hang' });
    const started = Date.now();
    expect(await expectProviderError(provider.complete(call(question, 512, 300)))).toMatchObject({
      kind: 'timeout',
      retryable: true,
    });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('counts input tokens through the provider endpoint', async () => {
    const n = await provider.countTokens!(question, 'test-model', AbortSignal.timeout(5_000));
    expect(n).toBeGreaterThan(10);
  });
});
