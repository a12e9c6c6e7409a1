import type { TenantSettings, TokenBudget } from '@toolbus/policy';
import type { SpendPort } from './ports.js';

/**
 * The tenant's monthly spend, through the policy library's budget: refused before any model
 * call once the tokens or the dollars of the month are spent (or when the state store cannot
 * say: fail closed), recorded after each call, with the 80% warning once per month.
 */
export function tokenSpend(
  budget: TokenBudget,
  settingsOf: (tenant: string) => TenantSettings,
): SpendPort {
  return {
    async refusal(tenant) {
      const decision = await budget.check(tenant, settingsOf(tenant));
      return decision.kind === 'refuse'
        ? { code: decision.code, message: decision.message }
        : undefined;
    },
    async record(tenant, tokens, usd) {
      const recorded = await budget.recordUsage({
        tenant,
        settings: settingsOf(tenant),
        tokens,
        costUsd: usd,
      });
      const warning = recorded.warnings[0];
      return warning ? { warning: warning.message } : {};
    },
  };
}
