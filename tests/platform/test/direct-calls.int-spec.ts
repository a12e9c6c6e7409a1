import { Messages, type AskCompleted, type ToolInvocationAnswered } from '@toolbus/contracts';
import { waitFor } from '@toolbus/testing';
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

  it('runs a synchronous tool on the CRM and answers with its output', async () => {
    const answer = await platform.invoke({
      tool: 'get_credit_limit',
      input: { customer_id: 'cus_001' },
    });
    expect(answer).toMatchObject({
      outcome: 'succeeded',
      output: { customer_id: 'cus_001', credit_limit: 50_000, currency: 'USD' },
    });
  });

  it('refuses bad calls, each saying what was wrong, and runs none of them', async () => {
    const unknown = await platform.invoke({
      tool: 'get_credit_limits',
      input: { customer_id: 'cus_001' },
    });
    expect(unknown).toMatchObject({ outcome: 'refused', error: { code: 'unknown_tool' } });

    const wrongType = await platform.invoke({
      tool: 'get_credit_limit',
      input: { customer_id: 42 },
    });
    expect(wrongType.outcome).toBe('refused');
    expect(wrongType.error?.class).toBe('validation');
    expect(wrongType.error?.issues?.map((i) => i.pointer)).toContain('/customer_id');

    const late = await platform.invoke({
      tool: 'get_credit_limit',
      input: { customer_id: 'cus_001' },
      deadline: new Date(Date.now() - 1_000).toISOString(),
    });
    expect(late).toMatchObject({ outcome: 'refused', error: { code: 'deadline_passed' } });

    const unasserted = await platform.invoke(
      { tool: 'get_credit_limit', input: { customer_id: 'cus_001' } },
      { assert: false },
    );
    expect(unasserted).toMatchObject({ outcome: 'refused', error: { code: 'untrusted_caller' } });

    const notOurs = await platform.invoke({
      tool: 'update_credit_limit',
      input: { customer_id: 'cus_001', credit_limit: 1, currency: 'USD' },
    });
    expect(notOurs.outcome).toBe('refused');
    expect(notOurs.error?.code, JSON.stringify(notOurs.error)).toBe('insufficient_scope');
  });

  it('refuses arguments over the size limit naming it, and dispatches nothing', async () => {
    /** A direct call with the key it was sent with: the CRM's dedup rows are keyed by it. */
    const post = (input: Record<string, unknown>) =>
      platform.postInvocation({ tool: 'get_credit_limit', input });
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
    expect(await seenByCrm(normal.idempotencyKey)).toBe(1);

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
          (e) => e.action === 'tool.call' && e.details['idempotencyKey'] === large.idempotencyKey,
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

    expect(await seenByCrm(large.idempotencyKey)).toBe(0);
    expect(await seenByCrm(huge.idempotencyKey)).toBe(0);
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
    const audited = await platform.auditedToolCall(
      message.contextId,
      'update_credit_limit',
      'denied',
    );
    expect(audited.reason).toBeTruthy();
    // Nothing ran: the limit is as seeded.
    expect(
      (await platform.invoke({ tool: 'get_credit_limit', input: { customer_id: 'cus_001' } }))
        .output,
    ).toMatchObject({
      credit_limit: 50_000,
    });
  });
});
