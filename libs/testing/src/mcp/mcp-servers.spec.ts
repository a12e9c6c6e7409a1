import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  ErrorCode,
  McpError,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../wait.js';
import { startMcpHttpServer, type McpHttpTestServer } from './http-server.js';
import { createMcpStdioFixture, exampleStdioTools, type McpStdioFixture } from './stdio.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function httpClient(server: McpHttpTestServer, token?: string): Promise<Client> {
  const client = new Client({ name: 'spec', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(server.url), {
    requestInit: token ? { headers: { Authorization: `Bearer ${token}` } } : {},
  });
  await client.connect(transport);
  cleanups.push(() => client.close());
  return client;
}

describe('startMcpHttpServer', () => {
  it('serves tools page by page, structured output, tool errors and unknown tools', async () => {
    const server = await startMcpHttpServer({ pageSize: 2 });
    cleanups.push(() => server.close());
    const client = await httpClient(server);

    const first = await client.listTools();
    expect(first.tools.map((t) => t.name)).toEqual(['echo', 'add']);
    const second = await client.listTools({ cursor: first.nextCursor! });
    expect(second.tools.map((t) => t.name)).toEqual(['fail', 'mixed_content']);
    expect(second.nextCursor).toBe('4');

    expect(await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })).toMatchObject({
      structuredContent: { sum: 5 },
    });
    expect(await client.callTool({ name: 'fail', arguments: {} })).toEqual({
      content: [{ type: 'text', text: 'the account is locked' }],
      isError: true,
    });
    const unknown = await client.callTool({ name: 'nope', arguments: {} }).catch((e) => e);
    expect(unknown).toBeInstanceOf(McpError);
    expect((unknown as McpError).code).toBe(ErrorCode.InvalidParams);
    const invalid = await client.callTool({ name: 'add', arguments: { a: 'x' } }).catch((e) => e);
    expect((invalid as McpError).code).toBe(ErrorCode.InvalidParams);
  });

  it('refuses requests without the bearer token and records every Authorization header', async () => {
    const server = await startMcpHttpServer({ token: 'upstream-secret' });
    cleanups.push(() => server.close());

    const refused = await httpClient(server, 'wrong').catch((e) => e);
    expect(refused).toBeInstanceOf(StreamableHTTPError);
    expect((refused as StreamableHTTPError).code).toBe(401);

    const client = await httpClient(server, 'upstream-secret');
    await client.callTool({ name: 'echo', arguments: { text: 'hi' } });
    const calls = server.requests.filter((r) => r.tool === 'echo');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ authorization: 'Bearer upstream-secret', status: 200 });
    expect(server.requests[0]).toMatchObject({ authorization: 'Bearer wrong', status: 401 });
  });

  it('tells connected clients when the tool list changes', async () => {
    const server = await startMcpHttpServer();
    cleanups.push(() => server.close());
    const client = await httpClient(server);
    let changes = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      changes++;
    });
    await waitFor(() => server.openStreams() === 1, { what: 'the client to open its stream' });

    await server.addTool({ name: 'late', description: 'Added at run time.' });
    await waitFor(() => changes === 1, { what: 'list_changed' });
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('late');
    await server.removeTool('late');
    await waitFor(() => changes === 2, { what: 'the second list_changed' });
  });
});

describe('the stdio MCP server', () => {
  async function fixture(): Promise<McpStdioFixture> {
    const f = await createMcpStdioFixture();
    cleanups.push(() => f.cleanup());
    return f;
  }
  async function stdioClient(f: McpStdioFixture): Promise<{
    client: Client;
    transport: StdioClientTransport;
  }> {
    const transport = new StdioClientTransport({
      command: f.command,
      args: f.args,
      stderr: 'pipe',
    });
    const client = new Client({ name: 'spec', version: '1.0.0' });
    await client.connect(transport);
    cleanups.push(() => client.close());
    return { client, transport };
  }

  it('serves the tools of its file and re-reads the file when it changes', async () => {
    const f = await fixture();
    const { client } = await stdioClient(f);
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual([
      'echo',
      'add',
      'fail',
      'crash',
      'whoami',
    ]);
    expect(await client.callTool({ name: 'fail', arguments: {} })).toMatchObject({
      isError: true,
    });
    let changes = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      changes++;
    });
    await f.setTools([...exampleStdioTools(), { name: 'late', description: 'Added later.' }]);
    await waitFor(() => changes === 1, { what: 'list_changed from the stdio server' });
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('late');
  });

  it('exits when a crash tool is called, closing the connection', async () => {
    const f = await fixture();
    const { client, transport } = await stdioClient(f);
    let closed = false;
    client.onclose = () => {
      closed = true;
    };
    expect(transport.pid).toBeGreaterThan(0);
    const error = await client.callTool({ name: 'crash', arguments: {} }).catch((e) => e);
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).code).toBe(ErrorCode.ConnectionClosed);
    await waitFor(() => closed, { what: 'the client to see the process end' });
  });
});
