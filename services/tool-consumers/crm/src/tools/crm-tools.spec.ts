import { completedOf, failureOf, toolCall, uniqueName } from '@toolbus/testing';
import { grantEnv, withTestGrant } from '@toolbus/testing-bus';
import {
  runToolConsumer,
  toToolDefinition,
  type RunningToolConsumer,
  type ToolReply,
} from '@toolbus/tool-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crmMigrations, SEED_ACCOUNTS } from '../migrations/index.js';
import { crmTools } from './index.js';

const MAX = 1_000_000;

describe('CRM tool declarations', () => {
  const definitions = crmTools({ CRM_MAX_CREDIT_LIMIT: MAX }).map((tool) =>
    toToolDefinition(tool, {
      owner: 'crm-team',
      region: 'eu',
      transport: { kind: 'kafka', topic: 'tool_requests.crm' },
    }),
  );

  it('describes every input field, since the model reads the descriptions', () => {
    expect(definitions.map((d) => d.name)).toEqual([
      'find_customer',
      'get_credit_limit',
      'update_credit_limit',
    ]);
    for (const d of definitions) {
      const properties = (d.inputSchema as { properties: Record<string, { description?: string }> })
        .properties;
      expect(Object.keys(properties).length).toBeGreaterThan(0);
      for (const [field, schema] of Object.entries(properties))
        expect(schema.description, `${d.name}.${field}`).toMatch(/\w{3,}.*\w{3,}/);
    }
  });

  it('marks the reads read-only and the update destructive and idempotent, with scopes', () => {
    const byName = Object.fromEntries(definitions.map((d) => [d.name, d]));
    for (const read of ['find_customer', 'get_credit_limit'])
      expect(byName[read]).toMatchObject({
        scopes: ['crm:read'],
        sync: true,
        annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
      });
    expect(byName['update_credit_limit']).toMatchObject({
      scopes: ['crm:write'],
      sync: false,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
      inputSchema: {
        required: ['customer_id', 'new_limit', 'reason'],
        properties: { new_limit: { type: 'number', minimum: 0, multipleOf: 0.01 } },
      },
    });
    // The model learns the threshold before it asks for a limit above it.
    expect(byName['update_credit_limit']!.description).toContain('above 1,000,000');
  });
});

describe('CRM tools on an in-process database (PGlite)', () => {
  let consumer: RunningToolConsumer;

  beforeAll(async () => {
    consumer = await runToolConsumer(
      {
        service: 'crm',
        tools: crmTools({ CRM_MAX_CREDIT_LIMIT: MAX }),
        migrations: crmMigrations,
      },
      {
        env: {
          DATABASE_URL: 'pglite://memory',
          PORT: '0',
          MANAGEMENT_PORT: '0',
          LOG_LEVEL: 'silent',
          ...grantEnv(),
        },
      },
    );
  }, 30_000); // PGlite starts and migrates in a few seconds; more on a busy machine
  afterAll(async () => {
    await consumer?.close();
  });

  const invoke = (
    tool: string,
    input: Record<string, unknown>,
    key = uniqueName('key'),
  ): Promise<ToolReply> =>
    withTestGrant(
      'crm',
      toolCall(tool, input, {
        key,
        deadlineMs: 5_000,
        principal: {
          subject: 'carol@acme.example',
          kind: 'user',
          tenant: 'acme',
          scopes: ['crm:read', 'crm:write'],
        },
      }),
    ).then((call) => consumer.runtime.invoke(call, 'http'));
  const ok = completedOf;
  const error = failureOf;
  const limitOf = async (id: string) =>
    (
      (await consumer.db.query('SELECT credit_limit FROM accounts WHERE id = $1', [id])) as Array<{
        credit_limit: string;
      }>
    )[0]!.credit_limit;
  const historyOf = async (id: string) =>
    (await consumer.db.query('SELECT * FROM account_history WHERE account_id = $1 ORDER BY id', [
      id,
    ])) as Array<Record<string, unknown>>;

  it('seeds Acme Corp and more than a dozen other customers', async () => {
    expect(SEED_ACCOUNTS.length).toBeGreaterThanOrEqual(13);
    const rows = (await consumer.db.query(
      'SELECT id, name, currency, credit_limit FROM accounts ORDER BY id',
    )) as Array<Record<string, string>>;
    expect(rows).toHaveLength(SEED_ACCOUNTS.length);
    expect(rows[0]).toEqual({
      id: 'cus_001',
      name: 'Acme Corp',
      currency: 'USD',
      credit_limit: '50000.00',
    });
  });

  describe('input validation', () => {
    it('names each bad field of update_credit_limit and says what is wrong with it', async () => {
      const cases: Array<[Record<string, unknown>, string, string]> = [
        [{ new_limit: -1 }, '/new_limit', 'must be 0 or more: a credit limit cannot be negative'],
        [{ new_limit: 5e15 }, '/new_limit', 'is not a plausible credit limit'],
        [{ new_limit: 100.005 }, '/new_limit', 'must have at most two decimal places'],
        [{ new_limit: '75000' }, '/new_limit', 'Invalid input: expected number, received string'],
        [{ reason: 'ok' }, '/reason', 'must say why, in at least 5 characters'],
        [{ customer_id: 'Acme Corp' }, '/customer_id', 'must be a customer id like cus_001'],
      ];
      for (const [change, pointer, message] of cases) {
        const e = error(
          await invoke('update_credit_limit', {
            customer_id: 'cus_001',
            new_limit: 60_000,
            reason: 'annual review',
            ...change,
          }),
        );
        expect(e).toMatchObject({ class: 'validation', code: 'invalid_input', retryable: false });
        expect(e.issues?.map((i) => i.pointer)).toEqual([pointer]);
        expect(e.message).toContain(`${pointer} ${message}`);
      }
      const missing = error(await invoke('update_credit_limit', { customer_id: 'cus_001' }));
      expect(missing.issues?.map((i) => i.pointer)).toEqual(['/new_limit', '/reason']);
      expect(await historyOf('cus_001')).toEqual([]);
    });

    it('names the field of the read tools', async () => {
      const short = error(await invoke('find_customer', { query: ' a ' }));
      expect(short.message).toBe(
        'invalid input for find_customer: /query must have at least 2 characters',
      );
      const id = error(await invoke('get_credit_limit', { customer_id: 42 }));
      expect(id.issues).toEqual([
        expect.objectContaining({ pointer: '/customer_id', expected: 'string' }),
      ]);
    });
  });

  describe('find_customer', () => {
    it('finds by part of the name or id, ignoring case, exact matches first', async () => {
      const acme = ok(await invoke('find_customer', { query: 'ACME corp' }));
      expect(acme.output).toEqual({
        customers: [{ id: 'cus_001', name: 'Acme Corp', country: 'US' }],
        truncated: false,
      });
      const ltd = ok(await invoke('find_customer', { query: 'ltd' })).output as {
        customers: Array<{ name: string }>;
      };
      expect(ltd.customers.map((c) => c.name)).toEqual([
        'Brightwater Foods Ltd',
        'Deccan Circuit Works Pvt Ltd',
        'Kestrel Aerospace Ltd',
        'Rio Verde Agro Ltda',
        'Southern Cross Mining Pty Ltd',
      ]);
      const byId = ok(await invoke('find_customer', { query: 'CUS_012' })).output as {
        customers: Array<{ id: string }>;
      };
      expect(byId.customers.map((c) => c.id)).toEqual(['cus_012']);
    });

    it('returns at most 10 and says when there are more; LIKE wildcards are plain text', async () => {
      const all = ok(await invoke('find_customer', { query: 'cus_0' })).output as {
        customers: unknown[];
        truncated: boolean;
      };
      expect(all.customers).toHaveLength(10);
      expect(all.truncated).toBe(true);
      expect(ok(await invoke('find_customer', { query: '%%' })).output).toEqual({
        customers: [],
        truncated: false,
      });
      expect(ok(await invoke('find_customer', { query: 'Bouchard & Fils' })).output).toEqual({
        customers: [{ id: 'cus_008', name: 'Bouchard & Fils SA', country: 'FR' }],
        truncated: false,
      });
    });
  });

  describe('get_credit_limit', () => {
    it('returns the limit with its currency', async () => {
      expect(ok(await invoke('get_credit_limit', { customer_id: 'cus_006' })).output).toEqual({
        customer_id: 'cus_006',
        name: 'Sakura Precision KK',
        credit_limit: 9_000_000,
        currency: 'JPY',
      });
    });

    it('answers an unknown customer as not found, pointing to find_customer', async () => {
      expect(error(await invoke('get_credit_limit', { customer_id: 'cus_999' }))).toEqual({
        class: 'not_found',
        code: 'customer_not_found',
        message: 'there is no customer cus_999; find_customer searches customers by name',
        retryable: false,
      });
    });
  });

  describe('update_credit_limit', () => {
    it('changes the limit and records who, why and which call in the history', async () => {
      const key = uniqueName('key');
      const done = ok(
        await invoke(
          'update_credit_limit',
          { customer_id: 'cus_003', new_limit: 82_500.5, reason: 'annual review' },
          key,
        ),
      );
      const history = await historyOf('cus_003');
      expect(done).toMatchObject({
        deduplicated: false,
        output: {
          customer_id: 'cus_003',
          old_limit: 75_000,
          new_limit: 82_500.5,
          currency: 'USD',
          history_id: history[0]!['id'],
        },
      });
      expect(history).toEqual([
        expect.objectContaining({
          field: 'credit_limit',
          old_value: '75000.00',
          new_value: '82500.50',
          reason: 'annual review',
          idempotency_key: key,
          changed_by: 'carol@acme.example',
          tenant: 'acme',
        }),
      ]);
      expect(await limitOf('cus_003')).toBe('82500.50');
    });

    it('repeats of one call change nothing again and return the first result', async () => {
      const key = uniqueName('key');
      const input = { customer_id: 'cus_005', new_limit: 95_000, reason: 'new contract signed' };
      const first = ok(await invoke('update_credit_limit', input, key));
      const again = ok(await invoke('update_credit_limit', input, key));
      expect(again).toMatchObject({ deduplicated: true, output: first.output });
      expect(await historyOf('cus_005')).toHaveLength(1);
      expect(
        error(await invoke('update_credit_limit', { ...input, new_limit: 96_000 }, key)),
      ).toMatchObject({ class: 'validation', code: 'idempotency_key_reused' });
      expect(await limitOf('cus_005')).toBe('95000.00');
    });

    it('refuses a limit above CRM_MAX_CREDIT_LIMIT as a business error and changes nothing', async () => {
      expect(
        error(
          await invoke('update_credit_limit', {
            customer_id: 'cus_007',
            new_limit: MAX + 0.01,
            reason: 'expansion into Quebec',
          }),
        ),
      ).toEqual({
        class: 'business',
        code: 'limit_above_threshold',
        message:
          'a credit limit of 1,000,000.01 is above 1,000,000, the most this tool may set; a credit manager must approve it',
        retryable: false,
      });
      expect(await limitOf('cus_007')).toBe('140000.00');
      expect(await historyOf('cus_007')).toEqual([]);
      // The threshold itself is allowed, and so is 0 (credit hold).
      expect(
        ok(
          await invoke('update_credit_limit', {
            customer_id: 'cus_007',
            new_limit: MAX,
            reason: 'expansion into Quebec',
          }),
        ).output,
      ).toMatchObject({ old_limit: 140_000, new_limit: MAX });
      expect(
        ok(
          await invoke('update_credit_limit', {
            customer_id: 'cus_007',
            new_limit: 0,
            reason: 'payments overdue: credit hold',
          }),
        ).output,
      ).toMatchObject({ old_limit: MAX, new_limit: 0 });
      expect(await limitOf('cus_007')).toBe('0.00');
    });

    it('answers an unknown customer as not found and writes nothing', async () => {
      expect(
        error(
          await invoke('update_credit_limit', {
            customer_id: 'cus_404',
            new_limit: 1_000,
            reason: 'first order',
          }),
        ),
      ).toMatchObject({ class: 'not_found', code: 'customer_not_found' });
      expect(await historyOf('cus_404')).toEqual([]);
    });
  });
});
