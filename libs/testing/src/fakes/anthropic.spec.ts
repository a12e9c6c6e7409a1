import Anthropic, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  OverloadedError,
  RateLimitError,
} from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeAnthropic, waitFor, type FakeProvider } from '../index.js';

const MODEL = 'claude-fake-1';

const creditLimitTool = {
  name: 'get_credit_limit',
  description: "A customer's credit limit",
  input_schema: {
    type: 'object' as const,
    properties: { customerId: { type: 'string' } },
    required: ['customerId'],
  },
};

const exchangeRateTool = {
  name: 'get_exchange_rate',
  description: 'The exchange rate between two currencies',
  input_schema: {
    type: 'object' as const,
    properties: { from: { type: 'string' }, to: { type: 'string' } },
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

describe('fake Anthropic Messages API', () => {
  let fake: FakeProvider;
  let client: Anthropic;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    client = new Anthropic({ apiKey: 'test-key', baseURL: fake.url, maxRetries: 0 });
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  it('listens on 127.0.0.1 with a random port', () => {
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(fake.url).not.toMatch(/:0$/);
  });

  it('answers a scripted text turn with a Messages API body and a request-id header', async () => {
    fake.script([{ when: /hello/i, reply: { text: 'Hello from the fake.' } }]);
    const { data, response } = await client.messages
      .create({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'Hello?' }] })
      .withResponse();
    expect(data).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: MODEL,
      content: [{ type: 'text', text: 'Hello from the fake.' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
    });
    expect(data.id).toMatch(/^msg_01\w{22}$/);
    expect(response.headers.get('request-id')).toMatch(/^req_01\w{22}$/);
  });

  it('says which user text no scripted turn matched', async () => {
    fake.script([{ when: /weather/, reply: { text: 'Sunny.' } }]);
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 64,
      messages: [{ role: 'user', content: 'What is my credit limit?' }],
    });
    expect(message.content).toEqual([
      {
        type: 'text',
        text: 'fake provider: no scripted turn matches "What is my credit limit?"',
      },
    ]);
    expect(message.stop_reason).toBe('end_turn');
  });

  it('drops a once turn after it answers and keeps reusable turns', async () => {
    fake.script([{ once: true, reply: { text: 'first' } }, { reply: { text: 'again' } }]);
    const ask = async () => {
      const message = await client.messages.create({
        model: MODEL,
        max_tokens: 16,
        messages: [{ role: 'user', content: 'hi' }],
      });
      return message.content[0]?.type === 'text' ? message.content[0].text : undefined;
    };
    expect([await ask(), await ask(), await ask()]).toEqual(['first', 'again', 'again']);
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
    const question = { role: 'user' as const, content: 'What is the credit limit of C-42?' };
    const first = await client.messages.create({
      model: MODEL,
      max_tokens: 256,
      tools: [creditLimitTool],
      messages: [question],
    });
    expect(first.stop_reason).toBe('tool_use');
    const toolUse = first.content.find((block) => block.type === 'tool_use');
    expect(toolUse).toMatchObject({
      type: 'tool_use',
      name: 'get_credit_limit',
      input: { customerId: 'C-42' },
    });
    if (toolUse?.type !== 'tool_use') throw new Error('no tool_use block');
    expect(toolUse.id).toMatch(/^toolu_01\w{22}$/);

    const second = await client.messages.create({
      model: MODEL,
      max_tokens: 256,
      tools: [creditLimitTool],
      messages: [
        question,
        { role: 'assistant', content: first.content },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: toolUse.id, content: '5000 EUR' }],
        },
      ],
    });
    expect(second.stop_reason).toBe('end_turn');
    expect(second.content).toEqual([{ type: 'text', text: 'The credit limit is 5000 EUR.' }]);
  });

  it('returns parallel tool calls as separate tool_use blocks and resolves both results', async () => {
    let seen: unknown;
    fake.script([
      {
        when: /limit and rate/,
        reply: {
          text: 'Looking both up.',
          toolCalls: [
            { name: 'get_credit_limit', input: { customerId: 'C-7' } },
            { name: 'get_exchange_rate', input: { from: 'EUR', to: 'USD' }, id: 'toolu_fixed' },
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
    const question = { role: 'user' as const, content: 'credit limit and rate please' };
    const tools = [creditLimitTool, exchangeRateTool];
    const first = await client.messages.create({
      model: MODEL,
      max_tokens: 256,
      tools,
      messages: [question],
    });
    const uses = first.content.filter((block) => block.type === 'tool_use');
    expect(first.content[0]).toEqual({ type: 'text', text: 'Looking both up.' });
    expect(uses.map((use) => [use.name, use.input])).toEqual([
      ['get_credit_limit', { customerId: 'C-7' }],
      ['get_exchange_rate', { from: 'EUR', to: 'USD' }],
    ]);
    expect(uses[1]?.id).toBe('toolu_fixed');
    expect(new Set(uses.map((use) => use.id)).size).toBe(2);

    await client.messages.create({
      model: MODEL,
      max_tokens: 256,
      tools,
      messages: [
        question,
        { role: 'assistant', content: first.content },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: uses[0]!.id, content: '5000' },
            {
              type: 'tool_result',
              tool_use_id: 'toolu_fixed',
              content: [{ type: 'text', text: 'rate service down' }],
              is_error: true,
            },
          ],
        },
      ],
    });
    expect(seen).toEqual([
      { toolUseId: uses[0]!.id, toolName: 'get_credit_limit', content: '5000', isError: false },
      {
        toolUseId: 'toolu_fixed',
        toolName: 'get_exchange_rate',
        content: 'rate service down',
        isError: true,
      },
    ]);
  });

  it('shows a turn the request: system, tools, model and max_tokens', async () => {
    let view: unknown;
    fake.script([
      {
        reply: (req) => {
          view = { ...req, body: undefined };
          return { text: 'ok' };
        },
      },
    ]);
    await client.messages.create({
      model: MODEL,
      max_tokens: 99,
      system: [
        { type: 'text', text: 'You are terse.' },
        { type: 'text', text: 'Use tools.' },
      ],
      tools: [creditLimitTool],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'limit?' }] }],
    });
    expect(view).toEqual({
      lastUserText: 'limit?',
      toolResults: [],
      toolNames: ['get_credit_limit'],
      system: 'You are terse.\nUse tools.',
      model: MODEL,
      maxTokens: 99,
      body: undefined,
    });
  });

  it('refuses a tool_use that the next message does not answer, as the API does', async () => {
    const error = await rejectionOf(
      client.messages.create({
        model: MODEL,
        max_tokens: 64,
        messages: [
          { role: 'user', content: 'limit?' },
          {
            role: 'assistant',
            content: [{ type: 'tool_use', id: 'toolu_a', name: 'get_credit_limit', input: {} }],
          },
          { role: 'user', content: 'never mind' },
        ],
      }),
    );
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as APIError).message).toMatch(
      /messages\.2: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_a/,
    );
  });

  it('maps scripted usage, cache tokens included', async () => {
    fake.script([
      {
        reply: { text: 'cached', usage: { input: 12, output: 3, cacheRead: 900, cacheWrite: 40 } },
      },
    ]);
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 64,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(message.usage).toEqual({
      input_tokens: 12,
      output_tokens: 3,
      cache_creation_input_tokens: 40,
      cache_read_input_tokens: 900,
    });
  });

  it('estimates usage from the prompt and reply length when the script gives none', async () => {
    fake.script([{ reply: { text: 'twelve chars', toolCalls: [{ name: 't', input: { a: 1 } }] } }]);
    const system = 'Be brief.';
    const messages = [{ role: 'user' as const, content: 'How many tokens is this?' }];
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 64,
      system,
      messages,
    });
    const promptChars = JSON.stringify({ messages, system }).length;
    expect(message.usage.input_tokens).toBe(Math.ceil(promptChars / 4));
    // 'twelve chars' (12) + '{"a":1}' (7) = 19 characters.
    expect(message.usage.output_tokens).toBe(5);
    expect(message.usage.cache_read_input_tokens).toBe(0);
    expect(message.usage.cache_creation_input_tokens).toBe(0);
  });

  it('streams text and tool input that MessageStream reassembles', async () => {
    const text = 'Let me look that up for you right away, it takes a moment.';
    const input = { customerId: 'C-42', includeHistory: true, currencies: ['EUR', 'USD'] };
    fake.script([
      {
        reply: {
          text,
          toolCalls: [{ name: 'get_credit_limit', input }],
          usage: { input: 50, output: 21, cacheRead: 7 },
        },
      },
    ]);
    const stream = client.messages.stream({
      model: MODEL,
      max_tokens: 256,
      tools: [creditLimitTool],
      messages: [{ role: 'user', content: 'limit?' }],
    });
    const textDeltas: string[] = [];
    const jsonDeltas: string[] = [];
    const eventTypes: string[] = [];
    stream.on('text', (delta) => textDeltas.push(delta));
    stream.on('inputJson', (partial) => jsonDeltas.push(partial));
    stream.on('streamEvent', (event) => eventTypes.push(event.type));
    const message = await stream.finalMessage();

    expect(message.content).toHaveLength(2);
    expect(message.content[0]).toMatchObject({ type: 'text', text });
    expect(message.content[1]).toMatchObject({ type: 'tool_use', name: 'get_credit_limit', input });
    expect(message.stop_reason).toBe('tool_use');
    expect(message.usage).toMatchObject({
      input_tokens: 50,
      output_tokens: 21,
      cache_read_input_tokens: 7,
    });
    expect(textDeltas.length).toBeGreaterThan(2);
    expect(textDeltas.join('')).toBe(text);
    expect(jsonDeltas.length).toBeGreaterThan(2);
    expect(eventTypes[0]).toBe('message_start');
    expect(eventTypes.at(-2)).toBe('message_delta');
    expect(eventTypes.at(-1)).toBe('message_stop');

    const recorded = fake.requests[0]!;
    expect(recorded.body).toMatchObject({ stream: true });
  });

  it('sends the documented SSE event sequence, ping included', async () => {
    fake.script([{ reply: { text: 'one two three four' } }]);
    const response = await fetch(`${fake.url}/v1/messages`, {
      method: 'POST',
      headers: {
        'x-api-key': 'test-key',
        'anthropic-version': '2023-06-01',
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        model: MODEL,
        max_tokens: 64,
        stream: true,
        messages: [{ role: 'user', content: 'count' }],
      }),
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = [...(await response.text()).matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    expect(events).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
  });

  it('answers a 429 fault with rate_limit_error and a retry-after header', async () => {
    fake.fail({ kind: 'status', status: 429, retryAfterSeconds: 7 });
    const error = await rejectionOf(
      client.messages.create({
        model: MODEL,
        max_tokens: 16,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    );
    expect(error).toBeInstanceOf(RateLimitError);
    const apiError = error as RateLimitError;
    expect(apiError.status).toBe(429);
    expect(apiError.headers.get('retry-after')).toBe('7');
    expect(apiError.type).toBe('rate_limit_error');
    expect(apiError.requestID).toMatch(/^req_/);
  });

  it('answers a 529 fault with overloaded_error', async () => {
    fake.fail({ kind: 'status', status: 529, message: 'Overloaded right now' });
    const error = await rejectionOf(
      client.messages.create({
        model: MODEL,
        max_tokens: 16,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    );
    expect(error).toBeInstanceOf(APIError);
    expect(error).toBeInstanceOf(OverloadedError);
    expect((error as APIError).status).toBe(529);
    expect((error as APIError).type).toBe('overloaded_error');
    expect((error as APIError).apiMessage).toBe('Overloaded right now');
  });

  it('applies each fault to one request, so an SDK retry gets the scripted answer', async () => {
    fake.script([{ reply: { text: 'after the storm' } }]);
    // A short retry-after keeps the SDK's backoff out of the test's run time.
    fake.fail({ kind: 'status', status: 503, retryAfterSeconds: 0.01 });
    const retrying = new Anthropic({ apiKey: 'test-key', baseURL: fake.url, maxRetries: 1 });
    const message = await retrying.messages.create({
      model: MODEL,
      max_tokens: 16,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(message.content).toEqual([{ type: 'text', text: 'after the storm' }]);
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[1]?.headers['x-stainless-retry-count']).toBe('1');
  });

  it('answers a 500 fault with api_error', async () => {
    fake.fail({ kind: 'status', status: 500 });
    const error = await rejectionOf(
      client.messages.create({
        model: MODEL,
        max_tokens: 16,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    );
    expect(error).toBeInstanceOf(InternalServerError);
    expect((error as APIError).type).toBe('api_error');
  });

  it('makes the SDK throw on a malformed JSON body', async () => {
    fake.fail({ kind: 'malformed' });
    const error = await rejectionOf(
      client.messages.create({
        model: MODEL,
        max_tokens: 16,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    );
    expect(error).toBeInstanceOf(SyntaxError);
  });

  it('makes the stream fail on a broken SSE data line', async () => {
    fake.script([{ reply: { text: 'never arrives' } }]);
    fake.fail({ kind: 'malformed' });
    // The SDK logs the unparsable line before it throws; the test output stays quiet.
    const quiet = new Anthropic({ apiKey: 'k', baseURL: fake.url, maxRetries: 0, logLevel: 'off' });
    const stream = quiet.messages.stream({
      model: MODEL,
      max_tokens: 16,
      messages: [{ role: 'user', content: 'hi' }],
    });
    stream.on('error', () => undefined);
    const error = await rejectionOf(stream.finalMessage());
    expect(error).toBeInstanceOf(Error);
    expect(String(error)).toMatch(/JSON/);
  });

  it('hangs until the SDK times out', async () => {
    fake.fail({ kind: 'hang' });
    const error = await rejectionOf(
      client.messages.create(
        { model: MODEL, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] },
        { timeout: 200 },
      ),
    );
    expect(error).toBeInstanceOf(APIConnectionTimeoutError);
    expect(fake.requests).toHaveLength(1);
  });

  it('answers a slow fault after its delay', async () => {
    fake.script([{ reply: { text: 'eventually' } }]);
    fake.fail({ kind: 'slow', delayMs: 150 });
    const started = performance.now();
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 16,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(performance.now() - started).toBeGreaterThanOrEqual(145);
    expect(message.content).toEqual([{ type: 'text', text: 'eventually' }]);
  });

  it('resets the connection on a reset fault', async () => {
    fake.fail({ kind: 'reset' });
    const error = await rejectionOf(
      client.messages.create({
        model: MODEL,
        max_tokens: 16,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    );
    expect(error).toBeInstanceOf(APIConnectionError);
  });

  it('records every request in order, faulted ones included', async () => {
    fake.script([{ reply: { text: 'ok' } }]);
    fake.fail({ kind: 'status', status: 429 });
    const body = {
      model: MODEL,
      max_tokens: 16,
      messages: [{ role: 'user' as const, content: 'a' }],
    };
    await rejectionOf(client.messages.create(body));
    await client.messages.create({ ...body, messages: [{ role: 'user', content: 'b' }] });
    expect(fake.requests.map((r) => [r.method, r.path])).toEqual([
      ['POST', '/v1/messages'],
      ['POST', '/v1/messages'],
    ]);
    expect(fake.requests.map((r) => r.body)).toEqual([
      body,
      { ...body, messages: [{ role: 'user', content: 'b' }] },
    ]);
    // SDK 1.x sends the apiKey as a bearer token.
    expect(fake.requests[0]?.headers['authorization']).toBe('Bearer test-key');
    expect(fake.requests[0]?.headers['anthropic-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(fake.requests[1]!.at).toBeGreaterThanOrEqual(fake.requests[0]!.at);
  });

  it('counts tokens with the same estimate, and faults skip count_tokens', async () => {
    fake.script([{ reply: { text: 'ok', usage: { output: 1 } } }]);
    fake.fail({ kind: 'status', status: 500 });
    const params = {
      model: MODEL,
      system: 'You are terse.',
      tools: [creditLimitTool],
      messages: [{ role: 'user' as const, content: 'What is the credit limit of C-42?' }],
    };
    const counted = await client.messages.countTokens(params);
    const expected = Math.ceil(
      JSON.stringify({ messages: params.messages, system: params.system, tools: params.tools })
        .length / 4,
    );
    expect(counted).toMatchObject({ input_tokens: expected });
    // The queued fault is still there for the next turn.
    await expect(client.messages.create({ ...params, max_tokens: 16 })).rejects.toBeInstanceOf(
      InternalServerError,
    );
    const message = await client.messages.create({ ...params, max_tokens: 16 });
    expect(message.usage.input_tokens).toBe(expected);
  });

  it('rejects a body without max_tokens with a 400 naming the field', async () => {
    const error = await rejectionOf(
      client.messages.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'hi' }],
      } as unknown as Anthropic.MessageCreateParamsNonStreaming),
    );
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as APIError).type).toBe('invalid_request_error');
    expect((error as APIError).apiMessage).toBe('max_tokens: Field required');
  });

  it.each([
    [{ max_tokens: 0 }, 'max_tokens: Input should be greater than or equal to 1'],
    [{ messages: [] }, 'messages: at least one message is required'],
    [
      { messages: [{ role: 'system', content: 'x' }] },
      "messages.0.role: Input should be 'user' or 'assistant'",
    ],
    [{ model: undefined }, 'model: Field required'],
  ])('rejects an invalid body %j with a 400 naming the field', async (override, expected) => {
    const error = await rejectionOf(
      client.messages.create({
        model: MODEL,
        max_tokens: 16,
        messages: [{ role: 'user', content: 'hi' }],
        ...override,
      } as unknown as Anthropic.MessageCreateParamsNonStreaming),
    );
    expect((error as APIError).status).toBe(400);
    expect((error as APIError).apiMessage).toBe(expected);
  });

  it('answers 401 authentication_error to an SDK without a key', async () => {
    const keyless = new Anthropic({
      apiKey: 'unused',
      baseURL: fake.url,
      maxRetries: 0,
      // null removes the header and tells the SDK that no auth is intended.
      defaultHeaders: { authorization: null },
    });
    const error = await rejectionOf(
      keyless.messages.create({
        model: MODEL,
        max_tokens: 16,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    );
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as APIError).type).toBe('authentication_error');
    expect(fake.requests[0]?.headers['authorization']).toBeUndefined();
    expect(fake.requests[0]?.headers['x-api-key']).toBeUndefined();
  });

  it('accepts x-api-key but answers 401 without anthropic-version', async () => {
    fake.script([{ reply: { text: 'ok' } }]);
    const post = (headers: Record<string, string>) =>
      fetch(`${fake.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({
          model: MODEL,
          max_tokens: 8,
          messages: [{ role: 'user', content: 'hi' }],
        }),
      });
    const ok = await post({ 'x-api-key': 'k', 'anthropic-version': '2023-06-01' });
    expect(ok.status).toBe(200);
    const noVersion = await post({ 'x-api-key': 'k' });
    expect(noVersion.status).toBe(401);
    expect(await noVersion.json()).toMatchObject({
      type: 'error',
      error: { type: 'authentication_error', message: 'anthropic-version header is required' },
    });
  });

  it('answers 500 with the error when a scripted reply throws', async () => {
    fake.script([
      {
        reply: () => {
          throw new Error('script bug');
        },
      },
    ]);
    const error = await rejectionOf(
      client.messages.create({
        model: MODEL,
        max_tokens: 16,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    );
    expect((error as APIError).status).toBe(500);
    expect((error as APIError).apiMessage).toBe('fake provider: script bug');
  });

  it('forgets requests, faults and script on reset', async () => {
    fake.script([{ reply: { text: 'scripted' } }]);
    fake.fail({ kind: 'status', status: 500 });
    await rejectionOf(
      client.messages.create({
        model: MODEL,
        max_tokens: 16,
        messages: [{ role: 'user', content: 'x' }],
      }),
    );
    fake.fail({ kind: 'status', status: 500 });
    fake.reset();
    expect(fake.requests).toHaveLength(0);
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 16,
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(message.content).toEqual([
      { type: 'text', text: 'fake provider: no scripted turn matches "x"' },
    ]);
  });
});

describe('fake Anthropic lifecycle', () => {
  it('takes its first script from the options', async () => {
    const fake = await startFakeAnthropic({ turns: [{ reply: { text: 'from options' } }] });
    try {
      const client = new Anthropic({ apiKey: 'k', baseURL: fake.url, maxRetries: 0 });
      const message = await client.messages.create({
        model: MODEL,
        max_tokens: 16,
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(message.content).toEqual([{ type: 'text', text: 'from options' }]);
    } finally {
      await fake.close();
    }
  });

  it('releases a hung request on close', async () => {
    const fake = await startFakeAnthropic();
    const client = new Anthropic({ apiKey: 'k', baseURL: fake.url, maxRetries: 0 });
    fake.fail({ kind: 'hang' });
    const pending = rejectionOf(
      client.messages.create({
        model: MODEL,
        max_tokens: 16,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    );
    await waitFor(() => fake.requests.length === 1, { what: 'the hung request to arrive' });
    await fake.close();
    expect(await pending).toBeInstanceOf(APIConnectionError);
  });
});
