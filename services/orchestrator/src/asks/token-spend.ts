import type { TenantSettings, TokenBudget } from '@toolbus/policy';
import type { SpendPort } from './ports.js';

/**
 * The tenant's monthly spend, through the policy library's budget: refused before any model
 * call once the tokens or the dollars of the month are spent (or when the counters or the
 * usage ledger cannot say: fail closed), each model call recorded in the usage ledger once,
 * with the 80% warning once per tenant, month and kind.
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
    async record(spend) {
      const recorded = await budget.recordUsage({
        tenant: spend.tenant,
        settings: settingsOf(spend.tenant),
        askId: spend.askId,
        callId: spend.callId,
        model: spend.model,
        inputTokens: spend.inputTokens,
        outputTokens: spend.outputTokens,
        costUsd: spend.costUsd,
      });
      return { warnings: recorded.warnings.map((w) => w.message) };
    },
    async askTokens(tenant, askId) {
      return (await budget.status(tenant, settingsOf(tenant), askId)).askTokensUsed ?? 0;
    },
  };
}
