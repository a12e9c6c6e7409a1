import type { ModelRequest } from '@toolbus/contracts';
import { getEncoding } from 'js-tiktoken';
import { describe, expect, it } from 'vitest';
import { costOf, PriceTable } from './prices.js';
import { ESTIMATE_HIGH, ESTIMATE_LOW, estimateInputTokens } from './token-estimate.js';

const enc = getEncoding('cl100k_base');
const usage = {
  inputTokens: 1_000_000,
  outputTokens: 200_000,
  cacheReadTokens: 500_000,
  cacheWriteTokens: 0,
};

function request(text: string, extra: Partial<ModelRequest> = {}): ModelRequest {
  return {
    contextId: 'ctx-12345678',
    tenant: 'acme',
    model: 'default',
    maxTokens: 1000,
    tools: [],
    messages: [{ role: 'user', content: [{ type: 'text', text }] }],
    ...extra,
  };
}

/** What a BPE tokenizer counts for the same request, framing left out (the estimate adds its own). */
function bpe(r: ModelRequest): number {
  const parts = [r.system ?? ''];
  for (const m of r.messages)
    for (const p of m.content)
      parts.push(
        p.type === 'text'
          ? p.text
          : p.type === 'tool_use'
            ? p.name + JSON.stringify(p.input)
            : p.content.map((c) => c.text).join(''),
      );
  for (const t of r.tools) parts.push(t.name + t.description + JSON.stringify(t.inputSchema));
  return parts.reduce((n, s) => n + enc.encode(s).length, 0);
}

describe('token estimate', () => {
  const samples: Array<[string, ModelRequest]> = [
    [
      'English question',
      request(
        'What is the credit limit for Acme Corp, and has it changed since the last quarterly review?',
      ),
    ],
    [
      'English prose',
      request(
        "The orchestrator loads the caller's allowed tools from the registry and asks the model with their JSON schemas. ".repeat(
          20,
        ),
      ),
    ],
    [
      'JSON tool result',
      request('Summarize', {
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'Summarize' }] },
          {
            role: 'user',
            content: [
              {
                type: 'tool_result',
                toolUseId: 't1',
                isError: false,
                content: [
                  {
                    type: 'text',
                    text: JSON.stringify(
                      Array.from({ length: 30 }, (_, i) => ({
                        id: `cus_${i}`,
                        name: `Customer ${i}`,
                        credit_limit: 1000 * i,
                        currency: 'USD',
                      })),
                    ),
                  },
                ],
              },
            ],
          },
        ],
      }),
    ],
    [
      'tool schemas',
      request('hi', {
        tools: Array.from({ length: 8 }, (_, i) => ({
          name: `tool_${i}`,
          description: 'Looks up a customer account by id and returns its limits and history.',
          inputSchema: {
            type: 'object',
            properties: {
              customer_id: { type: 'string', description: 'The customer id, e.g. cus_001' },
              reason: { type: 'string' },
            },
            required: ['customer_id'],
          },
        })),
      }),
    ],
    [
      'German',
      request(
        'Wie hoch ist das Kreditlimit der Firma Müller & Söhne GmbH in München? Bitte auch die Währung angeben.',
      ),
    ],
    [
      'Japanese',
      request('アクメ社の与信限度額はいくらですか？前回の四半期レビュー以降に変更されましたか？'),
    ],
  ];

  it.each(samples)('stays within its documented bound of a BPE tokenizer: %s', (_name, r) => {
    const estimate = estimateInputTokens(r);
    const actual = bpe(r);
    expect(actual).toBeGreaterThanOrEqual(Math.floor(estimate * ESTIMATE_LOW));
    expect(actual).toBeLessThanOrEqual(Math.ceil(estimate * ESTIMATE_HIGH));
  });
});

describe('prices', () => {
  const prices = PriceTable.parse({
    'anthropic:claude-sonnet-4-5': { input: 3, output: 15, cacheRead: 0.3 },
    'vllm:*': { input: 0, output: 0 },
  });

  it('costs input, output and cache tokens per million', () => {
    expect(costOf(prices, 'anthropic', 'claude-sonnet-4-5', usage)).toEqual({
      usd: 3 + 3 + 0.15,
      priced: true,
    });
  });

  it('prices a provider wildcard and reports unknown models as unpriced', () => {
    expect(costOf(prices, 'vllm', 'Qwen/Qwen2.5-7B-Instruct', usage)).toEqual({
      usd: 0,
      priced: true,
    });
    expect(costOf(prices, 'anthropic', 'claude-unknown', usage)).toEqual({ usd: 0, priced: false });
  });

  it('rejects a malformed price table', () => {
    expect(PriceTable.safeParse({ sonnet: { input: 1, output: 1 } }).success).toBe(false);
    expect(PriceTable.safeParse({ 'anthropic:x': { input: -1, output: 1 } }).success).toBe(false);
  });
});
