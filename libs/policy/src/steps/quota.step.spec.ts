import { createMemoryStore, MemoryStateBackend } from '@toolbus/state';
import { describe, expect, it } from 'vitest';
import { call, context, toolDef } from '../../test/fixtures.js';
import type { Decision } from '../policy.js';
import { quotaStep } from './quota.step.js';

function onClock() {
  const clock = { now: Date.UTC(2026, 6, 1) };
  const store = createMemoryStore({ backend: new MemoryStateBackend({ clock: () => clock.now }) });
  return { clock, store, step: quotaStep({ store }) };
}

const code = (d: Decision) => (d.kind === 'refuse' ? d.code : d.kind);

describe('quota step', () => {
  it('allows 500 calls a minute to a tool by default and refuses the 501st with the exact wait', async () => {
    const { clock, step } = onClock();
    const start = clock.now;
    for (let i = 0; i < 500; i++) {
      clock.now = start + i * 10; // 500 calls over 5 s
      expect((await step.decide(call(), context())).kind).toBe('allow');
    }
    clock.now = start + 6_000;
    const refused = await step.decide(call(), context());
    expect(refused).toEqual({
      kind: 'refuse',
      step: 'quota',
      code: 'rate_limited',
      errorClass: 'rate_limited',
      retryable: true,
      retryAfterMs: 54_000,
      message:
        'The rate limit of get_credit_limit is reached: 500 calls a minute for all callers together. The next call is allowed in 54 s.',
    });
    clock.now = start + 60_000;
    expect((await step.decide(call(), context())).kind).toBe('allow');
  });

  it.each([
    // [definition's limit, tenant's limit, calls allowed to one tenant, to the tool overall]
    [undefined, undefined, 500, 500],
    [3, undefined, 3, 3],
    [undefined, 2, 2, 500],
    [10, 4, 4, 10],
  ])(
    'tool limit %s, tenant limit %s: %i for one tenant, %i for all',
    async (toolLimit, tenantLimit, perTenant, overall) => {
      const { step } = onClock();
      const tool = toolDef(toolLimit ? { rateLimitPerMinute: toolLimit } : {});
      const settings = tenantLimit ? { rateLimitPerMinute: tenantLimit } : {};
      let allowed = 0;
      while ((await step.decide(call({ tool }), context(settings))).kind === 'allow') allowed++;
      expect(allowed).toBe(perTenant);
      // Other tenants fill the tool's window; the tenant-refused calls above used no slot.
      let others = 0;
      for (let t = 0; others + perTenant < overall && t < 1_000; t++)
        if (
          (await step.decide(call({ tool, tenant: `t${t}` }), context(settings))).kind === 'allow'
        )
          others++;
      expect(others + perTenant).toBe(overall);
      expect(code(await step.decide(call({ tool, tenant: 'fresh' }), context(settings)))).toBe(
        'rate_limited',
      );
    },
  );

  it('names the tenant when the tenant limit refused', async () => {
    const { step } = onClock();
    await step.decide(call(), context({ rateLimitPerMinute: 1 }));
    const refused = await step.decide(call(), context({ rateLimitPerMinute: 1 }));
    expect(refused.kind === 'refuse' && refused.message).toMatch(
      /1 calls a minute for tenant acme/,
    );
  });

  it('fails closed with quota_unavailable when the store cannot be reached', async () => {
    const { store, step } = onClock();
    await store.close();
    expect(await step.decide(call(), context())).toMatchObject({
      kind: 'refuse',
      code: 'quota_unavailable',
      errorClass: 'unavailable',
      retryable: true,
      message: expect.stringContaining('refused rather than let through unmetered'),
    });
  });
});
