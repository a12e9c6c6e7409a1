import {
  Messages,
  type AskCompleted,
  type Principal,
  type ToolInvocationAnswered,
} from '@toolbus/contracts';
import { uniqueName, waitFor } from '@toolbus/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestPlatform } from './platform.js';

/**
 * Direct tool calls (an MCP client that brings its own model) over the orchestrator's internal
 * HTTP path, and the policy chain every call passes: bad input refused with what was wrong,
 * a model acting beyond what it was offered.
 */
describe('direct tool calls through the orchestrator', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await TestPlatform.start();
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

  it('runs a synchronous tool on the CRM and answers with its output', async () => {
    const answer = await invoke('get_credit_limit', { customer_id: 'cus_001' });
    expect(answer).toMatchObject({
      outcome: 'succeeded',
      output: { customer_id: 'cus_001', credit_limit: 50_000, currency: 'USD' },
    });
  });

  it('refuses bad calls, each saying what was wrong, and runs none of them', async () => {
    const unknown = await invoke('get_credit_limits', { customer_id: 'cus_001' });
    expect(unknown).toMatchObject({ outcome: 'refused', error: { code: 'unknown_tool' } });

    const wrongType = await invoke('get_credit_limit', { customer_id: 42 });
    expect(wrongType.outcome).toBe('refused');
    expect(wrongType.error?.class).toBe('validation');
    expect(wrongType.error?.issues?.map((i) => i.pointer)).toContain('/customer_id');

    const late = await invoke(
      'get_credit_limit',
      { customer_id: 'cus_001' },
      { deadline: new Date(Date.now() - 1_000).toISOString() },
    );
    expect(late).toMatchObject({ outcome: 'refused', error: { code: 'deadline_passed' } });

    const unasserted = await invoke(
      'get_credit_limit',
      { customer_id: 'cus_001' },
      { assert: false },
    );
    expect(unasserted).toMatchObject({ outcome: 'refused', error: { code: 'untrusted_caller' } });

    const notOurs = await invoke('update_credit_limit', {
      customer_id: 'cus_001',
      credit_limit: 1,
      currency: 'USD',
    });
    expect(notOurs.outcome).toBe('refused');
    expect(notOurs.error?.code, JSON.stringify(notOurs.error)).toBe('insufficient_scope');
  });

  it('refuses arguments over the size limit naming it, and dispatches nothing', async () => {
    const principal = platform.principal();
    /** A direct call with the key it was sent with: the CRM's dedup rows are keyed by it. */
    const post = async (input: Record<string, unknown>) => {
      const call = { tool: 'get_credit_limit', input, idempotencyKey: uniqueName('key') };
      const res = await fetch(
        `${platform.orchestrators[0]!.url}/internal/v1/tools/get_credit_limit:invoke`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            ...call,
            principal,
            principalAssertion: await platform.invocationAssertion(call, principal),
          }),
        },
      );
      return { key: call.idempotencyKey, status: res.status, body: (await res.json()) as unknown };
    };
    const seenByCrm = async (key: string) =>
      (
        (await platform.crm.db!.query(
          'SELECT count(*)::int AS n FROM tool_call_dedup WHERE idempotency_key LIKE $1',
          [`%${key}`],
        )) as Array<{ n: number }>
      )[0]!.n;

    // The same call of a normal size runs, and the CRM keeps its key: the probe below can see.
    const normal = await post({ customer_id: 'cus_001' });
    expect((normal.body as ToolInvocationAnswered).outcome).toBe('succeeded');
    expect(await seenByCrm(normal.key)).toBe(1);

    // Past MAX_TOOL_ARGUMENTS_BYTES (64 KiB by default): refused by the policy chain.
    const large = await post({ customer_id: 'x'.repeat(70_000) });
    expect(large.status).toBe(200);
    expect(large.body).toMatchObject({
      outcome: 'refused',
      error: {
        class: 'validation',
        code: 'arguments_too_large',
        message: expect.stringContaining('at most 65536 are accepted'),
      },
    });
    const refusal = await waitFor(
      () =>
        platform.audit.find(
          (e) => e.action === 'tool.call' && e.details['idempotencyKey'] === large.key,
        ),
      { timeoutMs: 15_000, what: 'the refusal in the audit' },
    );
    expect(refusal).toMatchObject({
      outcome: 'denied',
      details: { step: 'arguments', code: 'arguments_too_large' },
    });

    // Past the body limit of the route (the arguments' limit and 64 KiB): refused unread.
    const huge = await post({ customer_id: 'x'.repeat(200_000) });
    expect(huge.status).toBe(413);
    expect(huge.body).toMatchObject({
      type: 'https://toolbus.dev/problems/body_too_large',
      detail: 'the request body is larger than the 131072 bytes this endpoint accepts',
    });

    expect(await seenByCrm(large.key)).toBe(0);
    expect(await seenByCrm(huge.key)).toBe(0);
  });

  it('refuses and audits a tool the model was not offered (excessive agency); the ask still answers', async () => {
    platform.anthropic.script([
      {
        when: (req) => req.toolResults.length === 0,
        reply: {
          toolCalls: [
            {
              name: 'update_credit_limit',
              input: { customer_id: 'cus_001', credit_limit: 9_000_000, currency: 'USD' },
            },
          ],
        },
      },
      {
        when: (req) => req.toolResults.length > 0,
        reply: (req) => ({ text: `I could not: ${req.toolResults[0]!.content}` }),
      },
    ]);
    const message = await platform.askMessage('Raise the credit limit of Acme Corp to 9 million');
    const reply = await platform.ask(message);
    expect(reply.event.type, JSON.stringify(reply.value)).toBe(Messages.askCompleted.type);
    const completed = reply.value as AskCompleted;
    expect(completed.toolCalls, JSON.stringify(completed)).toEqual([
      expect.objectContaining({ tool: 'update_credit_limit', outcome: 'refused' }),
    ]);
    expect(completed.answer).toMatch(/^I could not: /);
    const audited = await waitFor(
      () =>
        platform.audit.find(
          (e) =>
            e.action === 'tool.call' &&
            e.contextId === message.contextId &&
            e.resource.id.startsWith('update_credit_limit') &&
            e.outcome === 'denied',
        ),
      { timeoutMs: 15_000, what: 'the refusal in the audit' },
    );
    expect(audited.reason).toBeTruthy();
    // Nothing ran: the limit is as seeded.
    expect((await invoke('get_credit_limit', { customer_id: 'cus_001' })).output).toMatchObject({
      credit_limit: 50_000,
    });
  });
});
