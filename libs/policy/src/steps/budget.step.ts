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

export interface TokenBudgetOptions {
  store: StateStore;
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

export interface BudgetUsage {
  tenant: string;
  settings: TenantSettings;
  askId?: string;
  /** Tokens of one model call (input + output). */
  tokens: number;
  /** Its cost in US dollars, as the model shim reports it. */
  costUsd: number;
}

export interface UsageRecorded extends BudgetStatus {
  /** A `budget_warning` per kind that crossed the warning share for the first time. */
  warnings: PolicyWarning[];
}

type Kind = 'tokens' | 'usd';

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
 * Token budgets: a per-ask token cap, and per-tenant monthly token and USD budgets kept as
 * counters in the state store (USD in micro-dollars), keyed by tenant and UTC month, so every
 * replica sees one ledger. The warning at 80% is given once per tenant, month and kind across
 * replicas; 100% refuses. When the store is down the check refuses (`budget_unavailable`):
 * spending that cannot be counted is not allowed. The durable ledger is the orchestrator's
 * (PostgreSQL); these counters are the fast gate in front of it.
 */
export class TokenBudget {
  /** The chain step: checks calls that belong to an ask (direct calls spend no tokens). */
  readonly step: PolicyStep;
  private readonly store: StateStore;
  private readonly defaultAskTokenCap: number;
  private readonly warnAt: number;
  private readonly askTtlMs: number;
  private readonly now: () => number;
  /** Warnings this replica knows were given (by it or another), so it stops asking the store. */
  private readonly warned = { month: '', keys: new Set<string>() };

  constructor(options: TokenBudgetOptions) {
    this.store = options.store;
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

  /** This month's counters of a tenant (and of an ask). Throws `StateUnavailableError`. */
  async status(tenant: string, settings: TenantSettings, askId?: string): Promise<BudgetStatus> {
    const month = monthOf(this.now());
    const keys = [budgetKeys.tokens(tenant, month), budgetKeys.usdMicros(tenant, month)];
    if (askId !== undefined) keys.push(budgetKeys.ask(askId));
    const counters = await this.store.readCounters(keys);
    return this.statusOf(tenant, settings, month, {
      tokens: counters[keys[0]!]!,
      usdMicros: counters[keys[1]!]!,
      ...(askId !== undefined ? { ask: counters[keys[2]!]! } : {}),
    });
  }

  /**
   * Allowed, possibly with a first-time warning, or refused: the ask's cap reached, a monthly
   * budget spent, or the store unreachable. Call it before each model call, too.
   */
  async check(tenant: string, settings: TenantSettings, askId?: string): Promise<Allow | Refusal> {
    try {
      const status = await this.status(tenant, settings, askId);
      const refusal = this.refusalFor(status);
      if (refusal) return refusal;
      const warnings = await this.warnings(status);
      return warnings.length ? { kind: 'allow', warnings } : ALLOW;
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
   * Adds one model call's tokens and cost to the tenant's month (and the ask), and returns the
   * new standing with any first-time warnings to publish. Throws `StateUnavailableError`.
   */
  async recordUsage(usage: BudgetUsage): Promise<UsageRecorded> {
    const { tenant, askId, tokens, costUsd } = usage;
    if (!Number.isSafeInteger(tokens) || tokens < 0)
      throw new RangeError(`recordUsage: tokens must be a non-negative integer, got ${tokens}`);
    if (!Number.isFinite(costUsd) || costUsd < 0)
      throw new RangeError(`recordUsage: costUsd must be a non-negative number, got ${costUsd}`);
    const month = monthOf(this.now());
    const ttl = { ttlMs: MONTH_TTL_MS };
    const [t, u, a] = await Promise.all([
      this.store.increment(budgetKeys.tokens(tenant, month), tokens, ttl),
      this.store.increment(budgetKeys.usdMicros(tenant, month), Math.round(costUsd * 1e6), ttl),
      askId !== undefined
        ? this.store.increment(budgetKeys.ask(askId), tokens, { ttlMs: this.askTtlMs })
        : undefined,
    ]);
    const status = this.statusOf(tenant, usage.settings, month, {
      tokens: t,
      usdMicros: u,
      ...(a !== undefined ? { ask: a } : {}),
    });
    return { ...status, warnings: await this.warnings(status) };
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
      if (!first) continue;
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
