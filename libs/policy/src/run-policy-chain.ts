import { policyMetrics } from './metrics.js';
import {
  ALLOW,
  refuse,
  RefusalCodes,
  type Decision,
  type PolicyCall,
  type PolicyContext,
  type PolicyStep,
  type PolicyWarning,
} from './policy.js';

/** What one step decided, and how long it took: a row for the audit and a metric sample. */
export interface StepRecord {
  step: string;
  decision: Decision;
  durationMs: number;
  /** The step threw: it is recorded here (for logs) and the call refused as policy_error. */
  error?: unknown;
}

export interface PolicyOutcome {
  /** Allow when every step allowed; otherwise the first refusal or hold. */
  decision: Decision;
  /** Every step that ran, in order; the last is the one that stopped the chain. */
  steps: StepRecord[];
  /** Warnings of the steps that allowed (a budget 80% spent), to publish. */
  warnings: PolicyWarning[];
  durationMs: number;
}

/**
 * Runs the steps in order and stops at the first that does not allow. A step that throws
 * refuses the call (fail closed) as `policy_error`, its message kept from the model. Each
 * refusal is counted in `toolbus_policy_refusals_total{step,code}`.
 */
export async function runPolicyChain(
  steps: readonly PolicyStep[],
  call: PolicyCall,
  context: PolicyContext,
): Promise<PolicyOutcome> {
  const started = performance.now();
  const records: StepRecord[] = [];
  const warnings: PolicyWarning[] = [];
  let final: Decision = ALLOW;
  for (const step of steps) {
    const stepStarted = performance.now();
    let decision: Decision;
    let error: unknown;
    try {
      decision = await step.decide(call, context);
    } catch (e) {
      error = e;
      decision = refuse({
        step: step.name,
        code: RefusalCodes.policyError,
        errorClass: 'internal',
        retryable: true,
        message: `The policy check "${step.name}" failed, so the call to ${call.tool.name} was refused; try again later.`,
      });
    }
    const durationMs = performance.now() - stepStarted;
    policyMetrics.stepDuration().observe({ step: step.name }, durationMs / 1000);
    records.push({
      step: step.name,
      decision,
      durationMs,
      ...(error !== undefined ? { error } : {}),
    });
    if (decision.kind === 'allow') {
      if (decision.warnings) warnings.push(...decision.warnings);
      continue;
    }
    if (decision.kind === 'refuse')
      policyMetrics.refusals().inc({ step: decision.step, code: decision.code });
    final = decision;
    break;
  }
  return { decision: final, steps: records, warnings, durationMs: performance.now() - started };
}
