import { createMemoryStore, MemoryStateBackend } from '@toolbus/state';
import { metricsRegistry } from '@toolbus/observability';
import { describe, expect, it } from 'vitest';
import { call, context } from '../../test/fixtures.js';
import type { Decision, TenantSettings } from '../policy.js';
import { StateUnavailableError } from '@toolbus/state';
import { MemoryUsageLedger, type UsageLedger } from '../usage-ledger.js';
import { budgetKeys, monthOf, TokenBudget, type BudgetUsage } from './budget.step.js';

function onClock(start = Date.UTC(2026, 6, 30, 12)) {
  const clock = { now: start };
  const store = createMemoryStore({ backend: new MemoryStateBackend({ clock: () => clock.now }) });
  const ledger = new MemoryUsageLedger();
  return {
    clock,
    store,
    ledger,
    budget: new TokenBudget({ store, ledger, clock: () => clock.now }),
  };
}

let calls = 0;
/** One model call's usage: its own call id, in its own ask unless one is named. */
function usage(
  settings: TenantSettings,
  tokens: number,
  costUsd = 0,
  askId = `ask-x${++calls}`,
): BudgetUsage {
  return {
    tenant: 'acme',
    settings,
    askId,
    callId: `call-${++calls}`,
    model: 'claude-test',
    inputTokens: tokens,
    outputTokens: 0,
    costUsd,
  };
}

const code = (d: Decision) => (d.kind === 'refuse' ? d.code : d.kind);

async function ratio(tenant: string, kind: string): Promise<number | undefined> {
  const m = await metricsRegistry().getSingleMetric('toolbus_budget_used_ratio')!.get();
  return m.values.find((v) => v.labels['tenant'] === tenant && v.labels['kind'] === kind)?.value;
}

describe('token budget', () => {
  it.each([
    // [settings, tokens used this month, USD used, tokens used by the ask, expected]
    [{}, 0, 0, 0, 'allow'],
    [{}, 0, 0, 1_999, 'allow'],
    [{}, 0, 0, 2_000, 'ask_token_cap_reached'],
    [{ askTokenCap: 5_000 }, 0, 0, 2_000, 'allow'],
    [{ askTokenCap: 5_000 }, 0, 0, 5_000, 'ask_token_cap_reached'],
    [{ monthlyTokenBudget: 10_000 }, 9_999, 0, 0, 'allow'],
    [{ monthlyTokenBudget: 10_000 }, 10_000, 0, 0, 'budget_exceeded'],
    [{ monthlyUsdBudget: 5 }, 0, 4.99, 0, 'allow'],
    [{ monthlyUsdBudget: 5 }, 0, 5, 0, 'budget_exceeded'],
    [{ monthlyTokenBudget: 10_000, monthlyUsdBudget: 5 }, 100, 6, 0, 'budget_exceeded'],
  ] as Array<[TenantSettings, number, number, number, string]>)(
    '%j after %i tokens, USD %d, %i in the ask: %s',
    async (settings, tokens, usd, askTokens, expected) => {
      const { budget } = onClock();
      if (tokens > askTokens) await budget.recordUsage(usage(settings, tokens - askTokens, usd));
      await budget.recordUsage(usage(settings, askTokens, tokens > askTokens ? 0 : usd, 'ask-1'));
      expect(code(await budget.check('acme', settings, 'ask-1'))).toBe(expected);
      expect(code(await budget.step.decide(call({ askId: 'ask-1' }), context(settings)))).toBe(
        expected,
      );
    },
  );

  it('reports what an ask has left, and stops it at the cap', async () => {
    const { budget } = onClock();
    const settings = { askTokenCap: 1_000 };
    expect(await budget.recordUsage(usage(settings, 700, 0.01, 'ask-9'))).toMatchObject({
      added: true,
      month: '2026-07',
      tokensUsed: 700,
      usdUsed: 0.01,
      askTokenCap: 1_000,
      askTokensUsed: 700,
      askTokensRemaining: 300,
      warnings: [],
    });
    await budget.recordUsage(usage(settings, 400, 0.01, 'ask-9'));
    expect(await budget.status('acme', settings, 'ask-9')).toMatchObject({
      askTokensUsed: 1_100,
      askTokensRemaining: 0,
    });
    expect(await budget.check('acme', settings, 'ask-9')).toMatchObject({
      code: 'ask_token_cap_reached',
      errorClass: 'budget_exceeded',
      message:
        'This ask has used 1100 tokens of its cap of 1000, so it stops here; answer with what is known.',
    });
    // Another ask of the same tenant starts afresh.
    expect((await budget.check('acme', settings, 'ask-10')).kind).toBe('allow');
  });

  it('warns once at 80% of a monthly budget, across replicas, and refuses at 100% until the month turns', async () => {
    const { clock, store, ledger, budget } = onClock();
    const replica = new TokenBudget({ store, ledger, clock: () => clock.now });
    const settings = { monthlyTokenBudget: 1_000, monthlyUsdBudget: 10 };
    const use = (b: TokenBudget, tokens: number, costUsd = 0) =>
      b.recordUsage(usage(settings, tokens, costUsd));
    expect((await use(budget, 790)).warnings).toEqual([]);
    const crossing = await use(replica, 20);
    expect(crossing.warnings).toEqual([
      {
        step: 'budget',
        code: 'budget_warning',
        message: 'Tenant acme has used 81% of its monthly token budget for 2026-07.',
        details: {
          tenant: 'acme',
          month: '2026-07',
          kind: 'tokens',
          used: 810,
          budget: 1_000,
          ratio: 0.81,
        },
      },
    ]);
    expect(await ratio('acme', 'tokens')).toBe(0.81);
    expect((await use(budget, 10)).warnings).toEqual([]);
    expect(await budget.check('acme', settings)).toEqual({ kind: 'allow' });
    // The USD budget warns on its own.
    expect((await use(replica, 0, 8.5)).warnings.map((w) => w.details['kind'])).toEqual(['usd']);
    await use(budget, 180);
    const refused = await replica.check('acme', settings);
    expect(refused).toMatchObject({
      kind: 'refuse',
      code: 'budget_exceeded',
      retryable: false,
      retryAfterMs: Date.UTC(2026, 7, 1) - clock.now,
      message:
        'Tenant acme has used its monthly token budget (1000 of 1000 tokens in 2026-07); it renews on 2026-08-01 (UTC).',
    });
    expect(await ratio('acme', 'tokens')).toBe(1);
    clock.now = Date.UTC(2026, 7, 1);
    expect(monthOf(clock.now)).toBe('2026-08');
    expect(await budget.check('acme', settings)).toEqual({ kind: 'allow' });
    expect((await use(budget, 900)).warnings.map((w) => w.message)).toEqual([
      'Tenant acme has used 90% of its monthly token budget for 2026-08.',
    ]);
    expect((await budget.check('acme', settings)).kind).toBe('allow');
    expect((await use(replica, 1)).warnings).toEqual([]);
  });

  it('does not check direct calls, which spend no tokens', async () => {
    const { budget } = onClock();
    const settings = { monthlyTokenBudget: 10 };
    await budget.recordUsage(usage(settings, 10));
    expect((await budget.step.decide(call(), context(settings))).kind).toBe('allow');
    expect(code(await budget.step.decide(call({ askId: 'a' }), context(settings)))).toBe(
      'budget_exceeded',
    );
  });

  it('fails closed with budget_unavailable when the store cannot be reached', async () => {
    const { store, budget } = onClock();
    await store.close();
    expect(await budget.check('acme', {}, 'ask-1')).toMatchObject({
      kind: 'refuse',
      code: 'budget_unavailable',
      errorClass: 'unavailable',
      retryable: true,
    });
    await expect(budget.recordUsage(usage({}, 1))).rejects.toThrow(
      'state store unavailable during raise: the store is closed',
    );
  });

  it.each([
    [{ inputTokens: -1 }, 'recordUsage: inputTokens must be a non-negative integer, got -1'],
    [{ outputTokens: 1.5 }, 'recordUsage: outputTokens must be a non-negative integer, got 1.5'],
    [{ costUsd: -0.01 }, 'recordUsage: costUsd must be a non-negative number, got -0.01'],
    [{ costUsd: Number.NaN }, 'recordUsage: costUsd must be a non-negative number, got NaN'],
    [{ callId: '' }, 'recordUsage: callId must name the model call'],
  ])('refuses bad usage %j, recording nothing', async (bad, message) => {
    const { budget, ledger } = onClock();
    await expect(budget.recordUsage({ ...usage({}, 1), ...bad })).rejects.toThrow(message);
    expect(ledger.rows()).toEqual([]);
  });

  it('counts a model call once however often it is recorded', async () => {
    const { budget, ledger } = onClock();
    const settings = { monthlyTokenBudget: 10_000 };
    const once = usage(settings, 300, 0.2, 'ask-r');
    expect(await budget.recordUsage(once)).toMatchObject({ added: true, tokensUsed: 300 });
    expect(await budget.recordUsage(once)).toMatchObject({
      added: false,
      tokensUsed: 300,
      usdUsed: 0.2,
      askTokensUsed: 300,
    });
    expect(ledger.rows()).toHaveLength(1);
  });

  it('rebuilds lost counters from the usage ledger: losing Redis gives no month back and no second warning', async () => {
    const { clock, ledger, budget } = onClock();
    const settings = { monthlyTokenBudget: 1_000 };
    expect((await budget.recordUsage(usage(settings, 850, 0, 'ask-l'))).warnings).toHaveLength(1);
    // A new, empty store (Redis restarted without persistence) in front of the same ledger.
    const fresh = createMemoryStore({
      backend: new MemoryStateBackend({ clock: () => clock.now }),
    });
    const after = new TokenBudget({ store: fresh, ledger, clock: () => clock.now });
    expect(await after.status('acme', settings, 'ask-l')).toMatchObject({
      tokensUsed: 850,
      askTokensUsed: 850,
    });
    expect(await fresh.readCounters([budgetKeys.tokens('acme', '2026-07')])).toEqual({
      [budgetKeys.tokens('acme', '2026-07')]: 850,
    });
    expect((await after.recordUsage(usage(settings, 50))).warnings).toEqual([]);
    expect(await after.recordUsage(usage(settings, 100))).toMatchObject({ tokensUsed: 1_000 });
    expect(code(await after.check('acme', settings))).toBe('budget_exceeded');
  });

  it('fails closed when the usage ledger cannot be reached, and records nothing then', async () => {
    const { store } = onClock();
    const away = (operation: string) => () =>
      Promise.reject(new StateUnavailableError(`usage ledger ${operation}`, 'connection refused'));
    const ledger: UsageLedger = {
      record: away('record'),
      totals: away('totals'),
      askTokens: away('askTokens'),
      claimWarning: away('claimWarning'),
    };
    const budget = new TokenBudget({ store, ledger });
    // No counter yet: the month cannot be known without the ledger.
    expect(await budget.check('acme', { monthlyTokenBudget: 10 })).toMatchObject({
      code: 'budget_unavailable',
    });
    await expect(budget.recordUsage(usage({}, 1))).rejects.toThrow(
      'state store unavailable during usage ledger record: connection refused',
    );
    expect(await store.readCounters([budgetKeys.tokens('acme', monthOf(Date.now()))])).toEqual({
      [budgetKeys.tokens('acme', monthOf(Date.now()))]: 0,
    });
  });

  it('reads no ledger for a tenant without monthly budgets', async () => {
    const { store } = onClock();
    let reads = 0;
    const ledger = new MemoryUsageLedger();
    const counting: UsageLedger = {
      ...ledger,
      record: (s) => ledger.record(s),
      totals: (...a) => (reads++, ledger.totals(...a)),
      askTokens: (a) => ledger.askTokens(a),
      claimWarning: (...a) => ledger.claimWarning(...a),
    };
    const budget = new TokenBudget({ store, ledger: counting });
    expect((await budget.check('acme', {})).kind).toBe('allow');
    expect(reads).toBe(0);
    expect((await budget.check('acme', { monthlyUsdBudget: 5 })).kind).toBe('allow');
    expect(reads).toBe(1);
  });
});
