import {
  ModelRequest,
  type ChatMessage,
  type ContentPart,
  type ToolSpec,
} from '@toolbus/contracts';
import { describe, expect, it } from 'vitest';
import { planOffline, type PlannerResult } from './offline-planner.js';

const findCustomer: ToolSpec = {
  name: 'find_customer',
  description:
    'Find customers by name. Returns the matching customers with their ids, names and countries.',
  inputSchema: {
    type: 'object',
    properties: { query: { type: 'string', description: 'Name or part of the name' } },
    required: ['query'],
  },
};
const getCreditLimit: ToolSpec = {
  name: 'get_credit_limit',
  description: "Get a customer's current credit limit and its currency.",
  inputSchema: {
    type: 'object',
    properties: { customer_id: { type: 'string', description: 'Customer id, e.g. cus_001' } },
    required: ['customer_id'],
  },
};
const updateCreditLimit: ToolSpec = {
  name: 'update_credit_limit',
  description: "Change a customer's credit limit. Requires a reason, which is audited.",
  inputSchema: {
    type: 'object',
    properties: {
      customer_id: { type: 'string', description: 'Customer id, e.g. cus_001' },
      new_limit: { type: 'number', description: 'The new credit limit in the customer currency' },
      reason: { type: 'string', description: 'Why the limit changes' },
    },
    required: ['customer_id', 'new_limit', 'reason'],
  },
};
const getInventory: ToolSpec = {
  name: 'get_inventory',
  description: 'Stock on hand and reserved for a product SKU, per warehouse.',
  inputSchema: {
    type: 'object',
    properties: {
      sku: { type: 'string', description: 'Stock keeping unit, e.g. SKU-42' },
      warehouse: {
        type: 'string',
        enum: ['berlin', 'austin', 'tokyo'],
        description: 'Only this warehouse',
      },
    },
    required: ['sku'],
  },
};
const listOrders: ToolSpec = {
  name: 'list_orders',
  description: 'List the orders of a customer, optionally by status.',
  inputSchema: {
    type: 'object',
    properties: {
      customer_id: { type: 'string', description: 'Customer id, e.g. cus_001' },
      status: { type: 'string', enum: ['open', 'shipped', 'cancelled'] },
      include_archived: { type: 'boolean', description: 'Also list archived orders' },
    },
    required: ['customer_id'],
  },
};
const getOrder: ToolSpec = {
  name: 'get_order',
  description: 'One order with its lines.',
  inputSchema: {
    type: 'object',
    properties: { order_id: { type: 'integer', description: 'Order number' } },
    required: ['order_id'],
  },
};
const crmTools = [findCustomer, getCreditLimit, updateCreditLimit];
const orderTools = [findCustomer, listOrders, getOrder];
const allTools = [...crmTools, getInventory];

const PHRASE = 'Offline planner (no language model)';

/** A request as the orchestrator sends it, validated by the real contract. */
function request(messages: ChatMessage[], tools: ToolSpec[] = allTools): ModelRequest {
  return ModelRequest.parse({
    contextId: 'ctx-offline-0001',
    tenant: 'acme',
    model: 'default',
    messages,
    tools,
    maxTokens: 1024,
  });
}

const ask = (question: string): ChatMessage => ({
  role: 'user',
  content: [{ type: 'text', text: question }],
});

/** The conversation so far plus the planner's turn and the tool's answer to its one call. */
function continueWith(
  messages: ChatMessage[],
  turn: PlannerResult,
  result: unknown,
  isError = false,
): ChatMessage[] {
  const call = turn.toolCalls[0];
  if (call === undefined) throw new Error('the planner made no tool call');
  const text = typeof result === 'string' ? result : JSON.stringify(result);
  return [
    ...messages,
    { role: 'assistant', content: turn.content },
    {
      role: 'user',
      content: [
        { type: 'tool_result', toolUseId: call.id, content: [{ type: 'text', text }], isError },
      ],
    },
  ];
}

function textOf(turn: PlannerResult): string {
  return turn.content.flatMap((p: ContentPart) => (p.type === 'text' ? [p.text] : [])).join(' ');
}

describe('planOffline', () => {
  it('looks a named customer up with the finder, then answers from the credit limit', () => {
    const first = [ask('What is the credit limit for Acme Corp?')];
    const turn1 = planOffline(request(first));
    expect(turn1.stopReason).toBe('tool_use');
    expect(turn1.toolCalls).toEqual([
      { id: 'offline_1', name: 'find_customer', input: { query: 'Acme Corp' } },
    ]);
    expect(turn1.content.filter((p) => p.type === 'tool_use')).toEqual([
      { type: 'tool_use', id: 'offline_1', name: 'find_customer', input: { query: 'Acme Corp' } },
    ]);

    const second = continueWith(first, turn1, [{ id: 'cus_001', name: 'Acme Corp' }]);
    const turn2 = planOffline(request(second));
    expect(turn2.stopReason).toBe('tool_use');
    expect(turn2.toolCalls).toEqual([
      { id: 'offline_2', name: 'get_credit_limit', input: { customer_id: 'cus_001' } },
    ]);

    const third = continueWith(second, turn2, {
      customer_id: 'cus_001',
      name: 'Acme Corp',
      credit_limit: 50000,
      currency: 'USD',
    });
    const turn3 = planOffline(request(third));
    expect(turn3.stopReason).toBe('end_turn');
    expect(turn3.toolCalls).toEqual([]);
    expect(textOf(turn3)).toBe(
      `${PHRASE}: get_credit_limit for Acme Corp: credit limit 50,000 USD (customer_id cus_001).`,
    );
  });

  it('says plainly that no tool fits a question the tools cannot answer', () => {
    const turn = planOffline(request([ask('What is the weather in Paris?')], crmTools));
    expect(turn.stopReason).toBe('end_turn');
    expect(turn.toolCalls).toEqual([]);
    const text = textOf(turn);
    expect(text.startsWith(`${PHRASE}: no tool fits this question`)).toBe(true);
    expect(text).toContain('find_customer, get_credit_limit and update_credit_limit');
    expect(text).not.toMatch(/°|sunny|rain/i);
  });

  it('says that no tools were offered when the request has none', () => {
    const turn = planOffline(request([ask('What is the credit limit for Acme Corp?')], []));
    expect(textOf(turn)).toBe(
      `${PHRASE}: no tool fits this question, because no tools were offered.`,
    );
  });

  it('calls the tool directly when the question gives the id', () => {
    const turn = planOffline(request([ask('What is the credit limit of cus_007?')]));
    expect(turn.toolCalls).toEqual([
      { id: 'offline_1', name: 'get_credit_limit', input: { customer_id: 'cus_007' } },
    ]);
  });

  it('fills an enum argument from the value the question mentions', () => {
    const turn = planOffline(
      request([ask('What is the inventory of SKU-42 in the Tokyo warehouse?')]),
    );
    expect(turn.toolCalls).toEqual([
      { id: 'offline_1', name: 'get_inventory', input: { sku: 'SKU-42', warehouse: 'tokyo' } },
    ]);
  });

  it('leaves an optional enum out when the question names no value', () => {
    const turn = planOffline(request([ask('How much stock of SKU-42 is on hand?')]));
    expect(turn.toolCalls).toEqual([
      { id: 'offline_1', name: 'get_inventory', input: { sku: 'SKU-42' } },
    ]);
  });

  it('says nothing matched when the finder returns no match', () => {
    const first = [ask('What is the credit limit for Globex Corporation?')];
    const turn1 = planOffline(request(first));
    expect(turn1.toolCalls[0]?.input).toEqual({ query: 'Globex Corporation' });
    const turn2 = planOffline(request(continueWith(first, turn1, [])));
    expect(turn2.stopReason).toBe('end_turn');
    expect(turn2.toolCalls).toEqual([]);
    expect(textOf(turn2)).toBe(
      `${PHRASE}: nothing matched "Globex Corporation": find_customer found no match, ` +
        'so get_credit_limit was not called.',
    );
  });

  it('says the tool failed and quotes its message', () => {
    const first = [ask('What is the credit limit of cus_999?')];
    const turn1 = planOffline(request(first));
    const error = {
      class: 'not_found',
      code: 'customer_not_found',
      message: 'No customer with id cus_999',
      retryable: false,
    };
    const turn2 = planOffline(request(continueWith(first, turn1, error, true)));
    expect(turn2.stopReason).toBe('end_turn');
    expect(textOf(turn2)).toBe(
      `${PHRASE}: the tool get_credit_limit failed: "No customer with id cus_999".`,
    );
  });

  it('quotes a failed tool result that is plain text', () => {
    const first = [ask('What is the credit limit of cus_001?')];
    const turn1 = planOffline(request(first));
    const turn2 = planOffline(request(continueWith(first, turn1, 'CRM is down', true)));
    expect(textOf(turn2)).toBe(`${PHRASE}: the tool get_credit_limit failed: "CRM is down".`);
  });

  it('gives the same result for the same request', () => {
    const first = [ask('What is the credit limit for Acme Corp?')];
    expect(planOffline(request(first))).toEqual(planOffline(request(first)));
    const second = continueWith(first, planOffline(request(first)), [{ id: 'cus_001' }]);
    expect(planOffline(request(second))).toEqual(planOffline(request(second)));
  });

  it('chooses a write tool only when the question says to change something', () => {
    const read = planOffline(request([ask('What is the credit limit of cus_001?')]));
    expect(read.toolCalls[0]?.name).toBe('get_credit_limit');

    const write = planOffline(
      request([ask('Set the credit limit of cus_001 to 75,000 because of the new contract')]),
    );
    expect(write.toolCalls).toEqual([
      {
        id: 'offline_1',
        name: 'update_credit_limit',
        input: { customer_id: 'cus_001', new_limit: 75000, reason: 'the new contract' },
      },
    ]);

    const quoted = planOffline(
      request([ask("Please increase cus_001's credit limit to $1.2m, reason 'annual review'")]),
    );
    expect(quoted.toolCalls[0]?.input).toEqual({
      customer_id: 'cus_001',
      new_limit: 1_200_000,
      reason: 'annual review',
    });
  });

  it('does not treat a write verb that is not a command as one', () => {
    const turn = planOffline(request([ask('What is the limit set for cus_001 right now?')]));
    expect(turn.toolCalls[0]?.name).toBe('get_credit_limit');
  });

  it('does not call a tool whose required arguments the question does not give', () => {
    const turn = planOffline(request([ask('Set the credit limit of cus_001 to 80k')]));
    expect(turn.toolCalls).toEqual([]);
    expect(textOf(turn)).toBe(
      `${PHRASE}: update_credit_limit looks like the tool for this question, but the offline ` +
        'planner could not tell reason from the question, so it did not call it.',
    );
  });

  it('says which id it cannot tell when there is neither an id nor a name', () => {
    const turn = planOffline(request([ask('What is the credit limit of this customer?')]));
    expect(turn.toolCalls).toEqual([]);
    expect(textOf(turn)).toContain('could not tell customer_id from the question');
  });

  it('looks the id up before a write too, and keeps the other arguments', () => {
    const first = [ask('Raise the credit limit of Acme Corp to 60k because of strong payments')];
    const turn1 = planOffline(request(first));
    expect(turn1.toolCalls[0]).toMatchObject({
      name: 'find_customer',
      input: { query: 'Acme Corp' },
    });
    const turn2 = planOffline(
      request(continueWith(first, turn1, { customers: [{ id: 'cus_001' }] })),
    );
    expect(Object.keys(turn2.toolCalls[0]?.input ?? {})).toEqual([
      'customer_id',
      'new_limit',
      'reason',
    ]);
    expect(turn2.toolCalls).toEqual([
      {
        id: 'offline_2',
        name: 'update_credit_limit',
        input: { customer_id: 'cus_001', new_limit: 60000, reason: 'strong payments' },
      },
    ]);
  });

  it('says when the finder matched several records and the first was used', () => {
    const first = [ask('What is the credit limit for Acme?')];
    const turn1 = planOffline(request(first));
    const matches = [
      { id: 'cus_001', name: 'Acme Corp' },
      { id: 'cus_009', name: 'Acme Logistics' },
    ];
    const second = continueWith(first, turn1, matches);
    const turn2 = planOffline(request(second));
    const turn3 = planOffline(
      request(
        continueWith(second, turn2, {
          customer_id: 'cus_001',
          credit_limit: 50000,
          currency: 'EUR',
        }),
      ),
    );
    expect(textOf(turn3)).toBe(
      `${PHRASE}: get_credit_limit for Acme Corp: credit limit 50,000 EUR (customer_id cus_001). ` +
        '(find_customer matched 2 records for "Acme"; this is the first, customer_id cus_001.)',
    );
  });

  it('answers a finder question from the finder itself', () => {
    const first = [ask('Find customers named "Acme"')];
    const turn1 = planOffline(request(first));
    expect(turn1.toolCalls[0]).toMatchObject({ name: 'find_customer', input: { query: 'Acme' } });
    const turn2 = planOffline(
      request(continueWith(first, turn1, [{ id: 'cus_001', name: 'Acme Corp', country: 'DE' }])),
    );
    expect(textOf(turn2)).toBe(
      `${PHRASE}: find_customer found 1 result: Acme Corp: country: DE (id cus_001).`,
    );
  });

  it('renders other results as key: value pairs with separated thousands', () => {
    const first = [ask('Stock of SKU-42 in Berlin?')];
    const turn1 = planOffline(request(first));
    expect(turn1.toolCalls[0]?.input).toEqual({ sku: 'SKU-42', warehouse: 'berlin' });
    const turn2 = planOffline(
      request(
        continueWith(first, turn1, {
          sku: 'SKU-42',
          warehouse: 'berlin',
          on_hand: 12500,
          reserved: 40,
          discontinued: false,
        }),
      ),
    );
    expect(textOf(turn2)).toBe(
      `${PHRASE}: get_inventory: sku: SKU-42, warehouse: berlin, on hand: 12,500, reserved: 40, ` +
        'discontinued: no.',
    );
  });

  it('continues the tool_use id count of the conversation', () => {
    const earlier: ChatMessage[] = [
      ask('What is the credit limit of cus_001?'),
      {
        role: 'assistant',
        content: [
          {
            type: 'tool_use',
            id: 'toolu_a',
            name: 'get_credit_limit',
            input: { customer_id: 'cus_001' },
          },
        ],
      },
      {
        role: 'user',
        content: [
          {
            type: 'tool_result',
            toolUseId: 'toolu_a',
            content: [{ type: 'text', text: '{}' }],
            isError: false,
          },
        ],
      },
      { role: 'assistant', content: [{ type: 'text', text: 'It is 50,000 USD.' }] },
      ask('And the inventory of SKU-7?'),
    ];
    const turn = planOffline(request(earlier));
    expect(turn.toolCalls).toEqual([
      { id: 'offline_2', name: 'get_inventory', input: { sku: 'SKU-7' } },
    ]);
  });

  it('estimates usage as the budget check does (UTF-8 bytes / 4, plus framing) and caches nothing', () => {
    const turn = planOffline(request([ask('What is the weather in Paris?')], []));
    const text = textOf(turn);
    expect(turn.usage).toEqual({
      // 29 bytes → 8 tokens, plus 4 for the one message's framing.
      inputTokens: 12,
      outputTokens: Math.ceil(Buffer.byteLength(text) / 4),
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
    });
  });

  it('gives an id to the property the question says it belongs to', () => {
    const byOrder = planOffline(request([ask('Status of order #778?')], orderTools));
    expect(byOrder.toolCalls).toEqual([
      { id: 'offline_1', name: 'get_order', input: { order_id: 778 } },
    ]);
    const byCustomer = planOffline(
      request([ask('What is the credit limit for customer 12345?')], crmTools),
    );
    expect(byCustomer.toolCalls[0]?.input).toEqual({ customer_id: '12345' });
  });

  it('fills enums and booleans of a looked-up call and renders nested lists', () => {
    const first = [ask('Show shipped orders of Initech Systems, including archived')];
    const turn1 = planOffline(request(first, orderTools));
    expect(turn1.toolCalls[0]?.input).toEqual({ query: 'Initech Systems' });
    const second = continueWith(first, turn1, [{ customer_id: 'cus_004', name: 'Initech' }]);
    const turn2 = planOffline(request(second, orderTools));
    expect(turn2.toolCalls[0]).toMatchObject({
      name: 'list_orders',
      input: { customer_id: 'cus_004', status: 'shipped', include_archived: true },
    });
    const orders = [
      { order_id: 5001, total: 1299.5, currency: 'EUR', lines: [{ sku: 'SKU-1', qty: 2 }] },
    ];
    const turn3 = planOffline(request(continueWith(second, turn2, orders), orderTools));
    expect(textOf(turn3)).toBe(
      `${PHRASE}: list_orders found 1 result: total 1,299.5 EUR, lines: (sku: SKU-1, qty: 2) ` +
        '(order_id 5001).',
    );
  });

  it('says it is the offline planner in every text it writes', () => {
    const first = [ask('What is the credit limit for Acme Corp?')];
    const turn1 = planOffline(request(first));
    for (const turn of [turn1, planOffline(request([ask('Hello there')]))]) {
      const texts = turn.content.flatMap((p) => (p.type === 'text' ? [p.text] : []));
      expect(texts.length).toBeGreaterThan(0);
      for (const text of texts) expect(text).toContain(PHRASE);
    }
  });
});
