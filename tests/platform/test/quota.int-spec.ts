import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestPlatform } from './platform.js';

/**
 * The per-tool quota (default 500 calls a minute, per tool and per tenant per tool) is one
 * count in Redis, whichever replica takes the call: its own platform, so no other test's calls
 * are in the minute it counts.
 */
describe('the tool quota across two orchestrator replicas', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await TestPlatform.start();
    await platform.addOrchestrator();
    await platform.untilOffered(['get_credit_limit']);
  }, 120_000);

  afterAll(async () => {
    await platform?.close();
  });

  it('refuses the 501st call of a minute with the time until the next slot, whichever replica counts it', async () => {
    const principal = platform.principal();
    const outcomes: string[] = [];
    for (let batch = 0; batch < 50; batch++)
      outcomes.push(
        ...(
          await Promise.all(
            Array.from({ length: 10 }, (_, i) =>
              platform.invoke(
                { tool: 'get_credit_limit', input: { customer_id: 'cus_001' } },
                { principal, replica: (batch + i) % 2 },
              ),
            ),
          )
        ).map((a) => a.outcome),
      );
    expect(outcomes.filter((o) => o === 'succeeded')).toHaveLength(500);
    const refused = await platform.invoke(
      { tool: 'get_credit_limit', input: { customer_id: 'cus_001' } },
      { principal, replica: 1 },
    );
    expect(refused.outcome).toBe('refused');
    expect(refused.error?.code).toBe('rate_limited');
    expect(refused.error?.message).toMatch(/get_credit_limit/);
    expect(refused.error?.message).toMatch(/The next call is allowed in /);
  });
});
