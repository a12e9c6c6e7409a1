import { createHash } from 'node:crypto';
import { canonicalJson, type JsonObject, type ToolDefinition } from '@toolbus/contracts';
import type { StateStore } from '@toolbus/state';
import {
  BrokenCircuitError,
  circuitBreaker,
  CircuitState,
  handleWhen,
  IsolatedCircuitError,
  SamplingBreaker,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import { policyMetrics } from './metrics.js';
import { humanDuration, refuse, RefusalCodes, type Refusal } from './policy.js';

export interface ToolBreakersOptions {
  /** Holds the result cache. */
  store: StateStore;
  /** Share of failed calls in the window that opens a breaker, in (0, 1); default 0.5. */
  failureRatio?: number;
  /** The window failures are counted over; default 30 s. */
  windowMs?: number;
  /** Calls in the window below which a breaker never opens; default 10. */
  minimumCalls?: number;
  /** How long a breaker stays open before one probe call may pass; default 10 s. */
  halfOpenAfterMs?: number;
  /**
   * Whether an outcome of the dispatch is a failure of the tool: default, a thrown error is,
   * and a returned result is not. A business error (customer not found) should not open the
   * breaker; a timeout or an unavailable upstream should.
   */
  isFailure?: (outcome: { error: unknown } | { result: unknown }) => boolean;
  /** A cache write that failed (the store down); the call itself still succeeded. */
  onCacheError?: (error: unknown, tool: string) => void;
  clock?: () => number;
}

/** What `run` gives back: a fresh result, a stale one from the cache, or a refusal. */
export type BreakerOutcome<T> =
  | { outcome: 'fresh'; result: T }
  | { outcome: 'stale'; result: T; ageMs: number; cachedAt: string }
  | { outcome: 'refused'; refusal: Refusal };

export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

interface CachedResult {
  at: number;
  result: unknown;
}

/** A cacheable tool reads only and says how long its answers keep. */
export function isCacheable(tool: ToolDefinition): boolean {
  return tool.annotations.readOnlyHint && tool.cacheTtlSeconds > 0;
}

/** The result-cache key: tool, version and the canonical JSON of the arguments (hashed). */
export function resultCacheKey(tool: ToolDefinition, input: JsonObject): string {
  const digest = createHash('sha256').update(canonicalJson(input)).digest('base64url');
  return `cache:${tool.name}:${tool.version}:${digest}`;
}

const STATES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

/**
 * A circuit breaker per tool (cockatiel's SamplingBreaker: a failure ratio over a sliding
 * window, then half-open probes), wrapped around the dispatch. While a tool's breaker is open,
 * a cacheable read-only tool is answered from the result cache in the state store, marked
 * stale with its age; any other call fails fast with `breaker_open`. Successful results of
 * cacheable tools are written to the cache with the definition's TTL. Breakers are per
 * replica: each learns from the calls it makes.
 */
export class ToolBreakers {
  private readonly breakers = new Map<string, { policy: CircuitBreakerPolicy; openedAt: number }>();
  private readonly options: Required<Omit<ToolBreakersOptions, 'onCacheError'>> &
    Pick<ToolBreakersOptions, 'onCacheError'>;

  constructor(options: ToolBreakersOptions) {
    this.options = {
      failureRatio: 0.5,
      windowMs: 30_000,
      minimumCalls: 10,
      halfOpenAfterMs: 10_000,
      isFailure: (outcome) => 'error' in outcome,
      clock: Date.now,
      ...options,
    };
    const { failureRatio, windowMs, minimumCalls, halfOpenAfterMs } = this.options;
    if (!(failureRatio > 0 && failureRatio < 1))
      throw new RangeError(`failureRatio must be between 0 and 1 (exclusive), got ${failureRatio}`);
    for (const [name, v] of Object.entries({ windowMs, minimumCalls, halfOpenAfterMs }))
      if (!Number.isSafeInteger(v) || v <= 0)
        throw new RangeError(`${name} must be a positive integer, got ${v}`);
  }

  /**
   * Runs `dispatch` through the tool's breaker. A failure thrown by `dispatch` is thrown on
   * (after counting); a refusal or a stale answer is returned, never thrown.
   */
  async run<T>(
    tool: ToolDefinition,
    input: JsonObject,
    dispatch: () => Promise<T>,
  ): Promise<BreakerOutcome<T>> {
    const breaker = this.breakerOf(tool.name);
    let result: T;
    try {
      result = await breaker.policy.execute(dispatch);
    } catch (error) {
      if (error instanceof BrokenCircuitError || error instanceof IsolatedCircuitError)
        return this.whileOpen<T>(tool, input, breaker.openedAt);
      throw error;
    }
    // The answer does not wait for the cache: a write that fails is reported, not the call's.
    if (isCacheable(tool) && !this.options.isFailure({ result }))
      void this.remember(tool, input, result);
    return { outcome: 'fresh', result };
  }

  /** The breaker state of a tool (closed for a tool never called). */
  state(toolName: string): BreakerState {
    const breaker = this.breakers.get(toolName);
    return breaker ? STATES[breaker.policy.state] : 'closed';
  }

  private breakerOf(tool: string) {
    let entry = this.breakers.get(tool);
    if (entry) return entry;
    const { failureRatio, windowMs, minimumCalls, halfOpenAfterMs, isFailure } = this.options;
    const policy = circuitBreaker(
      handleWhen((error) => isFailure({ error })).orWhenResult((result) => isFailure({ result })),
      {
        halfOpenAfter: halfOpenAfterMs,
        breaker: new SamplingBreaker({
          threshold: failureRatio,
          duration: windowMs,
          minimumRps: (minimumCalls * 1000) / windowMs,
        }),
      },
    );
    const created = { policy, openedAt: 0 };
    policy.onBreak(() => (created.openedAt = this.options.clock()));
    policy.onStateChange((state) =>
      policyMetrics.breakerOpen().set({ tool }, state === CircuitState.Closed ? 0 : 1),
    );
    policyMetrics.breakerOpen().set({ tool }, 0);
    this.breakers.set(tool, created);
    entry = created;
    return entry;
  }

  private async whileOpen<T>(
    tool: ToolDefinition,
    input: JsonObject,
    openedAt: number,
  ): Promise<BreakerOutcome<T>> {
    const now = this.options.clock();
    const cached = isCacheable(tool) ? await this.recall(tool, input) : undefined;
    if (cached)
      return {
        outcome: 'stale',
        result: cached.result as T,
        ageMs: Math.max(0, now - cached.at),
        cachedAt: new Date(cached.at).toISOString(),
      };
    const retryAfterMs = Math.max(0, openedAt + this.options.halfOpenAfterMs - now);
    const why = isCacheable(tool) ? ' and no cached answer for these arguments is at hand' : '';
    policyMetrics.refusals().inc({ step: 'breaker', code: RefusalCodes.breakerOpen });
    return {
      outcome: 'refused',
      refusal: refuse({
        step: 'breaker',
        code: RefusalCodes.breakerOpen,
        errorClass: 'unavailable',
        retryable: true,
        retryAfterMs,
        message: `The tool ${tool.name} is failing, so calls to it are paused${why}. It will be tried again in ${humanDuration(retryAfterMs)}.`,
      }),
    };
  }

  private async remember(tool: ToolDefinition, input: JsonObject, result: unknown): Promise<void> {
    const entry: CachedResult = { at: this.options.clock(), result };
    try {
      await this.options.store.set(resultCacheKey(tool, input), JSON.stringify(entry), {
        ttlMs: tool.cacheTtlSeconds * 1000,
      });
    } catch (error) {
      this.options.onCacheError?.(error, tool.name);
    }
  }

  /** The cached answer, or undefined when there is none or the store cannot say. */
  private async recall(tool: ToolDefinition, input: JsonObject): Promise<CachedResult | undefined> {
    try {
      const raw = await this.options.store.get(resultCacheKey(tool, input));
      if (raw === undefined) return undefined;
      const parsed = JSON.parse(raw) as Partial<CachedResult>;
      return typeof parsed.at === 'number' && 'result' in parsed
        ? { at: parsed.at, result: parsed.result }
        : undefined;
    } catch {
      return undefined;
    }
  }
}
