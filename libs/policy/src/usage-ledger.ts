/** One model call's spend, as the usage ledger keeps it. */
export interface Spend {
  tenant: string;
  /** The calendar month (UTC) it counts in, `YYYY-MM`. */
  month: string;
  askId: string;
  /**
   * What names the model call: the id of the model shim's answer. A model call repeated after
   * a crash is a second spend with its own id; the same answer recorded twice is one.
   */
  callId: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  /** Its cost in micro-dollars (USD × 10⁶), so that sums are exact. */
  usdMicros: number;
  /** ISO timestamp of the model call's answer. */
  at: string;
}

/** What a tenant spent in a month. */
export interface MonthTotals {
  tokens: number;
  usdMicros: number;
}

/** The ledger's answer to a spend: its month's totals after it, exact at its commit. */
export interface SpendRecorded {
  /** False when the call was recorded before (a retried record): nothing was added. */
  added: boolean;
  /** Tenant and month of the row kept (the earlier one's, for a call recorded before). */
  tenant: string;
  month: string;
  totals: MonthTotals;
  /** Tokens of every recorded model call of the ask. */
  askTokens: number;
}

export type BudgetKind = 'tokens' | 'usd';

/**
 * Port: the durable usage ledger behind the budget's counters (the orchestrator keeps it in
 * PostgreSQL, PGlite in the embedded mode). The counters in the state store are the fast path
 * and may be lost (a Redis restart, an eviction); the ledger is what they are rebuilt from.
 * A method throws `StateUnavailableError` when the ledger cannot be reached, so the budget
 * fails closed as it does when the state store is down.
 */
export interface UsageLedger {
  /** Keeps the spend once per call id; a second record of the same call adds nothing. */
  record(spend: Spend): Promise<SpendRecorded>;
  totals(tenant: string, month: string): Promise<MonthTotals>;
  askTokens(askId: string): Promise<number>;
  /** True for the first caller ever per tenant, month and kind: the 80% warning is given once. */
  claimWarning(tenant: string, month: string, kind: BudgetKind): Promise<boolean>;
}

/**
 * The usage ledger in this process's memory: for tests, and for a budget whose state store is
 * itself in memory (one process). Replicas must share one ledger, as they share one store.
 */
export class MemoryUsageLedger implements UsageLedger {
  private readonly spends = new Map<string, Spend>();
  private readonly months = new Map<string, MonthTotals>();
  private readonly asks = new Map<string, number>();
  private readonly warned = new Set<string>();

  /** Every spend kept, in the order recorded. */
  rows(): Spend[] {
    return [...this.spends.values()];
  }

  async record(spend: Spend): Promise<SpendRecorded> {
    const id = spend.callId;
    const kept = this.spends.get(id);
    if (kept) return this.answer(false, kept);
    this.spends.set(id, { ...spend });
    const month = this.monthOf(spend.tenant, spend.month);
    month.tokens += spend.inputTokens + spend.outputTokens;
    month.usdMicros += spend.usdMicros;
    this.asks.set(
      spend.askId,
      (this.asks.get(spend.askId) ?? 0) + spend.inputTokens + spend.outputTokens,
    );
    return this.answer(true, spend);
  }

  async totals(tenant: string, month: string): Promise<MonthTotals> {
    return { ...this.monthOf(tenant, month) };
  }

  async askTokens(askId: string): Promise<number> {
    return this.asks.get(askId) ?? 0;
  }

  async claimWarning(tenant: string, month: string, kind: BudgetKind): Promise<boolean> {
    const key = `${tenant}\u0000${month}\u0000${kind}`;
    if (this.warned.has(key)) return false;
    this.warned.add(key);
    return true;
  }

  private monthOf(tenant: string, month: string): MonthTotals {
    const key = `${tenant}\u0000${month}`;
    let totals = this.months.get(key);
    if (!totals) this.months.set(key, (totals = { tokens: 0, usdMicros: 0 }));
    return totals;
  }

  private answer(added: boolean, spend: Spend): SpendRecorded {
    return {
      added,
      tenant: spend.tenant,
      month: spend.month,
      totals: { ...this.monthOf(spend.tenant, spend.month) },
      askTokens: this.asks.get(spend.askId) ?? 0,
    };
  }
}
