import { type Principal, type ToolInvocationAnswered } from '@toolbus/contracts';
import { uniqueName } from '@toolbus/testing';
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

  /** A direct call as the gateway posts it, to replica `replica`. */
  const invoke = async (
    tool: string,
    input: Record<string, unknown>,
    options: {
      replica?: number;
      principal?: Principal;
      deadline?: string;
      assert?: boolean;
    } = {},
  ): Promise<ToolInvocationAnswered> => {
    const principal = options.principal ?? platform.principal();
    const call = {
      tool,
      input,
      idempotencyKey: uniqueName('key'),
      ...(options.deadline ? { deadline: options.deadline } : {}),
    };
    const orchestrator = platform.orchestrators[options.replica ?? 0]!;
    const res = await fetch(`${orchestrator.url}/internal/v1/tools/${tool}:invoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        ...call,
        principal,
        ...(options.assert === false
          ? {}
          : { principalAssertion: await platform.invocationAssertion(call, principal) }),
      }),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as ToolInvocationAnswered;
  };

  it('refuses the 501st call of a minute with the time until the next slot, whichever replica counts it', async () => {
    const principal = platform.principal();
    const outcomes: string[] = [];
    for (let batch = 0; batch < 50; batch++)
      outcomes.push(
        ...(
          await Promise.all(
            Array.from({ length: 10 }, (_, i) =>
              invoke(
                'get_credit_limit',
                { customer_id: 'cus_001' },
                { principal, replica: (batch + i) % 2 },
              ),
            ),
          )
        ).map((a) => a.outcome),
      );
    expect(outcomes.filter((o) => o === 'succeeded')).toHaveLength(500);
    const refused = await invoke(
      'get_credit_limit',
      { customer_id: 'cus_001' },
      { principal, replica: 1 },
    );
    expect(refused.outcome).toBe('refused');
    expect(refused.error?.code).toBe('rate_limited');
    expect(refused.error?.message).toMatch(/get_credit_limit/);
    expect(refused.error?.message).toMatch(/The next call is allowed in /);
  });
});
