/**
 * The orchestrator's shared state, as a small port. Every operation is atomic across replicas
 * (one Lua script or one command in Redis; one synchronous step in memory), so no caller ever
 * reads, modifies and writes back. Keys are the caller's; the adapter adds the deployment's
 * prefix. When the backing store is down or slow an operation rejects with
 * `StateUnavailableError` within the adapter's command timeout, and the caller decides to fail
 * closed.
 */
export interface StateStore {
  readonly kind: 'redis' | 'memory';

  /** The value under `key`, or undefined when absent or expired. */
  get(key: string): Promise<string | undefined>;
  /**
   * Writes `value`; with `ifAbsent` only when the key holds nothing. Resolves true when it
   * wrote.
   */
  set(key: string, value: string, options?: SetOptions): Promise<boolean>;
  /** Removes a value, counter or list; true when something was removed. */
  delete(key: string): Promise<boolean>;

  /**
   * One call against a sliding-window rate limit: counted and allowed when `cost` more calls
   * fit in the last `windowMs`, else refused and not counted, with the exact time until
   * enough of the counted calls leave the window.
   */
  consume(key: string, options: RateLimitOptions): Promise<RateDecision>;
  /**
   * One call against several windows at once (e.g. per tool and per tenant per tool): counted
   * in all of them when every one allows it, in none otherwise.
   */
  consumeAll(windows: readonly RateWindow[], options?: { cost?: number }): Promise<RateDecisions>;

  /**
   * Adds `by` (a safe integer, may be negative) to the counter and resolves with its new
   * value. `ttlMs` is given to a counter that has no expiry yet (the first increment of a
   * month, say) and is never extended by later increments.
   */
  increment(key: string, by: number, options?: { ttlMs?: number }): Promise<number>;
  /**
   * Raises the counter to `value` when it holds less (or nothing), and resolves with what it
   * holds then: never lowers it. For a counter that mirrors a running total kept elsewhere
   * (the usage ledger's), where writers that race may arrive out of order: the newest total
   * wins. `ttlMs` as for `increment`.
   */
  raise(key: string, value: number, options?: { ttlMs?: number }): Promise<number>;
  /** Several counters at once, by key; an absent counter reads 0. */
  readCounters(keys: readonly string[]): Promise<Record<string, number>>;

  /**
   * Appends to a bounded list (conversation history), refreshing its TTL. When the list grows
   * past `maxLength`, the oldest entries are removed and returned as `dropped`, so the caller
   * can summarise them: an entry is the unit of truncation, nothing is cut inside one.
   */
  listAppend(key: string, entries: readonly string[], options: ListOptions): Promise<ListAppended>;
  /** Entries `start..stop` inclusive, oldest first; negative indexes count from the end. */
  listRange(key: string, range?: { start?: number; stop?: number }): Promise<string[]>;
  /** Replaces the whole list at once (after summarising), with a fresh TTL. */
  listReplace(key: string, entries: readonly string[], options: ListOptions): Promise<void>;

  /**
   * True for exactly one caller per key until `ttlMs` passes, across every replica ("publish
   * the 80% warning once").
   */
  once(key: string, ttlMs: number): Promise<boolean>;

  /** True when the store answers now; never throws. */
  isHealthy(): Promise<boolean>;
  close(): Promise<void>;
}

export interface SetOptions {
  /** Expire after this many milliseconds; without it the value stays. */
  ttlMs?: number;
  /** Write only when the key holds nothing. */
  ifAbsent?: boolean;
}

export interface RateLimitOptions {
  /** Calls allowed in any window of `windowMs`. */
  limit: number;
  windowMs: number;
  /** What this call counts as; default 1. */
  cost?: number;
}

export interface RateWindow {
  key: string;
  limit: number;
  windowMs: number;
}

export interface RateDecision {
  allowed: boolean;
  /** Calls still allowed in the window after this one (or, refused, before it). */
  remaining: number;
  /** 0 when allowed; otherwise the time until enough counted calls leave the window. */
  retryAfterMs: number;
}

export interface RateDecisions extends RateDecision {
  /** One decision per window, in the order given. */
  windows: RateDecision[];
}

export interface ListOptions {
  /** The most entries kept; the oldest go first. */
  maxLength: number;
  /** The list expires this long after its last write. */
  ttlMs: number;
}

export interface ListAppended {
  length: number;
  /** The oldest entries removed by this append, oldest first; empty when none were. */
  dropped: string[];
}

/**
 * The store could not be reached or did not answer within the command timeout. Retryable; a
 * caller that guards access (quota, budget) refuses rather than letting the call through.
 */
export class StateUnavailableError extends Error {
  override readonly name = 'StateUnavailableError';
  readonly retryable = true;
  constructor(
    readonly operation: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`state store unavailable during ${operation}: ${reason}`, options);
  }
}
