import type { ToolDefinition } from '@toolbus/contracts';
import { describe, expect, it } from 'vitest';
import { terms, ToolIndex } from './tool-ranking.js';

function tool(name: string, description: string, tags: string[] = []): ToolDefinition {
  return {
    name,
    version: '1.0.0',
    title: name.replace(/_/g, ' '),
    description,
    inputSchema: { type: 'object' },
    annotations: {
      readOnlyHint: true,
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: false,
    },
    owner: 'team',
    scopes: [],
    timeoutMs: 2000,
    cacheTtlSeconds: 0,
    transport: { kind: 'kafka', topic: 'tool_requests.crm' },
    sync: false,
    region: 'eu',
    tags,
    status: 'approved',
  };
}

/** A catalog the size of an imported GitHub API: hundreds of tools about repositories. */
function bigCatalog(): ToolDefinition[] {
  const nouns = ['repo', 'issue', 'pull', 'branch', 'commit', 'release', 'label', 'team', 'gist'];
  const verbs = ['get', 'list', 'create', 'update', 'delete', 'merge', 'lock', 'archive'];
  const tools: ToolDefinition[] = [];
  for (let i = 0; tools.length < 1000; i++) {
    const noun = nouns[i % nouns.length]!;
    const verb = verbs[Math.floor(i / nouns.length) % verbs.length]!;
    tools.push(tool(`${verb}_${noun}_${i}`, `${verb} a ${noun} of a repository (variant ${i})`));
  }
  return tools;
}

describe('ToolIndex', () => {
  it('splits names and sentences into the same stems', () => {
    expect(terms('get_credit_limit')).toEqual(['credit', 'limit']);
    expect(terms('What are the credit limits of Acme Corp?')).toEqual([
      'credit',
      'limit',
      'acme',
      'corp',
    ]);
    expect(terms('Companies')).toEqual(['company']);
  });

  it('puts the tool the question needs among the few offered out of 1,000', () => {
    const catalog = [
      ...bigCatalog(),
      tool('get_credit_limit', 'The credit limit of a customer account, in its currency', [
        'crm',
        'finance',
      ]),
      tool('find_customer', 'Finds customer accounts by name; returns their ids', ['crm']),
    ];
    const index = new ToolIndex(catalog);
    const offered = index.rank('What is the credit limit for Acme Corp?', 32).map((t) => t.name);
    expect(offered).toHaveLength(32);
    expect(offered[0]).toBe('get_credit_limit');
    const customer = index.rank('Which customer is called Acme Corp?', 32).map((t) => t.name);
    expect(customer[0]).toBe('find_customer');
  });

  it('ranks the same way every time, ties broken by name', () => {
    const index = new ToolIndex([tool('b_tool', 'stock'), tool('a_tool', 'stock')]);
    expect(index.rank('stock', 2).map((t) => t.name)).toEqual(['a_tool', 'b_tool']);
    expect(index.rank('nothing matches', 2).map((t) => t.name)).toEqual(['a_tool', 'b_tool']);
  });

  it('searches only what matches, leaving out what was already offered', () => {
    const index = new ToolIndex([
      tool('reserve_stock', 'Reserves stock of a product'),
      tool('get_inventory', 'Stock on hand per warehouse'),
      tool('find_customer', 'Customer accounts by name'),
    ]);
    // A word in the name counts more than one in the description.
    expect(index.search('stock', 10).map((t) => t.name)).toEqual([
      'reserve_stock',
      'get_inventory',
    ]);
    expect(index.search('stock', 10, new Set(['reserve_stock'])).map((t) => t.name)).toEqual([
      'get_inventory',
    ]);
    expect(index.search('weather', 10)).toEqual([]);
  });
});
