import type { ToolDefinition } from '@toolbus/contracts';
import { RegistryView, type CatalogListener, type ServedTool } from '@toolbus/registry-client';
import { SecretStore } from '@toolbus/security';
import type { ToolContext } from '@toolbus/tool-sdk';
import { describe, expect, it } from 'vitest';
import { capturingLogger, httpTool, loopbackFetch } from '../../test/http-tools.js';
import { HttpToolExecutor } from '../executor/http-tool-executor.js';
import { HttpToolProvider, type CatalogView } from './http-tool-provider.js';

const { logger, lines } = capturingLogger();
const executor = new HttpToolExecutor({
  secrets: new SecretStore('/nonexistent'),
  retryAttempts: 1,
  retryBaseMs: 1,
  maxResponseBytes: 1024,
  fetch: loopbackFetch().fetch,
  credentialOrigins: {},
  logger,
});

const getCustomer = httpTool(
  'get_customer',
  { method: 'GET', baseUrl: 'http://127.0.0.1:9', path: '/customers/{id}' },
  { inputSchema: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } },
);
const mcpTool: ToolDefinition = {
  ...httpTool('mcp_search', { method: 'GET', baseUrl: 'http://a.example', path: '/' }),
  binding: {
    kind: 'mcp',
    server: 'docs',
    tool: 'search',
    transport: { kind: 'streamable_http', url: 'http://127.0.0.1:9/mcp' },
  },
};
const unbound: ToolDefinition = { ...getCustomer, name: 'crm_native', binding: undefined };

/** A catalog the test changes by hand, as the registry's change events change a RegistryView. */
class ChangingCatalog implements CatalogView {
  private readonly tools = new Map<string, ServedTool>();
  private readonly listeners = new Set<CatalogListener>();
  set(definition: ToolDefinition, deprecated = false): void {
    this.tools.set(definition.name, { definition, deprecated });
    for (const l of this.listeners) l(definition.name, this.tools.get(definition.name));
  }
  get(name: string) {
    return this.tools.get(name);
  }
  list() {
    return [...this.tools.values()];
  }
  onChange(listener: CatalogListener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  get listenerCount() {
    return this.listeners.size;
  }
}

describe('HttpToolProvider', () => {
  it('serves only the catalog’s HTTP-bound tools, as SDK tools with the definition’s schemas', () => {
    const provider = new HttpToolProvider(
      RegistryView.of([getCustomer, mcpTool, unbound]),
      executor,
      logger,
    );
    expect(provider.list().map((t) => t.name)).toEqual(['get_customer']);
    expect(provider.get('mcp_search')).toBeUndefined();
    expect(provider.get('crm_native')).toBeUndefined();
    expect(provider.get('nope')).toBeUndefined();
    const tool = provider.get('get_customer')!;
    expect(tool).toMatchObject({ kind: 'toolbus.tool', name: 'get_customer', version: '1.0.0' });
    expect(tool.input.safeParse({ id: 'c1' }).success).toBe(true);
    expect(tool.input.safeParse({}).success).toBe(false);
    // Built once, then reused.
    expect(provider.get('get_customer')).toBe(tool);
  });

  it('rebuilds a tool when the catalog changes it, and forgets the listener on close', () => {
    const catalog = new ChangingCatalog();
    catalog.set(getCustomer);
    const provider = new HttpToolProvider(catalog, executor, logger);
    const first = provider.get('get_customer');
    expect(provider.get('get_customer')).toBe(first);
    catalog.set({ ...getCustomer, version: '1.1.0', title: 'Customer v1.1' });
    const second = provider.get('get_customer');
    expect(second).not.toBe(first);
    expect(second).toMatchObject({ version: '1.1.0', title: 'Customer v1.1' });
    // The same version changed in place (approved -> deprecated) is rebuilt too.
    catalog.set({ ...getCustomer, version: '1.1.0', status: 'deprecated' }, true);
    expect(provider.get('get_customer')).not.toBe(second);
    expect(catalog.listenerCount).toBe(1);
    provider.close();
    expect(catalog.listenerCount).toBe(0);
  });

  it('still runs a deprecated version, warning once', () => {
    const catalog = new ChangingCatalog();
    const old = { ...getCustomer, name: 'old_lookup', status: 'deprecated' as const };
    catalog.set(old, true);
    const provider = new HttpToolProvider(catalog, executor, logger);
    expect(provider.get('old_lookup')).toBeDefined();
    expect(provider.get('old_lookup')).toBeDefined();
    catalog.set({ ...old }, true);
    expect(provider.get('old_lookup')).toBeDefined();
    const warnings = lines()
      .split('\n')
      .filter((l) => l.includes('deprecated tool version') && l.includes('"old_lookup"'));
    expect(warnings).toHaveLength(1);
  });

  it('answers calls of a definition that cannot run with the reason, instead of failing', async () => {
    const broken = { ...getCustomer, name: 'broken_tool', outputSchema: { type: 'thing' } };
    const provider = new HttpToolProvider(RegistryView.of([broken]), executor, logger);
    const tool = provider.get('broken_tool')!;
    await expect(tool.handler({}, {} as ToolContext)).rejects.toMatchObject({
      code: 'tool_definition_invalid',
      message: expect.stringMatching(/^broken_tool 1\.0\.0 cannot run: schema is invalid/),
    });
  });
});
