import { McpUpstreamRequest, RegisterToolRequest } from '@toolbus/contracts';
import { describe, expect, it } from 'vitest';
import {
  registryToolName,
  snakeCase,
  toToolDefinitions,
  type UpstreamTool,
} from './mcp-tool-mapping.js';

const upstream = (over: Partial<McpUpstreamRequest> = {}): McpUpstreamRequest =>
  McpUpstreamRequest.parse({
    name: 'crm-tools',
    transport: { kind: 'streamable_http', url: 'https://mcp.crm.example/mcp' },
    owner: 'crm-team',
    region: 'eu',
    scopes: ['crm:read'],
    tags: ['crm'],
    timeoutMs: 4000,
    ...over,
  });

const tool = (name: string, over: Partial<UpstreamTool> = {}): UpstreamTool => ({
  name,
  description: `Does ${name}.`,
  inputSchema: { type: 'object', properties: { id: { type: 'string' } } },
  ...over,
});

const WithoutVersion = RegisterToolRequest.omit({ version: true });

describe('snakeCase', () => {
  it.each([
    ['getCustomer', 'get_customer'],
    ['getHTTPResponse', 'get_http_response'],
    ['list-open.orders', 'list_open_orders'],
    ['Search Docs', 'search_docs'],
    ['files/read', 'files_read'],
    ['__already__snake__', 'already_snake'],
    ['v2Users', 'v2_users'],
    ['ALLCAPS', 'allcaps'],
  ])('%s → %s', (input, expected) => {
    expect(snakeCase(input)).toBe(expected);
  });
});

describe('toToolDefinitions', () => {
  it('prefixes names with the upstream name (- as _) by default', () => {
    const { definitions, skipped } = toToolDefinitions(upstream(), [tool('getCustomer')]);
    expect(skipped).toEqual([]);
    expect(definitions.map((d) => [d.upstreamTool, d.definition.name])).toEqual([
      ['getCustomer', 'crm_tools_get_customer'],
    ]);
  });

  it('uses an explicit prefix, or none when the prefix is null', () => {
    expect(
      toToolDefinitions(upstream({ prefix: 'billing_' }), [tool('get-invoice')]).definitions[0]
        ?.definition.name,
    ).toBe('billing_get_invoice');
    expect(
      toToolDefinitions(upstream({ prefix: null }), [tool('get-invoice')]).definitions[0]
        ?.definition.name,
    ).toBe('get_invoice');
  });

  it('skips names that cannot be made valid, with the reason, and keeps the good ones', () => {
    const { definitions, skipped } = toToolDefinitions(upstream({ prefix: null }), [
      tool('Ωmega'),
      tool('---'),
      tool('3d-render'),
      tool(`x${'y'.repeat(64)}`),
      tool('fine'),
    ]);
    expect(definitions.map((d) => d.definition.name)).toEqual(['fine']);
    expect(skipped).toEqual([
      {
        tool: 'Ωmega',
        reason:
          'name "Ωmega" has characters other than ASCII letters, digits, _, -, ., / and spaces',
      },
      { tool: '---', reason: 'name "---" has no letters or digits' },
      {
        tool: '3d-render',
        reason: '"3d_render" is not a valid tool name: it must start with a lower-case letter',
      },
      {
        tool: `x${'y'.repeat(64)}`,
        reason: `"x${'y'.repeat(64)}" is longer than 64 characters (the registry's limit)`,
      },
    ]);
  });

  it('a prefix can make a name valid that would not be on its own', () => {
    expect(registryToolName({ name: 'render', prefix: undefined }, '3d-render')).toEqual({
      name: 'render_3d_render',
    });
  });

  it('skips every tool of a collision and a tool listed twice, never just one of them', () => {
    const { definitions, skipped } = toToolDefinitions(upstream(), [
      tool('get-user'),
      tool('get_user'),
      tool('getUser'),
      tool('twice'),
      tool('twice'),
      tool('other'),
    ]);
    expect(definitions.map((d) => d.upstreamTool)).toEqual(['other']);
    expect(skipped).toEqual([
      {
        tool: 'get-user',
        reason: 'collides with "get_user", "getUser": all map to "crm_tools_get_user"',
      },
      {
        tool: 'get_user',
        reason: 'collides with "get-user", "getUser": all map to "crm_tools_get_user"',
      },
      {
        tool: 'getUser',
        reason: 'collides with "get-user", "get_user": all map to "crm_tools_get_user"',
      },
      { tool: 'twice', reason: 'the server lists "twice" more than once' },
    ]);
  });

  it('skips tools whose input or output schema does not describe an object', () => {
    const { definitions, skipped } = toToolDefinitions(upstream(), [
      tool('str', { inputSchema: { type: 'string' } }),
      tool('none', { inputSchema: undefined }),
      tool('list', { inputSchema: [] }),
      tool('out', { outputSchema: { type: 'array', items: {} } }),
      tool('ok', { outputSchema: { type: 'object', properties: {} } }),
    ]);
    expect(definitions.map((d) => d.upstreamTool)).toEqual(['ok']);
    expect(skipped).toEqual([
      {
        tool: 'str',
        reason:
          'inputSchema must be a JSON Schema of type "object" (MCP requires it); got type "string"',
      },
      {
        tool: 'none',
        reason: 'inputSchema must be a JSON Schema of type "object" (MCP requires it); got none',
      },
      {
        tool: 'list',
        reason:
          'inputSchema must be a JSON Schema of type "object" (MCP requires it); got a JSON array',
      },
      {
        tool: 'out',
        reason:
          'outputSchema must be a JSON Schema of type "object" (structured content is an object); got type "array"',
      },
    ]);
  });

  it('takes the title from title, then annotations.title, then the name; the description falls back to the title', () => {
    const { definitions } = toToolDefinitions(upstream(), [
      tool('a', { title: 'Title A', annotations: { title: 'Annotated A' } }),
      tool('b', { annotations: { title: 'Annotated B' }, description: '  ' }),
      tool('c', { description: undefined }),
    ]);
    expect(definitions.map((d) => [d.definition.title, d.definition.description])).toEqual([
      ['Title A', 'Does a.'],
      ['Annotated B', 'Annotated B'],
      ['c', 'c'],
    ]);
  });

  it("applies MCP's annotation defaults; a read-only tool is never destructive", () => {
    const { definitions } = toToolDefinitions(upstream(), [
      tool('plain'),
      tool('reader', { annotations: { readOnlyHint: true, destructiveHint: true } }),
      tool('writer', {
        annotations: { destructiveHint: false, idempotentHint: true, openWorldHint: false },
      }),
    ]);
    expect(definitions.map((d) => d.definition.annotations)).toEqual([
      { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
      { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: true },
      { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    ]);
  });

  it('fills the governance fields from the upstream and binds the tool to the bridge', () => {
    const outputSchema = { type: 'object', properties: { sum: { type: 'number' } } };
    const { definitions } = toToolDefinitions(upstream({ credentialsSecret: 'crm-mcp-token' }), [
      tool('add', { outputSchema }),
    ]);
    expect(definitions[0]?.definition).toEqual({
      name: 'crm_tools_add',
      title: 'add',
      description: 'Does add.',
      inputSchema: { type: 'object', properties: { id: { type: 'string' } } },
      outputSchema,
      annotations: {
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: false,
        openWorldHint: true,
      },
      owner: 'crm-team',
      scopes: ['crm:read'],
      timeoutMs: 4000,
      cacheTtlSeconds: 0,
      transport: { kind: 'kafka', topic: 'tool_requests.mcp-bridge' },
      sync: false,
      region: 'eu',
      tags: ['crm'],
      binding: {
        kind: 'mcp',
        server: 'crm-tools',
        tool: 'add',
        transport: { kind: 'streamable_http', url: 'https://mcp.crm.example/mcp' },
        credentialsSecret: 'crm-mcp-token',
      },
    });
    const stdio = toToolDefinitions(
      upstream({
        transport: { kind: 'stdio', command: 'npx', args: ['-y', 'some-mcp'] },
        executorTopic: 'tool_requests.mcp-bridge-eu',
      }),
      [tool('add')],
    ).definitions[0]?.definition;
    expect(stdio?.binding).toEqual({
      kind: 'mcp',
      server: 'crm-tools',
      tool: 'add',
      transport: { kind: 'stdio', command: 'npx', args: ['-y', 'some-mcp'] },
    });
    expect(stdio?.transport).toEqual({ kind: 'kafka', topic: 'tool_requests.mcp-bridge-eu' });
  });

  it('returns only definitions that pass RegisterToolRequest without (and with) a version', () => {
    const { definitions } = toToolDefinitions(upstream(), [
      tool('a'),
      tool('b', { title: 't'.repeat(500), description: 'd'.repeat(20_000) }),
      tool('c', { annotations: { readOnlyHint: 'yes' as unknown as boolean } }),
    ]);
    expect(definitions).toHaveLength(3);
    for (const { definition } of definitions) {
      expect(WithoutVersion.parse(definition)).toEqual(definition);
      expect(RegisterToolRequest.parse({ ...definition, version: '1.0.0' }).name).toBe(
        definition.name,
      );
    }
    expect(definitions[1]?.definition.title).toHaveLength(200);
    expect(definitions[1]?.definition.description).toHaveLength(10_000);
  });
});
