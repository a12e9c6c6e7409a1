import { freePort, infraFromEnv, uniqueName, waitFor } from '@toolbus/testing';
import { createRedisStore, type StateStore } from '@toolbus/state';
import { afterAll, describe, expect, it } from 'vitest';
import {
  budgetKeys,
  MemoryUsageLedger,
  monthOf,
  policySteps,
  runPolicyChain,
  TokenBudget,
  ToolBreakers,
  type PolicyStep,
  type TenantSettings,
} from '../src/index.js';
import { call, context, toolDef } from './fixtures.js';
import { ownRedis } from './own-redis.js';

/*
 * The policy steps whose state matters, on real Redis: replicas are separate stores (separate
 * connections) sharing one key prefix, as orchestrator replicas of one deployment do.
 */

const { redisUrl } = infraFromEnv();
const closers: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
});

// Replicas of one deployment share its usage ledger as they share its Redis prefix.
const ledgers = new Map<string, MemoryUsageLedger>();

function replica(prefix: string, url = redisUrl, commandTimeoutMs = 2_000) {
  const store = createRedisStore({ url, keyPrefix: prefix, commandTimeoutMs });
  closers.push(() => store.close());
  if (!ledgers.has(prefix)) ledgers.set(prefix, new MemoryUsageLedger());
  const budget = new TokenBudget({ store, ledger: ledgers.get(prefix)! });
  return { store, budget, steps: policySteps({ store, budget }) };
}

let calls = 0;
const spend = (
  tenant: string,
  settings: TenantSettings,
  askId: string,
  tokens: number,
  costUsd: number,
) => ({
  tenant,
  settings,
  askId,
  callId: `call-${++calls}`,
  model: 'claude-test',
  inputTokens: tokens,
  outputTokens: 0,
  costUsd,
});

const chain = (steps: PolicyStep[], settings: TenantSettings = {}, askId?: string) =>
  runPolicyChain(steps, call(askId ? { askId } : {}), context(settings));

describe('policy on Redis', () => {
  it('shares a tool quota exactly between two replicas: the 501st call in a minute is refused', async () => {
    const prefix = `${uniqueName('policy')}:`;
    const [a, b] = [replica(prefix), replica(prefix)];
    const started = Date.now();
    const outcomes = await Promise.all(
      Array.from({ length: 501 }, (_, i) => chain((i % 2 ? a : b).steps)),
    );
    const refused = outcomes.filter((o) => o.decision.kind !== 'allow');
    expect(outcomes.length - refused.length).toBe(500);
    expect(refused).toHaveLength(1);
    const decision = refused[0]!.decision;
    expect(decision).toMatchObject({ kind: 'refuse', step: 'quota', code: 'rate_limited' });
    if (decision.kind !== 'refuse') return;
    expect(decision.retryAfterMs).toBeGreaterThan(60_000 - (Date.now() - started) - 100);
    expect(decision.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(decision.message).toMatch(
      /^The rate limit of get_credit_limit is reached: 500 calls a minute for all callers together\. The next call is allowed in \d+ s\.$/,
    );
    // Every step ran for the refused call, quota last, and each took a measured time.
    expect(refused[0]!.steps.map((s) => s.step)).toEqual([
      'scope',
      'residency',
      'arguments',
      'budget',
      'quota',
    ]);
  });

  it('shares monthly budgets: usage recorded by one replica refuses on the other, and 80% warns once', async () => {
    const prefix = `${uniqueName('policy')}:`;
    const [a, b] = [replica(prefix), replica(prefix)];
    const settings = { monthlyTokenBudget: 10_000, monthlyUsdBudget: 50 };
    const tenant = 'acme';
    // Monthly counters live for two months: leave none behind in the shared Redis.
    const month = monthOf(Date.now());
    closers.push(() =>
      Promise.all(
        [
          budgetKeys.tokens(tenant, month),
          budgetKeys.usdMicros(tenant, month),
          budgetKeys.warned(tenant, month, 'tokens'),
          budgetKeys.warned(tenant, month, 'usd'),
          budgetKeys.ask('ask-0'),
          budgetKeys.ask('ask-1'),
          budgetKeys.ask('ask-2'),
        ].map((k) => a.store.delete(k)),
      ),
    );
    const recorded = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).budget.recordUsage(spend(tenant, settings, 'ask-0', 425, 0.5)),
      ),
    );
    // 20 × 425 = 8,500 tokens (85%): exactly one of the twenty saw the warning.
    const warnings = recorded.flatMap((r) => r.warnings);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.details).toMatchObject({
      kind: 'tokens',
      tenant,
      used: expect.any(Number),
    });
    expect(await b.budget.status(tenant, settings)).toMatchObject({
      tokensUsed: 8_500,
      usdUsed: 10,
    });
    expect((await chain(b.steps, settings, 'ask-1')).decision.kind).toBe('allow');
    await a.budget.recordUsage(spend(tenant, settings, 'ask-0', 1_500, 0));
    const refused = await chain(b.steps, settings, 'ask-2');
    expect(refused.decision).toMatchObject({ step: 'budget', code: 'budget_exceeded' });
  });

  it('fails closed when Redis cannot be reached: quota and budget refuse, nothing is let through', async () => {
    const { steps, budget } = replica(
      `${uniqueName('policy')}:`,
      `redis://127.0.0.1:${await freePort()}`,
      250,
    );
    const direct = await chain(steps);
    expect(direct.decision).toMatchObject({
      step: 'quota',
      code: 'quota_unavailable',
      retryable: true,
    });
    const inAsk = await chain(steps, {}, 'ask-1');
    expect(inAsk.decision).toMatchObject({ step: 'budget', code: 'budget_unavailable' });
    expect(await budget.check('acme', {})).toMatchObject({ code: 'budget_unavailable' });
  });

  it('fails closed while Redis is down mid-life and allows again once it is back, with the same steps', async () => {
    const redis = await ownRedis();
    closers.push(() => redis.kill());
    await redis.start();
    const { store, steps } = replica(`${uniqueName('policy')}:`, redis.url, 250);
    expect((await chain(steps, {}, 'ask-1')).decision.kind).toBe('allow');
    await redis.kill();
    await waitFor(async () => !(await store.isHealthy()), { what: 'the store to notice' });
    for (const askId of [undefined, 'ask-1']) {
      const started = performance.now();
      const outcome = await chain(steps, {}, askId);
      expect(outcome.decision.kind).toBe('refuse');
      expect(performance.now() - started).toBeLessThan(500);
    }
    await redis.start();
    await waitFor(async () => (await chain(steps, {}, 'ask-1')).decision.kind === 'allow', {
      what: 'the chain to allow again',
      timeoutMs: 15_000,
    });
  });

  it('serves a stale answer cached by one replica from another whose breaker is open', async () => {
    const prefix = `${uniqueName('policy')}:`;
    const options = { windowMs: 1_000, minimumCalls: 3, halfOpenAfterMs: 60_000 };
    const [a, b] = [replica(prefix), replica(prefix)] as Array<{ store: StateStore }>;
    const breakersA = new ToolBreakers({ store: a!.store, ...options });
    const breakersB = new ToolBreakers({ store: b!.store, ...options });
    const tool = toolDef({ cacheTtlSeconds: 60 });
    const input = { customer_id: 'acme-1' };
    await breakersA.run(tool, input, async () => ({ limit: 50_000 }));
    for (let i = 0; i < 3; i++)
      await expect(
        breakersB.run(tool, input, () => Promise.reject(new Error('crm down'))),
      ).rejects.toThrow('crm down');
    expect(breakersB.state(tool.name)).toBe('open');
    const stale = await breakersB.run(tool, input, async () => ({ limit: 0 }));
    expect(stale).toMatchObject({ outcome: 'stale', result: { limit: 50_000 } });
    expect(stale.outcome === 'stale' && stale.ageMs).toBeGreaterThanOrEqual(0);
    expect(breakersA.state(tool.name)).toBe('closed');
  });
});
