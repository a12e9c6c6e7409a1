import type { ModelRequest } from '@toolbus/contracts';
import { createLogger } from '@toolbus/observability';
import { startFakeAnthropic, startFakeOpenAI, type FakeProvider } from '@toolbus/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PriceTable } from '../accounting/prices.js';
import { AnthropicProvider } from '../providers/anthropic.provider.js';
import type { ModelProvider } from '../providers/model-provider.js';
import { OpenAiProvider } from '../providers/openai.provider.js';
import { RouteTable } from '../routing/route-table.js';
import { CompletionService } from './completion.service.js';
import { ProviderBreakers } from './provider-breakers.js';
import type { UsageSink } from './usage-recorder.js';

/** Retries, failover and deadlines with the real SDKs against fake providers, in real time. */
describe('CompletionService with real SDKs', () => {
  let anthropic: FakeProvider;
  let vllm: FakeProvider;
  const sink: UsageSink = {
    record: async () => undefined,
    providerError: () => undefined,
    breakerState: () => undefined,
  };

  beforeAll(async () => {
    [anthropic, vllm] = await Promise.all([
      startFakeAnthropic(),
      startFakeOpenAI({ servedModels: ['qwen'] }),
    ]);
  });
  afterAll(() => Promise.all([anthropic.close(), vllm.close()]));
  beforeEach(() => {
    anthropic.reset();
    vllm.reset();
    anthropic.script([{ reply: { text: 'from anthropic' } }]);
    vllm.script([{ reply: { text: 'from vllm' } }]);
  });

  function service(anthropicUrl = anthropic.url) {
    const providers = new Map<string, ModelProvider>([
      [
        'anthropic',
        new AnthropicProvider({
          apiKey: 'sk-test',
          baseURL: anthropicUrl,
          streamAboveTokens: 4096,
        }),
      ],
      [
        'vllm',
        new OpenAiProvider({
          name: 'vllm',
          baseURL: `${vllm.url}/v1`,
          tokenize: true,
          streamAboveTokens: 4096,
        }),
      ],
    ]);
    return new CompletionService({
      providers,
      routes: RouteTable.parse('default=anthropic:claude-sonnet-4-5,vllm:qwen', [
        ...providers.keys(),
      ]),
      prices: PriceTable.parse({}),
      retry: { attempts: 3, baseDelayMs: 20, maxDelayMs: 200, attemptTimeoutMs: 10_000 },
      breakers: new ProviderBreakers({ failures: 100, halfOpenAfterMs: 60_000 }),
      usage: sink,
      logger: createLogger({ name: 'test', level: 'silent' }),
    });
  }

  const request: ModelRequest = {
    contextId: 'ctx-12345678',
    tenant: 'acme',
    model: 'default',
    maxTokens: 256,
    tools: [],
    messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }],
  };

  it('retries 529 twice and then succeeds on the same provider', async () => {
    anthropic.fail({ kind: 'status', status: 529 }, { kind: 'status', status: 529 });
    const out = await service().complete(request, Date.now() + 10_000);
    expect(out.ok && out.response.provider).toBe('anthropic');
    expect(anthropic.requests.filter((r) => r.path === '/v1/messages')).toHaveLength(3);
    expect(vllm.requests).toHaveLength(0);
  });

  it('respects retry-after on a 429', async () => {
    anthropic.fail({ kind: 'status', status: 429, retryAfterSeconds: 1 });
    const started = Date.now();
    const out = await service().complete(request, Date.now() + 10_000);
    expect(out.ok && out.response.provider).toBe('anthropic');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  });

  it('fails over when provider A is down: B answers', async () => {
    const down = 'http://127.0.0.1:9'; // discard port: nothing listens
    const out = await service(down).complete(request, Date.now() + 10_000);
    expect(out.ok && out.response).toMatchObject({
      provider: 'vllm',
      content: [{ type: 'text', text: 'from vllm' }],
    });
  });

  it('fails over at once when A answers malformed JSON', async () => {
    anthropic.fail({ kind: 'malformed' });
    const out = await service().complete(request, Date.now() + 10_000);
    expect(out.ok && out.response.provider).toBe('vllm');
    expect(anthropic.requests.filter((r) => r.path === '/v1/messages')).toHaveLength(1);
  });

  it('keeps the whole call within its deadline when every provider hangs', async () => {
    anthropic.fail({ kind: 'hang' }, { kind: 'hang' }, { kind: 'hang' });
    vllm.fail({ kind: 'hang' }, { kind: 'hang' }, { kind: 'hang' });
    const started = Date.now();
    const out = await service().complete(request, started + 1_500);
    const elapsed = Date.now() - started;
    expect(out.ok).toBe(false);
    expect(!out.ok && out.failure.error.class).toBe('timeout');
    expect(elapsed).toBeLessThanOrEqual(1_650);
  });
});
