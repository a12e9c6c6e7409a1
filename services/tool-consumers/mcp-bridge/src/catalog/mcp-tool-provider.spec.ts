import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  Messages,
  platformTopics,
  ToolDefinition,
  Topics,
  type CatalogSnapshot,
  type RegistryChanged,
} from '@toolbus/contracts';
import { createMemoryBus } from '@toolbus/messaging';
import { createLogger } from '@toolbus/observability';
import { RegistryChangeSigner, RegistryView } from '@toolbus/registry-client';
import { waitFor } from '@toolbus/testing';
import { describe, expect, it } from 'vitest';
import type { McpToolExecutor } from '../bridge/mcp-tool-executor.js';
import { McpToolProvider } from './mcp-tool-provider.js';

const logger = createLogger({ name: 'mcp-bridge-test', level: 'silent' });

const definition = (name: string, over: Record<string, unknown> = {}): ToolDefinition =>
  ToolDefinition.parse({
    name,
    version: '1.0.0',
    title: name,
    description: `Upstream tool ${name}.`,
    inputSchema: {
      type: 'object',
      properties: { text: { type: 'string' } },
      required: ['text'],
    },
    annotations: {},
    owner: 'platform',
    scopes: [],
    transport: { kind: 'kafka', topic: 'tool_requests.mcp-bridge' },
    region: 'eu',
    status: 'approved',
    binding: {
      kind: 'mcp',
      server: 'demo',
      tool: name,
      transport: { kind: 'streamable_http', url: 'http://127.0.0.1:1/mcp' },
    },
    ...over,
  });

const recordingExecutor = () => {
  const calls: Array<{ name: string; version: string; input: unknown }> = [];
  const executor: Pick<McpToolExecutor, 'call'> = {
    call: async (def, input) => {
      calls.push({ name: def.name, version: def.version, input });
      return { content: [{ type: 'text', text: `${def.name}@${def.version}` }] };
    },
  };
  return { calls, executor };
};

describe('McpToolProvider', () => {
  it('serves the MCP-bound definitions of its topic only', () => {
    const view = RegistryView.of([
      definition('demo_echo'),
      definition('elsewhere', {
        transport: { kind: 'kafka', topic: 'tool_requests.mcp-bridge-us' },
      }),
      definition('http_tool', {
        binding: {
          kind: 'http',
          method: 'GET',
          baseUrl: 'https://api.example.com',
          path: '/x',
        },
        transport: { kind: 'kafka', topic: 'tool_requests.http-executor' },
      }),
      definition('plain', { binding: undefined }),
    ]);
    const provider = new McpToolProvider({
      view,
      executor: recordingExecutor().executor,
      topic: 'tool_requests.mcp-bridge',
    });
    expect(provider.list().map((t) => t.name)).toEqual(['demo_echo']);
    expect(provider.get('elsewhere')).toBeUndefined();
    expect(provider.get('http_tool')).toBeUndefined();
    expect(provider.get('nope')).toBeUndefined();
    // Without a topic, every MCP definition.
    const all = new McpToolProvider({ view, executor: recordingExecutor().executor });
    expect(all.list().map((t) => t.name)).toEqual(['demo_echo', 'elsewhere']);
  });

  it("builds one tool per name and version that enforces the definition's input schema", async () => {
    const { calls, executor } = recordingExecutor();
    const provider = new McpToolProvider({
      view: RegistryView.of([definition('demo_echo')]),
      executor,
    });
    const tool = provider.get('demo_echo')!;
    expect(provider.get('demo_echo')).toBe(tool);
    expect(tool.input.safeParse({}).success).toBe(false);
    expect(tool.input.safeParse({ text: 'hi' }).success).toBe(true);
    expect(tool).toMatchObject({ name: 'demo_echo', version: '1.0.0', timeoutMs: 2000 });
    const ctx = { signal: new AbortController().signal, deadline: Date.now() + 1000, logger };
    expect(await tool.handler({ text: 'hi' }, ctx as never)).toEqual({
      content: [{ type: 'text', text: 'demo_echo@1.0.0' }],
    });
    expect(calls).toEqual([{ name: 'demo_echo', version: '1.0.0', input: { text: 'hi' } }]);
  });

  it('rebuilds a tool from the new definition when the registry changes it', async () => {
    // A real view: the snapshot from a registry-shaped HTTP endpoint, changes from the bus.
    const snapshot: CatalogSnapshot = {
      revision: 1,
      tools: [{ name: 'demo_echo', revision: 1, served: [definition('demo_echo')] }],
    };
    // Changes are applied only when the registry signed them: it serves its keys too.
    const signer = await RegistryChangeSigner.generate();
    const registry = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      if (req.url === '/.well-known/jwks.json')
        void signer.jwks().then((k) => res.end(JSON.stringify(k)));
      else res.end(JSON.stringify(snapshot));
    });
    await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
    const bus = createMemoryBus({ serviceName: 'mcp-bridge-test', logger });
    await bus.ensureTopics(platformTopics());
    const view = await RegistryView.start({
      registryUrl: `http://127.0.0.1:${(registry.address() as AddressInfo).port}`,
      bus,
      service: 'mcp-bridge-test',
      logger,
    });
    try {
      const { calls, executor } = recordingExecutor();
      const provider = new McpToolProvider({ view, executor });
      const before = provider.get('demo_echo')!;
      expect(before.version).toBe('1.0.0');

      const changed: RegistryChanged = {
        name: 'demo_echo',
        revision: 2,
        change: { version: '1.1.0', status: 'approved' },
        served: [
          definition('demo_echo', {
            version: '1.1.0',
            inputSchema: { type: 'object', properties: { n: { type: 'integer' } } },
          }),
        ],
        actor: 'registry',
        at: new Date().toISOString(),
      };
      await bus.publish(Topics.registryChanges, {
        type: Messages.registryChanged.type,
        key: 'demo_echo',
        value: { ...changed, signature: await signer.sign(changed) },
      });
      const after = await waitFor(() => {
        const tool = provider.get('demo_echo');
        return tool?.version === '1.1.0' ? tool : undefined;
      });
      expect(after).not.toBe(before);
      expect(after.input.safeParse({ n: 1 }).success).toBe(true);
      expect(after.input.safeParse({ n: 'one' }).success).toBe(false);
      const ctx = { signal: new AbortController().signal, deadline: Date.now() + 1000, logger };
      await after.handler({ n: 1 }, ctx as never);
      expect(calls.at(-1)).toEqual({ name: 'demo_echo', version: '1.1.0', input: { n: 1 } });
      provider.close();
    } finally {
      await view.close();
      await bus.close();
      await new Promise<void>((resolve) => registry.close(() => resolve()));
    }
  });
});
