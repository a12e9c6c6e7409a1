export {
  isCacheable,
  resultCacheKey,
  ToolBreakers,
  type BreakerOutcome,
  type BreakerState,
  type ToolBreakersOptions,
} from './circuit-breakers.js';
export { policyMetrics } from './metrics.js';
export {
  ALLOW,
  refusalError,
  RefusalCodes,
  refuse,
  TenantSettings,
  type Allow,
  type Decision,
  type Hold,
  type PolicyCall,
  type PolicyContext,
  type PolicyStep,
  type PolicyWarning,
  type Refusal,
} from './policy.js';
export { policySteps, type PolicyStepsOptions } from './policy-steps.js';
export { runPolicyChain, type PolicyOutcome, type StepRecord } from './run-policy-chain.js';
export { argumentsStep, type ArgumentsStepOptions } from './steps/arguments.step.js';
export {
  budgetKeys,
  monthOf,
  TokenBudget,
  type BudgetStatus,
  type BudgetUsage,
  type TokenBudgetOptions,
  type UsageRecorded,
} from './steps/budget.step.js';
export {
  MemoryUsageLedger,
  type BudgetKind,
  type MonthTotals,
  type Spend,
  type SpendRecorded,
  type UsageLedger,
} from './usage-ledger.js';
export { quotaKeys, quotaStep, type QuotaStepOptions } from './steps/quota.step.js';
export { regionAllowed, residencyStep, toolPermitted } from './steps/residency.step.js';
export { missingScopes, scopeStep } from './steps/scope.step.js';
