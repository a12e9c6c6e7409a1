import { BrokenCircuitError } from 'cockatiel';
import type { ModelFailed, ModelRequest, ModelResponse, SafeError } from '@toolbus/contracts';
import type { Logger } from '@toolbus/observability';
import { costOf, type PriceTable } from '../accounting/prices.js';
import { ESTIMATE_LOW, estimateInputTokens } from '../accounting/token-estimate.js';
import {
  ProviderError,
  type ModelProvider,
  type ProviderResult,
} from '../providers/model-provider.js';
import type { RouteTable, RouteTarget } from '../routing/route-table.js';
import type { ProviderBreakers } from './provider-breakers.js';
import type { UsageSink } from './usage-recorder.js';

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  attemptTimeoutMs: number;
}

export interface CompletionDeps {
  providers: ReadonlyMap<string, ModelProvider>;
  routes: RouteTable;
  prices: PriceTable;
  retry: RetryPolicy;
  breakers: ProviderBreakers;
  usage: UsageSink;
  logger: Logger;
  /** Injectable so tests run retries without waiting. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
}

export type CompletionOutcome =
  { ok: true; response: ModelResponse } | { ok: false; failure: ModelFailed };

/** Refusal before any provider is called. */
class Refusal extends Error {
  constructor(readonly error: SafeError) {
    super(error.message);
  }
}

const defaultSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/**
 * One model request: resolve the alias to an ordered provider list, check the token budget,
 * then try each provider with retries (backoff with jitter, `retry-after` honoured) until one
 * answers, its breaker is open, or the deadline would pass. Never calls past the deadline.
 */
export class CompletionService {
  private readonly sleep: NonNullable<CompletionDeps['sleep']>;
  private readonly random: () => number;

  constructor(private readonly deps: CompletionDeps) {
    this.sleep = deps.sleep ?? defaultSleep;
    this.random = deps.random ?? Math.random;
  }

  async complete(
    request: ModelRequest,
    deadline: number,
    signal: AbortSignal = new AbortController().signal,
  ): Promise<CompletionOutcome> {
    const started = Date.now();
    const targets = this.deps.routes.resolve(request.tenant, request.model);
    if (!targets) {
      return this.fail(request, started, 0, {
        class: 'validation',
        code: 'unknown_model',
        message: `no route for model alias "${request.model}" (tenant ${request.tenant}); configured aliases: ${this.deps.routes.aliases().join(', ')}`,
        retryable: false,
      });
    }
    const problems: string[] = [];
    let attempts = 0;
    let deadlineHit = false;
    for (const target of targets) {
      const provider = this.deps.providers.get(target.provider);
      if (!provider) {
        problems.push(`${target.provider}: not configured`);
        continue;
      }
      if (this.deps.breakers.isOpen(target.provider)) {
        problems.push(`${target.provider}: circuit open`);
        continue;
      }
      let maxTokens: number;
      try {
        maxTokens = await this.budget(request, provider, target, signal);
      } catch (error) {
        if (error instanceof Refusal) return this.fail(request, started, attempts, error.error);
        throw error;
      }
      const result = await this.tryProvider(provider, target, request, maxTokens, deadline, signal);
      attempts += result.attempts;
      if (result.ok) return this.succeed(request, target, result.value, started, attempts);
      problems.push(`${target.provider}: ${result.reason}`);
      deadlineHit ||= result.deadlineHit;
      if (Date.now() >= deadline) {
        deadlineHit = true;
        break;
      }
    }
    return this.fail(request, started, attempts, {
      class: deadlineHit ? 'timeout' : 'unavailable',
      code: deadlineHit ? 'model_deadline_exceeded' : 'model_unavailable',
      message: `no provider answered for "${request.model}": ${problems.join('; ')}`.slice(0, 2000),
      retryable: true,
    });
  }

  /**
   * max_tokens for this call, clamped to the remaining budget. Refuses before any provider is
   * contacted when even the low end of the local estimate exceeds the budget; asks the
   * provider's count endpoint only when the estimate cannot decide.
   */
  private async budget(
    request: ModelRequest,
    provider: ModelProvider,
    target: RouteTarget,
    signal: AbortSignal,
  ): Promise<number> {
    const remaining = request.remainingBudgetTokens;
    if (remaining === undefined) return request.maxTokens;
    const estimate = estimateInputTokens(request);
    const refuse = (input: number, how: string) =>
      new Refusal({
        class: 'budget_exceeded',
        code: 'budget_exceeded',
        message: `the input alone needs ${how} ${input} tokens but only ${remaining} remain in the budget`,
        retryable: false,
      });
    if (Math.floor(estimate * ESTIMATE_LOW) >= remaining)
      throw refuse(Math.floor(estimate * ESTIMATE_LOW), 'at least');
    let input = estimate;
    if (estimate >= remaining / 2 && provider.countTokens) {
      const exact = await provider
        .countTokens(request, target.model, signal)
        .catch(() => undefined);
      if (exact !== undefined) {
        if (exact >= remaining) throw refuse(exact, '');
        input = exact;
      }
    }
    return Math.max(1, Math.min(request.maxTokens, remaining - input));
  }

  private async tryProvider(
    provider: ModelProvider,
    target: RouteTarget,
    request: ModelRequest,
    maxTokens: number,
    deadline: number,
    outer: AbortSignal,
  ): Promise<
    | { ok: true; value: ProviderResult; attempts: number }
    | { ok: false; reason: string; attempts: number; deadlineHit: boolean }
  > {
    const { attempts: maxAttempts, baseDelayMs, maxDelayMs, attemptTimeoutMs } = this.deps.retry;
    const breaker = this.deps.breakers.get(target.provider);
    let last = 'no attempt';
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const left = deadline - Date.now();
      if (left <= 0)
        return {
          ok: false,
          reason: `${last}; deadline reached`,
          attempts: attempt - 1,
          deadlineHit: true,
        };
      const timeoutMs = Math.min(attemptTimeoutMs, left);
      const signal = AbortSignal.any([outer, AbortSignal.timeout(timeoutMs)]);
      try {
        const value = await breaker.execute(() =>
          provider.complete({ request, model: target.model, maxTokens, signal, timeoutMs }),
        );
        return { ok: true, value, attempts: attempt };
      } catch (error) {
        if (error instanceof BrokenCircuitError)
          return { ok: false, reason: 'circuit open', attempts: attempt - 1, deadlineHit: false };
        const e =
          error instanceof ProviderError
            ? error
            : new ProviderError(
                target.provider,
                'connection',
                (error as Error)?.message ?? String(error),
              );
        this.deps.usage.providerError(target.provider, e.kind);
        last = `${e.message.replace(`${target.provider}: `, '')} (attempt ${attempt})`;
        this.deps.logger.warn(
          {
            provider: target.provider,
            model: target.model,
            kind: e.kind,
            status: e.status,
            attempt,
          },
          'provider call failed',
        );
        if (!e.retryable || attempt === maxAttempts)
          return { ok: false, reason: last, attempts: attempt, deadlineHit: false };
        const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
        const backoff = ceiling / 2 + this.random() * (ceiling / 2);
        const delay = Math.max(backoff, e.retryAfterMs ?? 0);
        if (Date.now() + delay >= deadline) {
          return {
            ok: false,
            reason: `${last}; next retry in ${Math.round(delay)} ms would pass the deadline`,
            attempts: attempt,
            deadlineHit: true,
          };
        }
        await this.sleep(delay, outer);
      }
    }
    return { ok: false, reason: last, attempts: maxAttempts, deadlineHit: false };
  }

  private async succeed(
    request: ModelRequest,
    target: RouteTarget,
    result: ProviderResult,
    started: number,
    attempts: number,
  ): Promise<CompletionOutcome> {
    const { usd, priced } = costOf(this.deps.prices, target.provider, target.model, result.usage);
    const latencyMs = Date.now() - started;
    await this.deps.usage.record({
      tenant: request.tenant,
      contextId: request.contextId,
      alias: request.model,
      provider: target.provider,
      model: target.model,
      usage: result.usage,
      costUsd: usd,
      priced,
      latencyMs,
      attempts,
      outcome: 'succeeded',
    });
    return {
      ok: true,
      response: {
        contextId: request.contextId,
        content: result.content,
        toolCalls: result.toolCalls,
        stopReason: result.stopReason,
        usage: result.usage,
        costUsd: usd,
        provider: target.provider,
        model: result.model || target.model,
        latencyMs,
      },
    };
  }

  private async fail(
    request: ModelRequest,
    started: number,
    attempts: number,
    error: SafeError,
  ): Promise<CompletionOutcome> {
    await this.deps.usage.record({
      tenant: request.tenant,
      contextId: request.contextId,
      alias: request.model,
      provider: 'none',
      model: request.model,
      usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
      costUsd: 0,
      priced: true,
      latencyMs: Date.now() - started,
      attempts,
      outcome: 'failed',
      errorClass: error.class,
    });
    return { ok: false, failure: { contextId: request.contextId, error, attempts } };
  }
}
