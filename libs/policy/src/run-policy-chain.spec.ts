import { metricsRegistry } from '@toolbus/observability';
import { describe, expect, it } from 'vitest';
import { call, context } from '../test/fixtures.js';
import { ALLOW, refuse, type Decision, type PolicyStep } from './policy.js';
import { runPolicyChain } from './run-policy-chain.js';

function step(name: string, decision: Decision | (() => never), seen: string[] = []): PolicyStep {
  return {
    name,
    async decide() {
      seen.push(name);
      if (typeof decision === 'function') decision();
      return decision as Decision;
    },
  };
}

const no = (name: string, code = 'nope') =>
  refuse({
    step: name,
    code,
    errorClass: 'forbidden',
    retryable: false,
    message: `${name} says no`,
  });

async function refusals(stepName: string, code: string): Promise<number> {
  const m = await metricsRegistry().getSingleMetric('toolbus_policy_refusals_total')?.get();
  return (
    m?.values.find((v) => v.labels['step'] === stepName && v.labels['code'] === code)?.value ?? 0
  );
}

describe('runPolicyChain', () => {
  it.each([
    // [the steps' decisions, the steps that ran, the final decision's kind]
    [['allow', 'allow', 'allow'], ['a', 'b', 'c'], 'allow'],
    [['allow', 'refuse', 'allow'], ['a', 'b'], 'refuse'],
    [['refuse', 'allow', 'allow'], ['a'], 'refuse'],
    [['allow', 'hold', 'refuse'], ['a', 'b'], 'hold'],
    [[], [], 'allow'],
  ])('%j runs %j and decides %s', async (kinds, ran, final) => {
    const seen: string[] = [];
    const names = ['a', 'b', 'c'];
    const steps = kinds.map((k, i) => {
      const name = names[i]!;
      const d: Decision =
        k === 'allow'
          ? ALLOW
          : k === 'hold'
            ? { kind: 'hold', step: name, reason: 'approval' }
            : no(name);
      return step(name, d, seen);
    });
    const outcome = await runPolicyChain(steps, call(), context());
    expect(seen).toEqual(ran);
    expect(outcome.steps.map((s) => s.step)).toEqual(ran);
    expect(outcome.decision.kind).toBe(final);
    for (const s of outcome.steps) expect(s.durationMs).toBeGreaterThanOrEqual(0);
    expect(outcome.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('stops at the first refusal, reports it, and counts it by step and code', async () => {
    const before = await refusals('quota', 'rate_limited');
    const outcome = await runPolicyChain(
      [step('scope', ALLOW), step('quota', no('quota', 'rate_limited')), step('later', ALLOW)],
      call(),
      context(),
    );
    expect(outcome.decision).toMatchObject({ kind: 'refuse', step: 'quota', code: 'rate_limited' });
    expect(outcome.steps.map((s) => [s.step, s.decision.kind])).toEqual([
      ['scope', 'allow'],
      ['quota', 'refuse'],
    ]);
    expect(await refusals('quota', 'rate_limited')).toBe(before + 1);
  });

  it('refuses as policy_error when a step throws, keeping the error for the log, not the model', async () => {
    const outcome = await runPolicyChain(
      [
        step('broken', () => {
          throw new Error('secret internals');
        }),
        step('never', ALLOW),
      ],
      call(),
      context(),
    );
    expect(outcome.decision).toEqual({
      kind: 'refuse',
      step: 'broken',
      code: 'policy_error',
      errorClass: 'internal',
      retryable: true,
      message:
        'The policy check "broken" failed, so the call to get_credit_limit was refused; try again later.',
    });
    expect((outcome.steps[0]!.error as Error).message).toBe('secret internals');
    expect(outcome.steps).toHaveLength(1);
  });

  it('gathers the warnings of the steps that allowed', async () => {
    const warning = { step: 'budget', code: 'budget_warning', message: '80%', details: {} };
    const outcome = await runPolicyChain(
      [step('budget', { kind: 'allow', warnings: [warning] }), step('quota', ALLOW)],
      call(),
      context(),
    );
    expect(outcome.decision).toEqual({ kind: 'allow' });
    expect(outcome.warnings).toEqual([warning]);
  });
});
