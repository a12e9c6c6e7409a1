import type { ModelRequest } from '@toolbus/contracts';
import { createLogger } from '@toolbus/observability';
import { describe, expect, it } from 'vitest';
import { PriceTable } from '../accounting/prices.js';
import {
  ProviderError,
  type ModelProvider,
  type ProviderCall,
  type ProviderResult,
} from '../providers/model-provider.js';
import { RouteTable } from '../routing/route-table.js';
import { CompletionService, type RetryPolicy } from './completion.service.js';
import { ProviderBreakers } from './provider-breakers.js';
import type { UsageRecord, UsageSink } from './usage-recorder.js';

const answer = (text = 'hello'): ProviderResult => ({
  content: [{ type: 'text', text }],
  toolCalls: [],
  stopReason: 'end_turn',
  usage: { inputTokens: 100, outputTokens: 20, cacheReadTokens: 0, cacheWriteTokens: 0 },
  model: 'm',
});

/** A provider port that plays a script of outcomes and records every call. */
function scripted(
  name: string,
  outcomes: Array<ProviderResult | ProviderError>,
  count?: number,
): ModelProvider & { calls: ProviderCall[]; counts: number } {
  const calls: ProviderCall[] = [];
  const p = {
    name,
    calls,
    counts: 0,
    async complete(call: ProviderCall) {
      calls.push(call);
      const next = outcomes.shift() ?? answer();
      if (next instanceof ProviderError) throw next;
      return next;
    },
    ...(count === undefined
      ? {}
      : {
          async countTokens() {
            p.counts++;
            return count;
          },
        }),
  };
  return p;
}

function harness(
  providers: ModelProvider[],
  opts: { routes?: string; retry?: Partial<RetryPolicy>; failures?: number } = {},
) {
  const records: UsageRecord[] = [];
  const sleeps: number[] = [];
  const sink: UsageSink = {
    record: async (r) => void records.push(r),
    providerError: () => undefined,
    breakerState: () => undefined,
  };
  const map = new Map(providers.map((p) => [p.name, p]));
  const service = new CompletionService({
    providers: map,
    routes: RouteTable.parse(
      opts.routes ?? `default=${providers.map((p) => `${p.name}:model-${p.name}`).join(',')}`,
      [...map.keys()],
    ),
    prices: PriceTable.parse({ 'a:model-a': { input: 3, output: 15 } }),
    retry: {
      attempts: 3,
      baseDelayMs: 100,
      maxDelayMs: 1000,
      attemptTimeoutMs: 5000,
      ...opts.retry,
    },
    breakers: new ProviderBreakers({ failures: opts.failures ?? 5, halfOpenAfterMs: 60_000 }),
    usage: sink,
    logger: createLogger({ name: 'test', level: 'silent' }),
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 0.5,
  });
  return { service, records, sleeps };
}

const request = (extra: Partial<ModelRequest> = {}): ModelRequest => ({
  contextId: 'ctx-12345678',
  tenant: 'acme',
  model: 'default',
  maxTokens: 1000,
  tools: [],
  messages: [
    { role: 'user', content: [{ type: 'text', text: 'What is the credit limit for Acme Corp?' }] },
  ],
  ...extra,
});
const soon = () => Date.now() + 60_000;
const err = (
  kind: ConstructorParameters<typeof ProviderError>[1],
  status?: number,
  retryAfterMs?: number,
  provider = 'a',
) =>
  new ProviderError(provider, kind, status ? `HTTP ${status} ${kind}` : kind, status, retryAfterMs);

describe('CompletionService', () => {
  it('retries 529 twice, then succeeds, and prices the call', async () => {
    const a = scripted('a', [err('overloaded', 529), err('overloaded', 529), answer('ok')]);
    const { service, records, sleeps } = harness([a]);
    const out = await service.complete(request(), soon());
    expect(out.ok && out.response).toMatchObject({
      provider: 'a',
      model: 'm',
      content: [{ type: 'text', text: 'ok' }],
      costUsd: (100 * 3 + 20 * 15) / 1e6,
    });
    expect(a.calls).toHaveLength(3);
    expect(sleeps).toEqual([75, 150]); // half of 100·2^(n-1) plus jitter at 0.5
    expect(records.at(-1)).toMatchObject({
      outcome: 'succeeded',
      attempts: 3,
      tenant: 'acme',
      provider: 'a',
    });
  });

  it('waits at least as long as retry-after asks', async () => {
    const a = scripted('a', [err('rate_limited', 429, 2_000), answer()]);
    const { service, sleeps } = harness([a]);
    expect((await service.complete(request(), soon())).ok).toBe(true);
    expect(sleeps).toEqual([2_000]);
  });

  it('fails over to the next provider when retries are spent', async () => {
    const a = scripted('a', [err('server', 500), err('server', 500), err('server', 500)]);
    const b = scripted('b', [answer('from b')]);
    const { service } = harness([a, b]);
    const out = await service.complete(request(), soon());
    expect(out.ok && out.response.provider).toBe('b');
    expect(a.calls).toHaveLength(3);
    expect(b.calls[0]?.model).toBe('model-b');
  });

  it('fails over at once, without retrying, on a malformed answer', async () => {
    const a = scripted('a', [err('malformed')]);
    const b = scripted('b', [answer()]);
    const { service, sleeps } = harness([a, b]);
    expect((await service.complete(request(), soon())).ok).toBe(true);
    expect(a.calls).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('never waits past the deadline and reports a timeout naming each provider', async () => {
    const a = scripted('a', [err('rate_limited', 429, 30_000)]);
    const b = scripted('b', [err('connection', undefined, undefined, 'b')]);
    const { service } = harness([a, b], { retry: { attempts: 1 } });
    const out = await service.complete(request(), Date.now() + 5_000);
    expect(out.ok).toBe(false);
    const failure = !out.ok && out.failure;
    expect(failure && failure.error).toMatchObject({ class: 'unavailable', retryable: true });
    expect(failure && failure.error.message).toContain('a: HTTP 429 rate_limited (attempt 1)');
    expect(failure && failure.error.message).toContain('b: connection (attempt 1)');
    const waiting = harness([scripted('a', [err('rate_limited', 429, 30_000)])]);
    const late = await waiting.service.complete(request(), Date.now() + 5_000);
    expect(!late.ok && late.failure.error).toMatchObject({
      class: 'timeout',
      code: 'model_deadline_exceeded',
    });
    expect(waiting.sleeps).toEqual([]);
  });

  it('gives each attempt only the time left before the deadline', async () => {
    const a = scripted('a', [answer()]);
    const { service } = harness([a], { retry: { attemptTimeoutMs: 100_000 } });
    await service.complete(request(), Date.now() + 3_000);
    expect(a.calls[0]!.timeoutMs).toBeLessThanOrEqual(3_000);
    expect(a.calls[0]!.timeoutMs).toBeGreaterThan(2_000);
  });

  it('opens a provider breaker after consecutive failures and skips it', async () => {
    const a = scripted(
      'a',
      Array.from({ length: 10 }, () => err('server', 500)),
    );
    const b = scripted('b', []);
    const { service } = harness([a, b], { retry: { attempts: 1 }, failures: 2 });
    await service.complete(request(), soon());
    await service.complete(request(), soon());
    const callsBefore = a.calls.length;
    const out = await service.complete(request(), soon());
    expect(out.ok && out.response.provider).toBe('b');
    expect(a.calls.length).toBe(callsBefore);
  });

  it('refuses an input over budget before any provider is contacted', async () => {
    const a = scripted('a', [], 10);
    const { service, records } = harness([a]);
    const huge = 'word '.repeat(4000);
    const out = await service.complete(
      request({
        remainingBudgetTokens: 500,
        messages: [{ role: 'user', content: [{ type: 'text', text: huge }] }],
      }),
      soon(),
    );
    expect(!out.ok && out.failure.error).toMatchObject({
      class: 'budget_exceeded',
      code: 'budget_exceeded',
      retryable: false,
    });
    expect(!out.ok && out.failure.error.message).toMatch(
      /needs at least \d+ tokens but only 500 remain/,
    );
    expect(a.calls).toHaveLength(0);
    expect(a.counts).toBe(0);
    expect(records.at(-1)).toMatchObject({ outcome: 'failed', errorClass: 'budget_exceeded' });
  });

  it('asks the count endpoint when the estimate cannot decide, and refuses on its answer', async () => {
    const a = scripted('a', [], 2_000);
    const { service } = harness([a]);
    const out = await service.complete(request({ remainingBudgetTokens: 20 }), soon());
    expect(a.counts).toBe(1);
    expect(!out.ok && out.failure.error.class).toBe('budget_exceeded');
    expect(a.calls).toHaveLength(0);
  });

  it('clamps max_tokens to what the budget leaves, using the exact count near the limit', async () => {
    const a = scripted('a', [answer()], 12);
    const { service } = harness([a]);
    await service.complete(request({ maxTokens: 4096, remainingBudgetTokens: 20 }), soon());
    expect(a.counts).toBe(1);
    expect(a.calls[0]!.maxTokens).toBe(8);
    const b = scripted('b', [answer()]);
    await harness([b]).service.complete(
      request({ maxTokens: 4096, remainingBudgetTokens: 100_000 }),
      soon(),
    );
    expect(b.calls[0]!.maxTokens).toBe(4096);
  });

  it('answers an unknown model alias with a validation error listing the aliases', async () => {
    const { service } = harness([scripted('a', [])]);
    const out = await service.complete(request({ model: 'gigantic' }), soon());
    expect(!out.ok && out.failure.error).toMatchObject({
      class: 'validation',
      code: 'unknown_model',
      retryable: false,
    });
    expect(!out.ok && out.failure.error.message).toContain('configured aliases: default');
  });
});
