import type { BudgetKind, MonthTotals, Spend, SpendRecorded, UsageLedger } from '@toolbus/policy';
import { rowsOf, type DataSource } from '@toolbus/persistence';
import { StateUnavailableError } from '@toolbus/state';

type Row = Record<string, unknown>;

// One statement, so atomic without a transaction (PGlite's single connection would interleave
// two): the spend, and when it is new, the month's and the ask's totals raised by it.
const RECORD = `
  WITH spent AS (
    INSERT INTO usage_spend
      (call_id, ask_id, tenant, month, model, input_tokens, output_tokens, usd_micros, at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
    ON CONFLICT (call_id) DO NOTHING
    RETURNING tenant, month, ask_id, input_tokens + output_tokens AS tokens, usd_micros
  ), monthly AS (
    INSERT INTO usage_month (tenant, month, tokens, usd_micros)
    SELECT tenant, month, tokens, usd_micros FROM spent
    ON CONFLICT (tenant, month) DO UPDATE
      SET tokens = usage_month.tokens + EXCLUDED.tokens,
          usd_micros = usage_month.usd_micros + EXCLUDED.usd_micros
    RETURNING tokens, usd_micros
  ), asked AS (
    INSERT INTO usage_ask (ask_id, tokens)
    SELECT ask_id, tokens FROM spent
    ON CONFLICT (ask_id) DO UPDATE SET tokens = usage_ask.tokens + EXCLUDED.tokens
    RETURNING tokens
  )
  SELECT monthly.tokens, monthly.usd_micros, asked.tokens AS ask_tokens FROM monthly, asked`;

// A call recorded before: what its row says, and the totals as they stand.
const RECORDED = `
  SELECT s.tenant, s.month, m.tokens, m.usd_micros, a.tokens AS ask_tokens
  FROM usage_spend s
  JOIN usage_month m ON m.tenant = s.tenant AND m.month = s.month
  JOIN usage_ask a ON a.ask_id = s.ask_id
  WHERE s.call_id = $1`;

/**
 * The usage ledger on the orchestrator's database (PGlite in the embedded mode). A database
 * that cannot be reached is `StateUnavailableError`, as for the state store, so the budget
 * fails closed; a spend the database refuses (a constraint) is a RangeError naming it.
 */
export class PgUsageLedger implements UsageLedger {
  constructor(private readonly db: DataSource) {}

  async record(spend: Spend): Promise<SpendRecorded> {
    const [row] = await this.query('record', RECORD, [
      spend.callId,
      spend.askId,
      spend.tenant,
      spend.month,
      spend.model,
      spend.inputTokens,
      spend.outputTokens,
      spend.usdMicros,
      spend.at,
    ]);
    if (row) return recorded(true, spend.tenant, spend.month, row);
    const [kept] = await this.query('record', RECORDED, [spend.callId]);
    if (!kept) throw new Error(`usage of call ${spend.callId} was neither recorded nor found`);
    return recorded(false, String(kept['tenant']), String(kept['month']), kept);
  }

  async totals(tenant: string, month: string): Promise<MonthTotals> {
    const [row] = await this.query(
      'totals',
      'SELECT tokens, usd_micros FROM usage_month WHERE tenant = $1 AND month = $2',
      [tenant, month],
    );
    return { tokens: Number(row?.['tokens'] ?? 0), usdMicros: Number(row?.['usd_micros'] ?? 0) };
  }

  async askTokens(askId: string): Promise<number> {
    const [row] = await this.query('askTokens', 'SELECT tokens FROM usage_ask WHERE ask_id = $1', [
      askId,
    ]);
    return Number(row?.['tokens'] ?? 0);
  }

  async claimWarning(tenant: string, month: string, kind: BudgetKind): Promise<boolean> {
    const rows = await this.query(
      'claimWarning',
      `INSERT INTO usage_warning (tenant, month, kind) VALUES ($1, $2, $3)
       ON CONFLICT DO NOTHING RETURNING kind`,
      [tenant, month, kind],
    );
    return rows.length === 1;
  }

  private async query(operation: string, sql: string, params: unknown[]): Promise<Row[]> {
    try {
      return rowsOf<Row>(await this.db.query(sql, params));
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      const message = error instanceof Error ? error.message : String(error);
      // Data and constraint errors (22…, 23…) are the spend's fault; anything else is the
      // database being away, which the budget treats as it treats Redis being away.
      if (typeof code === 'string' && /^2[23]/.test(code))
        throw new RangeError(`usage ledger ${operation}: ${message}`);
      throw new StateUnavailableError(`usage ledger ${operation}`, message, { cause: error });
    }
  }
}

function recorded(added: boolean, tenant: string, month: string, row: Row): SpendRecorded {
  return {
    added,
    tenant,
    month,
    totals: { tokens: Number(row['tokens']), usdMicros: Number(row['usd_micros']) },
    askTokens: Number(row['ask_tokens']),
  };
}
