import {
  AuditChainPage,
  AuditPage,
  AuditPaths,
  Messages,
  verifyChain,
  type AskCompleted,
  type AskFailed,
  type ChainRow,
} from '@toolbus/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken, waitFor } from '@toolbus/testing';
import { spans, TestPlatform } from './platform.js';

/**
 * "What is the credit limit for Acme Corp?" through the whole platform: the orchestrator
 * offers the CRM's approved tools, the model (a fake Anthropic behind the real model shim)
 * asks for one, the orchestrator runs it under its policy chain on the real CRM consumer over
 * HTTP with a call grant the consumer verifies, and the answer holds the seeded limit. The
 * orchestrator keeps the audit ledger, where the ask's rows chain.
 */
describe('an ask through the platform', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await TestPlatform.start({ ledger: true });
  }, 120_000);

  afterAll(async () => {
    await platform?.close();
  });

  /** The model's side: ask for the limit, then answer from what the tool returned. */
  const scriptCreditLimit = () =>
    platform.anthropic.script([
      {
        when: (req) => req.toolResults.length === 0 && /credit limit/i.test(req.lastUserText),
        reply: { toolCalls: [{ name: 'get_credit_limit', input: { customer_id: 'cus_001' } }] },
      },
      {
        when: (req) => req.toolResults.length > 0,
        reply: (req) => {
          const result = req.toolResults[0]!;
          if (result.isError) return { text: `The tool failed: ${result.content}` };
          const limit = JSON.parse(result.content) as {
            name: string;
            credit_limit: number;
            currency: string;
          };
          return {
            text: `${limit.name} has a credit limit of ${limit.credit_limit.toLocaleString('en-US')} ${limit.currency}.`,
          };
        },
      },
    ]);

  it('answers with the seeded limit after one tool call, and audits the call on the same trace', async () => {
    scriptCreditLimit();
    const reply = await platform.ask(
      await platform.askMessage('What is the credit limit for Acme Corp?'),
    );
    expect(reply.event.type, JSON.stringify(reply.value)).toBe(Messages.askCompleted.type);
    const completed = reply.value as AskCompleted;
    expect(completed.answer, JSON.stringify(completed)).toBe(
      'Acme Corp has a credit limit of 50,000 USD.',
    );
    expect(completed.stopReason).toBe('answer');
    expect(completed.toolCalls).toEqual([
      expect.objectContaining({ tool: 'get_credit_limit', outcome: 'succeeded' }),
    ]);
    expect(completed.usage.inputTokens).toBeGreaterThan(0);
    expect(completed.traceId).toMatch(/^[0-9a-f]{32}$/);

    // The model was offered the CRM's read tools, which alice's crm:read covers, and not the
    // write tool, which it does not.
    const offered = platform.anthropic.requests[0]!.body as { tools: Array<{ name: string }> };
    const names = offered.tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['get_credit_limit', 'find_customer']));
    expect(names).not.toContain('update_credit_limit');

    // The ledger's input: the tool call, allowed, on the ask's trace.
    const call = await waitForAudit(
      (e) => e.action === 'tool.call' && e.resource.id.startsWith('get_credit_limit@'),
    );
    expect(call).toMatchObject({ tenant: platform.tenant, outcome: 'succeeded' });
    expect(call.traceId).toBe(completed.traceId);

    // One trace: the ask, its tool call, and the consumer's run of it.
    const trace = await waitFor(() => {
      const inTrace = spans
        .getFinishedSpans()
        .filter((s) => s.spanContext().traceId === completed.traceId)
        .map((s) => s.name);
      return inTrace.includes('tool get_credit_limit invoke') ? inTrace : undefined;
    });
    expect(trace).toEqual(
      expect.arrayContaining(['invoke_agent toolbus', 'execute_tool get_credit_limit']),
    );

    // The ledger: a row for the ask, each model call and the tool call with its policy
    // decision, all in the ask's context, as `toolbus audit list` reads them.
    const ledger = platform.orchestrators[0]!.url;
    const reader = await issueToken({
      sub: 'auditor',
      tenant: platform.tenant,
      scopes: ['audit:read'],
    });
    const rows = await waitFor(
      async () => {
        const res = await fetch(`${ledger}${AuditPaths.list}?tenant=${platform.tenant}&limit=100`, {
          headers: { authorization: `Bearer ${reader}` },
        });
        if (res.status !== 200) throw new Error(`GET /v1/audit: ${res.status} ${await res.text()}`);
        const items = AuditPage.parse(await res.json()).items.filter(
          (r) => r.contextId === completed.contextId,
        );
        const actions = items.map((r) => r.action);
        return actions.includes('ask.answer') &&
          actions.filter((a) => a === 'model.call').length >= 2 &&
          actions.includes('tool.call')
          ? items
          : undefined;
      },
      { timeoutMs: 60_000, what: "the ask's rows in the ledger" },
    );
    expect(rows.find((r) => r.action === 'tool.call')).toMatchObject({
      tool: 'get_credit_limit',
      outcome: 'succeeded',
      decision: 'allowed',
      traceId: completed.traceId,
      actor: { subject: 'alice' },
      // SHA-256 of the canonical arguments, base64url.
      argumentsHash: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    expect(rows.find((r) => r.action === 'ask.answer')).toMatchObject({
      outcome: 'succeeded',
      tokens: { input: completed.usage.inputTokens, output: completed.usage.outputTokens },
    });
    expect(rows.filter((r) => r.action === 'model.call')).toHaveLength(2);

    // And they chain: every stored row, recomputed as `toolbus audit verify` does.
    const auditor = await issueToken({ sub: 'compliance', scopes: ['audit:read_all'] });
    const chain: ChainRow[] = [];
    let page: AuditChainPage;
    let after = 0;
    do {
      const res = await fetch(`${ledger}${AuditPaths.chain}?after=${after}`, {
        headers: { authorization: `Bearer ${auditor}` },
      });
      expect(res.status).toBe(200);
      page = AuditChainPage.parse(await res.json());
      chain.push(...page.items);
      after = page.nextAfter ?? 0;
    } while (page.nextAfter !== null);
    const ours = new Set(rows.map((r) => r.sequence));
    expect(chain.filter((r) => ours.has(r.sequence))).toHaveLength(rows.length);
    expect(verifyChain(chain, { head: page.head })).toMatchObject({ ok: true });
  });

  it('refuses a forged ask: a principal the gateway did not assert', async () => {
    const message = await platform.askMessage('What is the credit limit for Acme Corp?');
    // An attacker on the bus widens the scopes after the gateway signed.
    const forged = {
      ...message,
      principal: { ...message.principal, scopes: ['crm:read', 'crm:write'] },
    };
    const before = platform.anthropic.requests.length;
    const reply = await platform.ask(forged);
    expect(reply.event.type).toBe(Messages.askFailed.type);
    expect((reply.value as AskFailed).error).toMatchObject({
      class: 'forbidden',
      code: 'untrusted_caller',
    });
    // Refused before any model call.
    expect(platform.anthropic.requests.length).toBe(before);
  });

  it('answers a malformed ask naming each bad field, without calling the model', async () => {
    const before = platform.anthropic.requests.length;
    const message = await platform.askMessage('x');
    const reply = await platform.ask({ ...message, question: '', maxTokens: -5 } as never);
    expect(reply.event.type).toBe(Messages.askFailed.type);
    const { error } = reply.value as AskFailed;
    expect(error.code).toBe('invalid_ask');
    expect(error.issues?.map((i) => i.pointer)).toEqual(
      expect.arrayContaining(['/question', '/maxTokens']),
    );
    expect(platform.anthropic.requests.length).toBe(before);
  });

  it('answers the same question with the offline planner', async () => {
    const reply = await platform.ask(
      await platform.askMessage('What is the credit limit for Acme Corp?', { model: 'demo' }),
    );
    expect(reply.event.type, JSON.stringify(reply.value)).toBe(Messages.askCompleted.type);
    const completed = reply.value as AskCompleted;
    expect(completed.answer, JSON.stringify(completed)).toMatch(/50[,.]?000/);
    expect(completed.toolCalls.some((c) => c.outcome === 'succeeded')).toBe(true);
  });

  const waitForAudit = (match: (e: (typeof platform.audit)[number]) => boolean) =>
    waitFor(() => platform.audit.find(match), { timeoutMs: 15_000, what: 'the audit event' });
});
