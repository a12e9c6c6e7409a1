import type { StateStore } from '@toolbus/state';
import type { PolicyStep } from './policy.js';
import { argumentsStep, type ArgumentsStepOptions } from './steps/arguments.step.js';
import type { TokenBudget } from './steps/budget.step.js';
import { quotaStep } from './steps/quota.step.js';
import { residencyStep } from './steps/residency.step.js';
import { scopeStep } from './steps/scope.step.js';

export interface PolicyStepsOptions extends ArgumentsStepOptions {
  store: StateStore;
  budget: TokenBudget;
  /** Calls per minute to a tool whose definition sets no rate limit; default 500. */
  defaultRateLimitPerMinute?: number;
  /** The quota window; default one minute (shorter only in tests). */
  rateWindowMs?: number;
}

/**
 * The built-in chain, in its order: scope, residency, arguments, budget, quota. The checks
 * that only read come first; quota, the one that spends a slot, comes last, so a call refused
 * for any other reason never uses one. A human-approval step holding calls would go before it.
 */
export function policySteps(options: PolicyStepsOptions): PolicyStep[] {
  return [
    scopeStep(),
    residencyStep(),
    argumentsStep(options),
    options.budget.step,
    quotaStep({
      store: options.store,
      ...(options.defaultRateLimitPerMinute !== undefined
        ? { defaultLimitPerMinute: options.defaultRateLimitPerMinute }
        : {}),
      ...(options.rateWindowMs !== undefined ? { windowMs: options.rateWindowMs } : {}),
    }),
  ];
}
