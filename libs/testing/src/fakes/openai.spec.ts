import OpenAI, {
  APIConnectionError,
  APIConnectionTimeoutError,
  type APIError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  RateLimitError,
} from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOpenAI, waitFor, type FakeProvider } from '../index.js';

const MODEL = 'fake-model';

const creditLimitTool: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_credit_limit',
    description: "A customer's credit limit",
    parameters: {
      type: 'object',
      properties: { customerId: { type: 'string' } },
      required: ['customerId'],
    },
  },
};

const exchangeRateTool: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_exchange_rate',
    description: 'The exchange rate between two currencies',
    parameters: {
      type: 'object',
      properties: { from: { type: 'string' }, to: { type: 'string' } },
    },
  },
};

/** The rejection of a promise, failing the test when it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** Function tool calls of a completion message, narrowed from the SDK's union. */
function functionCalls(message: OpenAI.Chat.Completions.ChatCompletionMessage) {
  return (message.tool_calls ?? []).flatMap((call) => (call.type === 'function' ? [call] : []));
}

describe('fake OpenAI-compatible chat completions', () => {
  let fake: FakeProvider;
  let client: OpenAI;

  beforeAll(async () => {
    fake = await startFakeOpenAI({ servedModels: [MODEL, 'other-model'] });
    client = new OpenAI({ apiKey: 'test-key', baseURL: `${fake.url}/v1`, maxRetries: 0 });
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  it('answers a scripted text turn with a chat.completion body', async () => {
    fake.script([{ when: /hello/i, reply: { text: 'Hello from the fake.' } }]);
    const { data, response } = await client.chat.completions
      .create({ model: MODEL, messages: [{ role: 'user', content: 'Hello?' }] })
      .withResponse();
    expect(data).toMatchObject({
      object: 'chat.completion',
      model: MODEL,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hello from the fake.' },
          finish_reason: 'stop',
        },
      ],
    });
    expect(data.choices[0]?.message.tool_calls).toBeUndefined();
    expect(data.id).toMatch(/^chatcmpl-\w+$/);
    expect(Math.abs(data.created - Date.now() / 1000)).toBeLessThan(60);
    expect(response.headers.get('x-request-id')).toMatch(/^req_\w+$/);
  });

  it('says which user text no scripted turn matched', async () => {
    const completion = await client.chat.completions.create({
      model: MODEL,
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'user', content: 'anyone there?' },
      ],
    });
    expect(completion.choices[0]?.message.content).toBe(
      'fake provider: no scripted turn matches "anyone there?"',
    );
  });

  it('runs a tool-call round trip, matching the second turn on its tool result', async () => {
    fake.script([
      {
        when: /credit limit/,
        reply: { toolCalls: [{ name: 'get_credit_limit', input: { customerId: 'C-42' } }] },
      },
      {
        when: (req) => req.toolResults.some((result) => result.toolName === 'get_credit_limit'),
        reply: (req) => ({ text: `The credit limit is ${req.toolResults[0]?.content}.` }),
      },
    ]);
    const messages: ChatCompletionMessageParam[] = [
      { role: 'user', content: 'What is the credit limit of C-42?' },
    ];
    const first = await client.chat.completions.create({
      model: MODEL,
      tools: [creditLimitTool],
      messages,
    });
    const choice = first.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    const [call] = functionCalls(choice.message);
    expect(call?.id).toMatch(/^call_\w{24}$/);
    expect(call?.function.name).toBe('get_credit_limit');
    expect(JSON.parse(call!.function.arguments)).toEqual({ customerId: 'C-42' });

    messages.push(choice.message, { role: 'tool', tool_call_id: call!.id, content: '5000 EUR' });
    const second = await client.chat.completions.create({
      model: MODEL,
      tools: [creditLimitTool],
      messages,
    });
    expect(second.choices[0]?.finish_reason).toBe('stop');
    expect(second.choices[0]?.message.content).toBe('The credit limit is 5000 EUR.');
  });

  it('returns parallel tool calls and resolves both tool messages', async () => {
    let seen: unknown;
    fake.script([
      {
        when: /limit and rate/,
        reply: {
          toolCalls: [
            { name: 'get_credit_limit', input: { customerId: 'C-7' } },
            { name: 'get_exchange_rate', input: { from: 'EUR', to: 'USD' }, id: 'call_fixed' },
          ],
        },
      },
      {
        when: (req) => req.toolResults.length === 2,
        reply: (req) => {
          seen = req.toolResults;
          return { text: 'done' };
        },
      },
    ]);
    const messages: ChatCompletionMessageParam[] = [
      { role: 'user', content: 'credit limit and rate please' },
    ];
    const first = await client.chat.completions.create({
      model: MODEL,
      tools: [creditLimitTool, exchangeRateTool],
      messages,
    });
    const calls = functionCalls(first.choices[0]!.message);
    expect(calls.map((c) => [c.function.name, JSON.parse(c.function.arguments)])).toEqual([
      ['get_credit_limit', { customerId: 'C-7' }],
      ['get_exchange_rate', { from: 'EUR', to: 'USD' }],
    ]);
    expect(calls[1]?.id).toBe('call_fixed');
    expect(new Set(calls.map((c) => c.id)).size).toBe(2);

    messages.push(
      first.choices[0]!.message,
      { role: 'tool', tool_call_id: calls[0]!.id, content: '5000' },
      { role: 'tool', tool_call_id: 'call_fixed', content: [{ type: 'text', text: '1.08' }] },
    );
    const second = await client.chat.completions.create({
      model: MODEL,
      tools: [creditLimitTool, exchangeRateTool],
      messages,
    });
    expect(second.choices[0]?.message.content).toBe('done');
    expect(seen).toEqual([
      { toolUseId: calls[0]!.id, toolName: 'get_credit_limit', content: '5000', isError: false },
      { toolUseId: 'call_fixed', toolName: 'get_exchange_rate', content: '1.08', isError: false },
    ]);
  });

  it('shows a turn the request: system, tools, model and max_completion_tokens', async () => {
    let view: unknown;
    fake.script([
      {
        reply: (req) => {
          view = { ...req, body: undefined };
          return { text: 'ok' };
        },
      },
    ]);
    await client.chat.completions.create({
      model: 'other-model',
      max_completion_tokens: 77,
      tools: [creditLimitTool],
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: [{ type: 'text', text: 'limit?' }] },
      ],
    });
    expect(view).toEqual({
      lastUserText: 'limit?',
      toolResults: [],
      toolNames: ['get_credit_limit'],
      system: 'You are terse.',
      model: 'other-model',
      maxTokens: 77,
      body: undefined,
    });
  });

  it('maps scripted usage: cached tokens count inside prompt_tokens', async () => {
    fake.script([
      {
        reply: { text: 'cached', usage: { input: 12, output: 3, cacheRead: 900, cacheWrite: 40 } },
      },
    ]);
    const completion = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(completion.usage).toEqual({
      prompt_tokens: 952,
      completion_tokens: 3,
      total_tokens: 955,
      prompt_tokens_details: { cached_tokens: 900 },
    });
  });

  it('maps stop reasons to finish_reason', async () => {
    fake.script([
      { when: /long/, reply: { text: 'cut', stopReason: 'max_tokens' } },
      { when: /seq/, reply: { text: 'until', stopReason: 'stop_sequence' } },
    ]);
    const finish = async (content: string) =>
      (
        await client.chat.completions.create({
          model: MODEL,
          max_tokens: 5,
          messages: [{ role: 'user', content }],
        })
      ).choices[0]?.finish_reason;
    expect([await finish('long'), await finish('seq')]).toEqual(['length', 'stop']);
  });

  it('streams content and tool-call fragments, then a usage chunk and [DONE]', async () => {
    const text = 'Let me look that up for you right away, it takes a moment.';
    const input = { customerId: 'C-42', includeHistory: true, currencies: ['EUR', 'USD'] };
    fake.script([
      {
        reply: {
          text,
          toolCalls: [
            { name: 'get_credit_limit', input },
            { name: 'get_exchange_rate', input: { from: 'EUR', to: 'USD' } },
          ],
          usage: { input: 50, output: 21, cacheRead: 8 },
        },
      },
    ]);
    const stream = await client.chat.completions.create({
      model: MODEL,
      stream: true,
      stream_options: { include_usage: true },
      tools: [creditLimitTool, exchangeRateTool],
      messages: [{ role: 'user', content: 'limit?' }],
    });
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);

    let content = '';
    const calls: Array<{ id?: string; name?: string; arguments: string }> = [];
    for (const chunk of chunks) {
      const delta = chunk.choices[0]?.delta;
      content += delta?.content ?? '';
      for (const part of delta?.tool_calls ?? []) {
        const call = (calls[part.index] ??= { arguments: '' });
        if (part.id) call.id = part.id;
        if (part.function?.name) call.name = part.function.name;
        call.arguments += part.function?.arguments ?? '';
      }
    }
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(content).toBe(text);
    expect(chunks.filter((c) => c.choices[0]?.delta.content).length).toBeGreaterThan(2);
    expect(calls.map((c) => [c.name, JSON.parse(c.arguments)])).toEqual([
      ['get_credit_limit', input],
      ['get_exchange_rate', { from: 'EUR', to: 'USD' }],
    ]);
    expect(calls.every((c) => c.id?.startsWith('call_'))).toBe(true);
    const finishes = chunks.flatMap((c) => c.choices.map((choice) => choice.finish_reason));
    expect(finishes.filter((f) => f !== null)).toEqual(['tool_calls']);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual({
      prompt_tokens: 58,
      completion_tokens: 21,
      total_tokens: 79,
      prompt_tokens_details: { cached_tokens: 8 },
    });
  });

  it('streams without a usage chunk unless include_usage is set', async () => {
    fake.script([{ reply: { text: 'short answer' } }]);
    const response = await fetch(`${fake.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
      body: JSON.stringify({
        model: MODEL,
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const lines = (await response.text()).split('\n\n').filter((line) => line !== '');
    expect(lines.every((line) => line.startsWith('data: '))).toBe(true);
    expect(lines.at(-1)).toBe('data: [DONE]');
    const chunks = lines
      .slice(0, -1)
      .map((line) => JSON.parse(line.slice(6)) as ChatCompletionChunk);
    expect(chunks.some((chunk) => 'usage' in chunk)).toBe(false);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
  });

  it('answers a 429 fault with an OpenAI error body and a retry-after header', async () => {
    fake.fail({ kind: 'status', status: 429, retryAfterSeconds: 3, message: 'slow down' });
    const error = await rejectionOf(
      client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }),
    );
    expect(error).toBeInstanceOf(RateLimitError);
    const apiError = error as RateLimitError;
    expect(apiError.status).toBe(429);
    expect(apiError.headers.get('retry-after')).toBe('3');
    expect(apiError.code).toBe('rate_limit_exceeded');
    expect(apiError.error).toMatchObject({ message: 'slow down', param: null });
  });

  it('answers a 503 fault with server_error, and an SDK retry gets the answer', async () => {
    fake.script([{ reply: { text: 'back again' } }]);
    fake.fail({ kind: 'status', status: 503 });
    const error = await rejectionOf(
      client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }),
    );
    expect(error).toBeInstanceOf(InternalServerError);
    expect((error as APIError).status).toBe(503);
    expect((error as APIError).type).toBe('server_error');

    fake.fail({ kind: 'status', status: 500, retryAfterSeconds: 0.01 });
    const retrying = new OpenAI({ apiKey: 'k', baseURL: `${fake.url}/v1`, maxRetries: 1 });
    const completion = await retrying.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(completion.choices[0]?.message.content).toBe('back again');
    expect(fake.requests).toHaveLength(3);
  });

  it('makes the SDK throw on a malformed JSON body', async () => {
    fake.fail({ kind: 'malformed' });
    const error = await rejectionOf(
      client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }),
    );
    expect(error).toBeInstanceOf(SyntaxError);
  });

  it('makes the stream throw on a broken SSE data line', async () => {
    fake.fail({ kind: 'malformed' });
    const quiet = new OpenAI({
      apiKey: 'k',
      baseURL: `${fake.url}/v1`,
      maxRetries: 0,
      logLevel: 'off',
    });
    const stream = await quiet.chat.completions.create({
      model: MODEL,
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const received: ChatCompletionChunk[] = [];
    const error = await rejectionOf(
      (async () => {
        for await (const chunk of stream) received.push(chunk);
      })(),
    );
    expect(error).toBeInstanceOf(SyntaxError);
    expect(received).toHaveLength(1);
  });

  it('hangs until the SDK times out', async () => {
    fake.fail({ kind: 'hang' });
    const error = await rejectionOf(
      client.chat.completions.create(
        { model: MODEL, messages: [{ role: 'user', content: 'hi' }] },
        { timeout: 200 },
      ),
    );
    expect(error).toBeInstanceOf(APIConnectionTimeoutError);
  });

  it('delays the first streamed byte on a slow fault', async () => {
    fake.script([{ reply: { text: 'eventually' } }]);
    fake.fail({ kind: 'slow', delayMs: 150 });
    const started = performance.now();
    const stream = await client.chat.completions.create({
      model: MODEL,
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    // The SDK returns once headers arrive, which the fault holds back.
    expect(performance.now() - started).toBeGreaterThanOrEqual(145);
    let content = '';
    for await (const chunk of stream) content += chunk.choices[0]?.delta.content ?? '';
    expect(content).toBe('eventually');
  });

  it('resets the connection on a reset fault', async () => {
    fake.fail({ kind: 'reset' });
    const error = await rejectionOf(
      client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }),
    );
    expect(error).toBeInstanceOf(APIConnectionError);
  });

  it('records every request in order, faulted ones included', async () => {
    fake.fail({ kind: 'status', status: 500 });
    const body = { model: MODEL, messages: [{ role: 'user' as const, content: 'a' }] };
    await rejectionOf(client.chat.completions.create(body));
    await client.models.list();
    expect(fake.requests.map((r) => [r.method, r.path, r.body])).toEqual([
      ['POST', '/v1/chat/completions', body],
      ['GET', '/v1/models', undefined],
    ]);
    expect(fake.requests[0]?.headers['authorization']).toBe('Bearer test-key');
  });

  it('lists the served models and answers 404 for any other, as vLLM does', async () => {
    const models = [];
    for await (const model of client.models.list()) models.push(model.id);
    expect(models).toEqual([MODEL, 'other-model']);

    const error = await rejectionOf(
      client.chat.completions.create({
        model: 'gpt-unknown',
        messages: [{ role: 'user', content: 'hi' }],
      }),
    );
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as APIError).error).toEqual({
      message: 'The model `gpt-unknown` does not exist.',
      type: 'NotFoundError',
      param: null,
      code: 404,
    });
  });

  it('counts tokens at /tokenize, where faults do not apply', async () => {
    fake.fail({ kind: 'status', status: 500 });
    const messages = [{ role: 'user', content: 'What is the credit limit of C-42?' }];
    const tokenize = (body: unknown) =>
      fetch(`${fake.url}/tokenize`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const byMessages = await tokenize({ model: MODEL, messages });
    expect(byMessages.status).toBe(200);
    expect(await byMessages.json()).toMatchObject({
      count: Math.ceil(JSON.stringify({ messages }).length / 4),
      max_model_len: 32768,
      tokens: [],
    });
    const byPrompt = await tokenize({ model: MODEL, prompt: 'twelve chars' });
    expect(await byPrompt.json()).toMatchObject({ count: 3 });
    expect((await tokenize({ model: 'nope', prompt: 'x' })).status).toBe(404);
    // The fault still waits for a completion.
    await expect(
      client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'a' }] }),
    ).rejects.toBeInstanceOf(InternalServerError);
  });

  it.each([
    [{ messages: [] }, 'messages'],
    [{ model: undefined }, 'model'],
    [{ max_tokens: 0 }, 'max_tokens'],
    [{ messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role'],
    [{ messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].tool_call_id'],
    [{ stream_options: { include_usage: true } }, 'stream_options'],
  ])('rejects an invalid body %j with a 400 naming the param', async (override, param) => {
    const error = await rejectionOf(
      client.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'hi' }],
        ...override,
      } as unknown as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming),
    );
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as APIError).param).toBe(param);
    expect((error as APIError).type).toBe('invalid_request_error');
    expect((error as APIError).code).toBeNull();
  });

  it('refuses tool_calls that no tool message answers, as OpenAI does', async () => {
    const error = await rejectionOf(
      client.chat.completions.create({
        model: MODEL,
        messages: [
          { role: 'user', content: 'limit?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'call_a',
                type: 'function',
                function: { name: 'get_credit_limit', arguments: '{}' },
              },
            ],
          },
          { role: 'user', content: 'never mind' },
        ],
      }),
    );
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as APIError).param).toBe('messages[2].role');
    expect((error as APIError).message).toMatch(/did not have response messages: call_a/);
  });

  it('answers 401 without an Authorization header', async () => {
    const keyless = new OpenAI({
      apiKey: 'unused',
      baseURL: `${fake.url}/v1`,
      maxRetries: 0,
      defaultHeaders: { Authorization: null },
    });
    const error = await rejectionOf(
      keyless.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    );
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as APIError).type).toBe('invalid_request_error');
    expect(fake.requests[0]?.headers['authorization']).toBeUndefined();
  });
});

describe('fake OpenAI lifecycle', () => {
  it('serves fake-model by default and takes its first script from the options', async () => {
    const fake = await startFakeOpenAI({ turns: [{ reply: { text: 'from options' } }] });
    try {
      const client = new OpenAI({ apiKey: 'k', baseURL: `${fake.url}/v1`, maxRetries: 0 });
      const page = await client.models.list();
      expect(page.data.map((model) => model.id)).toEqual(['fake-model']);
      // Without servedModels any model name is answered.
      const completion = await client.chat.completions.create({
        model: 'whatever',
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(completion.choices[0]?.message.content).toBe('from options');
    } finally {
      await fake.close();
    }
  });

  it('releases a hung request on close', async () => {
    const fake = await startFakeOpenAI();
    const client = new OpenAI({ apiKey: 'k', baseURL: `${fake.url}/v1`, maxRetries: 0 });
    fake.fail({ kind: 'hang' });
    const pending = rejectionOf(
      client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
    );
    await waitFor(() => fake.requests.length === 1, { what: 'the hung request to arrive' });
    await fake.close();
    expect(await pending).toBeInstanceOf(APIConnectionError);
  });
});
