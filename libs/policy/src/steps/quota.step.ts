import { StateUnavailableError, type StateStore } from '@toolbus/state';
import { ALLOW, humanDuration, refuse, RefusalCodes, type PolicyStep } from '../policy.js';

export interface QuotaStepOptions {
  store: StateStore;
  /** Calls per minute to a tool whose definition sets no rate limit; default 500. */
  defaultLimitPerMinute?: number;
  /** The window the limits count over; default one minute (shorter only in tests). */
  windowMs?: number;
}

/** State keys of the quota windows (the store adds the deployment's prefix). */
export const quotaKeys = {
  tool: (tool: string) => `quota:tool:${tool}`,
  tenantTool: (tenant: string, tool: string) => `quota:tenant:${tenant}:tool:${tool}`,
};

/**
 * Quota: per tool (the definition's `rateLimitPerMinute`, else the default) and per tenant
 * per tool (the tenant's `rateLimitPerMinute`, else the tool's), as sliding windows shared by
 * every replica through the state store. A call counts in both windows or in neither, so a
 * refused call never uses a slot. Refused with the exact time until the next slot; when the
 * store cannot be reached, refused as `quota_unavailable` (fail closed, never an open gate).
 * Place it last among the steps, so only calls every other step allowed use a slot.
 */
export function quotaStep(options: QuotaStepOptions): PolicyStep {
  const { store } = options;
  const defaultLimit = options.defaultLimitPerMinute ?? 500;
  const windowMs = options.windowMs ?? 60_000;
  const per = windowMs === 60_000 ? 'a minute' : `per ${humanDuration(windowMs)}`;
  return {
    name: 'quota',
    async decide(call, context) {
      const tool = call.tool.name;
      const toolLimit = call.tool.rateLimitPerMinute ?? defaultLimit;
      const tenantLimit = context.tenantSettings.rateLimitPerMinute ?? toolLimit;
      let decision;
      try {
        decision = await store.consumeAll([
          { key: quotaKeys.tool(tool), limit: toolLimit, windowMs },
          { key: quotaKeys.tenantTool(call.tenant, tool), limit: tenantLimit, windowMs },
        ]);
      } catch (error) {
        if (!(error instanceof StateUnavailableError)) throw error;
        return refuse({
          step: 'quota',
          code: RefusalCodes.quotaUnavailable,
          errorClass: 'unavailable',
          retryable: true,
          message: `The rate limiter cannot be reached, so the call to ${tool} is refused rather than let through unmetered. Try again shortly.`,
        });
      }
      if (decision.allowed) return ALLOW;
      const byTool = !decision.windows[0]!.allowed;
      const who = byTool ? 'all callers together' : `tenant ${call.tenant}`;
      const limit = byTool ? toolLimit : tenantLimit;
      return refuse({
        step: 'quota',
        code: RefusalCodes.rateLimited,
        errorClass: 'rate_limited',
        retryable: true,
        retryAfterMs: decision.retryAfterMs,
        message: `The rate limit of ${tool} is reached: ${limit} calls ${per} for ${who}. The next call is allowed in ${humanDuration(decision.retryAfterMs)}.`,
      });
    },
  };
}
