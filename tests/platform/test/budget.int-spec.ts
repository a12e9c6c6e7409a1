import {
  Messages,
  Topics,
  type AskCompleted,
  type AskFailed,
  type AskProgress,
} from '@toolbus/contracts';
import type { IncomingMessage } from '@toolbus/messaging';
import { openDatabase, rowsOf, type DataSource } from '@toolbus/persistence';
import { budgetKeys, monthOf } from '@toolbus/policy';
import { createRedisStore } from '@toolbus/state';
import { infraFromEnv, uniqueName, waitFor } from '@toolbus/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestPlatform } from './platform.js';

/**
 * Token budgets through the platform: the fake Anthropic reports the usage each test needs,
 * the real model shim prices it, two orchestrator replicas count it in Redis and in the usage
 * ledger of their shared database.
 */
describe('token budgets', () => {
  let platform: TestPlatform;
  let db: DataSource;
  const progress: AskProgress[] = [];
  // Tenants of this run, each with the policy its test needs.
  const capped = uniqueName('capped').slice(0, 40);
  const spent = uniqueName('spent').slice(0, 40);
  const warned = uniqueName('warned').slice(0, 40);

  beforeAll(async () => {
    const policies = JSON.stringify({
      [capped]: { askTokenCap: 2_000 },
      [spent]: { monthlyTokenBudget: 1_000 },
      [warned]: { monthlyTokenBudget: 10_000 },
    });
    platform = await TestPlatform.start({ orchestratorEnv: { TENANT_POLICIES: policies } });
    await platform.addOrchestrator({ TENANT_POLICIES: policies });
    await platform.client.subscribe(
      {
        topic: Topics.askProgress,
        groupId: uniqueName('progress-probe'),
        fromBeginning: true,
        schema: Messages.askProgress.schema,
      },
      async (m: IncomingMessage<AskProgress>) => void progress.push(m.value),
    );
    db = await openDatabase({
      url: infraFromEnv().databaseUrl,
      schema: platform.orchestratorSchema,
      // The orchestrators migrated it; this reader only reads.
      migrations: [],
    });
  }, 180_000);

  afterAll(async () => {
    await db?.destroy();
    await platform?.close();
  });

  const askAs = async (tenant: string, question: string) => {
    const message = await platform.askMessage(question, {
      principal: platform.principal({ tenant }),
    });
    return { message, reply: await platform.ask(message) };
  };
  const completed = (reply: IncomingMessage<AskCompleted | AskFailed>) => {
    expect(reply.event.type, JSON.stringify(reply.value)).toBe(Messages.askCompleted.type);
    return reply.value as AskCompleted;
  };

  it('stops an ask at its cap, reporting what was left unused, and refuses its tool calls past it', async () => {
    // The first step spends all but 10 tokens of the cap: the second step's input cannot fit.
    platform.anthropic.script([
      {
        when: (req) => req.toolResults.length === 0 && /nearly/.test(req.lastUserText),
        reply: {
          toolCalls: [{ name: 'get_credit_limit', input: { customer_id: 'cus_001' } }],
          usage: { input: 1_900, output: 90 },
        },
      },
      {
        when: (req) => req.toolResults.length === 0 && /over/.test(req.lastUserText),
        reply: {
          toolCalls: [{ name: 'get_credit_limit', input: { customer_id: 'cus_001' } }],
          usage: { input: 2_050, output: 50 },
        },
      },
      { when: () => true, reply: { text: 'never asked', usage: { input: 1, output: 1 } } },
    ]);
    const before = platform.anthropic.requests.length;
    const nearly = completed((await askAs(capped, 'nearly: the credit limit of Acme Corp?')).reply);
    expect(nearly).toMatchObject({
      stopReason: 'budget',
      budget: { capTokens: 2_000, usedTokens: 1_990, unusedTokens: 10 },
      toolCalls: [{ tool: 'get_credit_limit', outcome: 'succeeded' }],
    });
    expect(nearly.answer).toContain("I reached this request's token budget (2000 tokens)");
    // The model shim refused the second step before the provider was asked.
    expect(platform.anthropic.requests.length - before).toBe(1);

    // A step that overran the cap: the tool call it asked for is refused by the policy chain.
    const over = completed((await askAs(capped, 'over: the credit limit of Acme Corp?')).reply);
    expect(over).toMatchObject({
      stopReason: 'budget',
      budget: { capTokens: 2_000, usedTokens: 2_100, unusedTokens: 0 },
      toolCalls: [{ tool: 'get_credit_limit', outcome: 'refused', code: 'ask_token_cap_reached' }],
    });
  });

  it('refuses before any model call once the month is spent, and losing Redis gives no month back', async () => {
    platform.anthropic.script([
      { when: () => true, reply: { text: 'Fine.', usage: { input: 1_100, output: 20 } } },
    ]);
    const first = completed((await askAs(spent, 'How are you?')).reply);
    expect(first.answer).toBe('Fine.');
    const before = platform.anthropic.requests.length;
    const refused = (await askAs(spent, 'And now?')).reply;
    expect(refused.event.type).toBe(Messages.askFailed.type);
    expect((refused.value as AskFailed).error).toMatchObject({
      class: 'budget_exceeded',
      code: 'budget_exceeded',
      retryable: false,
      message: expect.stringContaining(
        `Tenant ${spent} has used its monthly token budget (1120 of 1000 tokens`,
      ),
    });
    expect(platform.anthropic.requests.length).toBe(before);

    // The ledger holds the spend, once, priced by the model shim.
    const rows = rowsOf<Record<string, unknown>>(
      await db.query('SELECT * FROM usage_spend WHERE tenant = $1', [spent]),
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      input_tokens: 1_100,
      output_tokens: 20,
      month: monthOf(Date.now()),
    });
    expect(Number(rows[0]!['usd_micros'])).toBeGreaterThan(0);

    // Redis forgets the month (a restart without persistence): still refused, from the ledger.
    const redis = createRedisStore({
      url: infraFromEnv().redisUrl,
      keyPrefix: `${platform.tenant}:`,
    });
    try {
      const month = monthOf(Date.now());
      expect(await redis.delete(budgetKeys.tokens(spent, month))).toBe(true);
      await redis.delete(budgetKeys.usdMicros(spent, month));
    } finally {
      await redis.close();
    }
    const again = (await askAs(spent, 'And after the restart?')).reply;
    expect((again.value as AskFailed).error).toMatchObject({ code: 'budget_exceeded' });
    expect(platform.anthropic.requests.length).toBe(before);
  });

  it('publishes the 80% warning once, whichever replica crosses it', async () => {
    platform.anthropic.script([
      { when: () => true, reply: { text: 'Noted.', usage: { input: 2_900, output: 100 } } },
    ]);
    // 3,000 tokens an ask against 10,000: the third crosses 80%, the fourth stays past it.
    const asks: string[] = [];
    for (let i = 0; i < 4; i++) {
      const { message, reply } = await askAs(warned, `Note ${i}.`);
      completed(reply);
      asks.push(message.askId!);
    }
    const answered = (id: string) =>
      progress.some((p) => p.askId === id && p.stage === 'answering');
    await waitFor(() => asks.every(answered), { what: 'the progress of every ask' });
    const warnings = progress.filter(
      (p) => p.stage === 'budget_warning' && asks.includes(p.askId!),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      askId: asks[2],
      message: `Tenant ${warned} has used 90% of its monthly token budget for ${monthOf(Date.now())}.`,
    });
    // The claim in the ledger is what keeps it once even where Redis forgot its mark.
    const claims = rowsOf<Record<string, unknown>>(
      await db.query('SELECT kind FROM usage_warning WHERE tenant = $1', [warned]),
    );
    expect(claims).toEqual([{ kind: 'tokens' }]);
  });
});
