import { StateUnavailableError, type StateStore } from '@toolbus/state';
import { policyMetrics } from '../metrics.js';
import {
  ALLOW,
  refuse,
  RefusalCodes,
  type Allow,
  type PolicyStep,
  type PolicyWarning,
  type Refusal,
  type TenantSettings,
} from '../policy.js';
import type { BudgetKind, UsageLedger } from '../usage-ledger.js';

export interface TokenBudgetOptions {
  /** The counters: the fast path every check reads. */
  store: StateStore;
  /** The durable spends the counters are rebuilt from when the store has lost them. */
  ledger: UsageLedger;
  /** Tokens one ask may spend unless the tenant says otherwise; default 2,000. */
  defaultAskTokenCap?: number;
  /** Share of a monthly budget at which the warning is given (once); default 0.8. */
  warnAtRatio?: number;
  /** How long an ask's token counter lives; default one day. */
  askTtlMs?: number;
  clock?: () => number;
}

/** Where a tenant stands this month (UTC), and an ask within it. */
export interface BudgetStatus {
  tenant: string;
  /** The calendar month counted, `YYYY-MM` (UTC). */
  month: string;
  tokensUsed: number;
  tokenBudget?: number;
  usdUsed: number;
  usdBudget?: number;
  askTokenCap: number;
  /** Only when an ask id was given. */
  askTokensUsed?: number;
  /** What the ask may still spend (0 once the cap is reached); only with an ask id. */
  askTokensRemaining?: number;
}

/** One model call of an ask, as the model shim reported it. */
export interface BudgetUsage {
  tenant: string;
  settings: TenantSettings;
  askId: string;
  /** The model shim's answer id: the spend is recorded once per call. */
  callId: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  /** Its cost in US dollars, as the model shim reports it. */
  costUsd: number;
}

export interface UsageRecorded extends BudgetStatus {
  /** False when this call was recorded before (a retried record): nothing was added. */
  added: boolean;
  /** A `budget_warning` per kind that crossed the warning share for the first time. */
  warnings: PolicyWarning[];
}

type Kind = BudgetKind;

/** Monthly counters outlive their month by at least a month, and then go. */
const MONTH_TTL_MS = 62 * 86_400_000;

/** State keys of the budget counters (the store adds the deployment's prefix). */
export const budgetKeys = {
  tokens: (tenant: string, month: string) => `budget:${tenant}:${month}:tokens`,
  usdMicros: (tenant: string, month: string) => `budget:${tenant}:${month}:usd_micros`,
  warned: (tenant: string, month: string, kind: Kind) => `budget:${tenant}:${month}:warned:${kind}`,
  ask: (askId: string) => `budget:ask:${askId}:tokens`,
};

/**
 * Token budgets: a per-ask token cap, and per-tenant monthly token and USD budgets, keyed by
 * tenant and UTC month. Each spend goes to the usage ledger first (durable, once per model
 * call), which answers the month's exact totals after it; the counters in the state store (USD
 * in micro-dollars) are raised to those totals, never lowered, so replicas whose writes cross
 * still leave the newest. Checks read only the counters. A counter the store no longer holds
 * (a Redis restart, an eviction) is rebuilt from the ledger before it is believed: losing the
 * cache never gives a tenant its month back. The warning at 80% is given once per tenant, month
 * and kind: the store's `once` turns the replicas after the first away cheaply, the ledger's
 * claim decides when the store has forgotten. 100% refuses. When the store or the ledger is
 * down the check refuses (`budget_unavailable`): spending that cannot be counted is not allowed.
 */
export class TokenBudget {
  /** The chain step: checks calls that belong to an ask (direct calls spend no tokens). */
  readonly step: PolicyStep;
  private readonly store: StateStore;
  private readonly ledger: UsageLedger;
  private readonly defaultAskTokenCap: number;
  private readonly warnAt: number;
  private readonly askTtlMs: number;
  private readonly now: () => number;
  /** Warnings this replica knows were given (by it or another), so it stops asking the store. */
  private readonly warned = { month: '', keys: new Set<string>() };

  constructor(options: TokenBudgetOptions) {
    this.store = options.store;
    this.ledger = options.ledger;
    this.defaultAskTokenCap = options.defaultAskTokenCap ?? 2_000;
    this.warnAt = options.warnAtRatio ?? 0.8;
    this.askTtlMs = options.askTtlMs ?? 86_400_000;
    this.now = options.clock ?? Date.now;
    this.step = {
      name: 'budget',
      decide: async (call, context) =>
        call.askId === undefined
          ? ALLOW
          : this.check(call.tenant, context.tenantSettings, call.askId),
    };
  }

  /**
   * This month's counters of a tenant (and of an ask), rebuilt from the ledger when the store
   * has lost them. Throws `StateUnavailableError`.
   */
  async status(tenant: string, settings: TenantSettings, askId?: string): Promise<BudgetStatus> {
    const month = monthOf(this.now());
    const tokensKey = budgetKeys.tokens(tenant, month);
    const usdKey = budgetKeys.usdMicros(tenant, month);
    const askKey = askId !== undefined ? budgetKeys.ask(askId) : undefined;
    const keys = askKey ? [tokensKey, usdKey, askKey] : [tokensKey, usdKey];
    const counters = await this.store.readCounters(keys);
    // Without a monthly budget the month's counters decide nothing: they are not rebuilt.
    const monthly =
      settings.monthlyTokenBudget !== undefined || settings.monthlyUsdBudget !== undefined;
    const rebuildable = [...(monthly ? [tokensKey, usdKey] : []), ...(askKey ? [askKey] : [])];
    // An absent counter reads 0, like a month without spend: only those are looked at again.
    const zero = rebuildable.filter((k) => counters[k] === 0);
    const held = await Promise.all(zero.map((k) => this.store.get(k)));
    const lost = new Set(zero.filter((_, i) => held[i] === undefined));
    const ttl = { ttlMs: MONTH_TTL_MS };
    if (lost.has(tokensKey) || lost.has(usdKey)) {
      const totals = await this.ledger.totals(tenant, month);
      [counters[tokensKey], counters[usdKey]] = await Promise.all([
        this.store.raise(tokensKey, totals.tokens, ttl),
        this.store.raise(usdKey, totals.usdMicros, ttl),
      ]);
    }
    if (askKey && askId !== undefined && lost.has(askKey))
      counters[askKey] = await this.store.raise(askKey, await this.ledger.askTokens(askId), {
        ttlMs: this.askTtlMs,
      });
    return this.statusOf(tenant, settings, month, {
      tokens: counters[tokensKey]!,
      usdMicros: counters[usdKey]!,
      ...(askKey ? { ask: counters[askKey]! } : {}),
    });
  }

  /**
   * Allowed or refused: the ask's cap reached, a monthly budget spent, or the store or the
   * ledger unreachable. Call it before each model call, too. It gives no warning: warnings
   * come from `recordUsage`, whose caller publishes them, so none is claimed and then dropped.
   */
  async check(tenant: string, settings: TenantSettings, askId?: string): Promise<Allow | Refusal> {
    try {
      return this.refusalFor(await this.status(tenant, settings, askId)) ?? ALLOW;
    } catch (error) {
      if (!(error instanceof StateUnavailableError)) throw error;
      return refuse({
        step: 'budget',
        code: RefusalCodes.budgetUnavailable,
        errorClass: 'unavailable',
        retryable: true,
        message: `The budget of tenant ${tenant} cannot be checked right now, so nothing more is spent. Try again shortly.`,
      });
    }
  }

  /**
   * Records one model call of an ask in the ledger (once per model call), raises the
   * counters to the totals the ledger answers, and returns the standing with any first-time
   * warnings to publish. Throws `StateUnavailableError`, and a RangeError for bad usage.
   */
  async recordUsage(usage: BudgetUsage): Promise<UsageRecorded> {
    const { askId, callId, inputTokens, outputTokens, costUsd } = usage;
    for (const [name, value] of [
      ['inputTokens', inputTokens],
      ['outputTokens', outputTokens],
    ] as const)
      if (!Number.isSafeInteger(value) || value < 0)
        throw new RangeError(`recordUsage: ${name} must be a non-negative integer, got ${value}`);
    if (!callId) throw new RangeError('recordUsage: callId must name the model call');
    if (!Number.isFinite(costUsd) || costUsd < 0)
      throw new RangeError(`recordUsage: costUsd must be a non-negative number, got ${costUsd}`);
    const now = this.now();
    const recorded = await this.ledger.record({
      tenant: usage.tenant,
      month: monthOf(now),
      askId,
      callId,
      model: usage.model,
      inputTokens,
      outputTokens,
      usdMicros: Math.round(costUsd * 1e6),
      at: new Date(now).toISOString(),
    });
    const { tenant, month, totals } = recorded;
    const ttl = { ttlMs: MONTH_TTL_MS };
    const [t, u, a] = await Promise.all([
      this.store.raise(budgetKeys.tokens(tenant, month), totals.tokens, ttl),
      this.store.raise(budgetKeys.usdMicros(tenant, month), totals.usdMicros, ttl),
      this.store.raise(budgetKeys.ask(askId), recorded.askTokens, { ttlMs: this.askTtlMs }),
    ]);
    const status = this.statusOf(tenant, usage.settings, month, {
      tokens: t,
      usdMicros: u,
      ask: a,
    });
    return { ...status, added: recorded.added, warnings: await this.warnings(status) };
  }

  private statusOf(
    tenant: string,
    settings: TenantSettings,
    month: string,
    used: { tokens: number; usdMicros: number; ask?: number },
  ): BudgetStatus {
    const askTokenCap = settings.askTokenCap ?? this.defaultAskTokenCap;
    const status: BudgetStatus = {
      tenant,
      month,
      tokensUsed: used.tokens,
      usdUsed: used.usdMicros / 1e6,
      askTokenCap,
      ...(settings.monthlyTokenBudget !== undefined
        ? { tokenBudget: settings.monthlyTokenBudget }
        : {}),
      ...(settings.monthlyUsdBudget !== undefined ? { usdBudget: settings.monthlyUsdBudget } : {}),
      ...(used.ask !== undefined
        ? { askTokensUsed: used.ask, askTokensRemaining: Math.max(0, askTokenCap - used.ask) }
        : {}),
    };
    for (const [kind, ratio] of ratios(status))
      policyMetrics.budgetUsedRatio().set({ tenant, kind }, ratio);
    return status;
  }

  private refusalFor(s: BudgetStatus): Refusal | undefined {
    const nextMonth = nextMonthStart(this.now());
    const resume = new Date(nextMonth).toISOString().slice(0, 10);
    if (s.tokenBudget !== undefined && s.tokensUsed >= s.tokenBudget)
      return refuse({
        step: 'budget',
        code: RefusalCodes.budgetExceeded,
        errorClass: 'budget_exceeded',
        retryable: false,
        retryAfterMs: nextMonth - this.now(),
        message: `Tenant ${s.tenant} has used its monthly token budget (${s.tokensUsed} of ${s.tokenBudget} tokens in ${s.month}); it renews on ${resume} (UTC).`,
      });
    if (s.usdBudget !== undefined && s.usdUsed >= s.usdBudget)
      return refuse({
        step: 'budget',
        code: RefusalCodes.budgetExceeded,
        errorClass: 'budget_exceeded',
        retryable: false,
        retryAfterMs: nextMonth - this.now(),
        message: `Tenant ${s.tenant} has used its monthly budget (USD ${s.usdUsed.toFixed(2)} of ${s.usdBudget.toFixed(2)} in ${s.month}); it renews on ${resume} (UTC).`,
      });
    if (s.askTokensUsed !== undefined && s.askTokensUsed >= s.askTokenCap)
      return refuse({
        step: 'budget',
        code: RefusalCodes.askTokenCapReached,
        errorClass: 'budget_exceeded',
        retryable: false,
        message: `This ask has used ${s.askTokensUsed} tokens of its cap of ${s.askTokenCap}, so it stops here; answer with what is known.`,
      });
    return undefined;
  }

  /** One warning per kind at or past the share, given only by the first replica to see it. */
  private async warnings(s: BudgetStatus): Promise<PolicyWarning[]> {
    const out: PolicyWarning[] = [];
    if (this.warned.month !== s.month) this.warned.keys.clear();
    this.warned.month = s.month;
    for (const [kind, ratio] of ratios(s)) {
      const key = budgetKeys.warned(s.tenant, s.month, kind);
      if (ratio < this.warnAt || this.warned.keys.has(key)) continue;
      const first = await this.store.once(key, MONTH_TTL_MS);
      this.warned.keys.add(key);
      // The store's mark may be gone (restart, eviction): the ledger's claim is the one kept.
      if (!first || !(await this.ledger.claimWarning(s.tenant, s.month, kind))) continue;
      const used = kind === 'tokens' ? s.tokensUsed : s.usdUsed;
      const budget = kind === 'tokens' ? s.tokenBudget! : s.usdBudget!;
      out.push({
        step: 'budget',
        code: 'budget_warning',
        message: `Tenant ${s.tenant} has used ${Math.floor(ratio * 100)}% of its monthly ${kind === 'tokens' ? 'token' : 'USD'} budget for ${s.month}.`,
        details: { tenant: s.tenant, month: s.month, kind, used, budget, ratio },
      });
    }
    return out;
  }
}

function ratios(s: BudgetStatus): Array<[Kind, number]> {
  const out: Array<[Kind, number]> = [];
  if (s.tokenBudget !== undefined) out.push(['tokens', s.tokensUsed / s.tokenBudget]);
  if (s.usdBudget !== undefined) out.push(['usd', s.usdUsed / s.usdBudget]);
  return out;
}

/** `YYYY-MM` of an instant, in UTC. */
export function monthOf(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 7);
}

function nextMonthStart(epochMs: number): number {
  const d = new Date(epochMs);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}
