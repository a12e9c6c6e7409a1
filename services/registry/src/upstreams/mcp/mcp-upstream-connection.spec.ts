import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McpUpstreamRequest } from '@toolbus/contracts';
import { createLogger } from '@toolbus/observability';
import { SecretStore } from '@toolbus/security';
import {
  createMcpStdioFixture,
  exampleMcpTools,
  exampleStdioTools,
  startMcpHttpServer,
  waitFor,
  type McpStdioFixture,
} from '@toolbus/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { toToolDefinitions } from './mcp-tool-mapping.js';
import { McpUpstreamConnection, McpUpstreamError } from './mcp-upstream-connection.js';

const logger = createLogger({ name: 'registry-test', level: 'silent' });
let secretsDir: string;
let secrets: SecretStore;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  secretsDir = await mkdtemp(join(tmpdir(), 'registry-secrets-'));
  await mkdir(join(secretsDir, 'upstream-token'));
  await writeFile(join(secretsDir, 'upstream-token', 'token'), 'upstream-secret-1\n');
  secrets = new SecretStore(secretsDir);
});
afterAll(() => rm(secretsDir, { recursive: true, force: true }));
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const httpUpstream = (url: string, over: Record<string, unknown> = {}) =>
  McpUpstreamRequest.parse({
    name: 'demo',
    transport: { kind: 'streamable_http', url },
    owner: 'platform',
    region: 'eu',
    timeoutMs: 5000,
    ...over,
  });

/** The test servers' command (node) and a command that does not exist. */
const stdioCommands = [process.execPath, '/nonexistent/mcp-server'];

async function connect(upstream: McpUpstreamRequest): Promise<McpUpstreamConnection> {
  const connection = await McpUpstreamConnection.connect(upstream, {
    secrets,
    logger,
    stdioCommands,
  });
  cleanups.push(() => connection.close());
  return connection;
}

describe('McpUpstreamConnection over Streamable HTTP', () => {
  it('lists every tool across pages, and the mapping turns them into definitions', async () => {
    const server = await startMcpHttpServer({ pageSize: 2 });
    cleanups.push(() => server.close());
    const connection = await connect(httpUpstream(server.url));

    const tools = await connection.listTools();
    expect(tools.map((t) => t.name)).toEqual(exampleMcpTools().map((t) => t.name));
    expect(server.requests.filter((r) => r.rpc.includes('tools/list'))).toHaveLength(3);
    const { definitions, skipped } = toToolDefinitions(httpUpstream(server.url), tools);
    expect(skipped).toEqual([]);
    expect(definitions.map((d) => d.definition.name)).toEqual([
      'demo_echo',
      'demo_add',
      'demo_fail',
      'demo_mixed_content',
      'demo_sleep',
    ]);
    expect(definitions[1]?.definition).toMatchObject({
      title: 'Add two numbers',
      outputSchema: { type: 'object', required: ['sum'] },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
    });
  });

  it('lists a malformed tool instead of failing, so the mapping can report it', async () => {
    const server = await startMcpHttpServer({
      tools: [
        { name: 'scalar', description: 'A string input.', inputSchema: { type: 'string' } },
        { name: 'good', description: 'Fine.' },
      ],
    });
    cleanups.push(() => server.close());
    const connection = await connect(httpUpstream(server.url));
    const { definitions, skipped } = toToolDefinitions(
      httpUpstream(server.url),
      await connection.listTools(),
    );
    expect(definitions.map((d) => d.upstreamTool)).toEqual(['good']);
    expect(skipped).toEqual([
      {
        tool: 'scalar',
        reason:
          'inputSchema must be a JSON Schema of type "object" (MCP requires it); got type "string"',
      },
    ]);
  });

  it('sends the bearer token of the credentials secret on every request, and fails without it', async () => {
    const server = await startMcpHttpServer({ token: 'upstream-secret-1' });
    cleanups.push(() => server.close());

    const refused = await McpUpstreamConnection.connect(httpUpstream(server.url), {
      secrets,
      logger,
      stdioCommands,
    }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(McpUpstreamError);
    expect((refused as Error).message).toMatch(
      /^could not connect to upstream MCP server "demo": /,
    );
    expect((refused as Error).message).toContain('401');

    const connection = await connect(
      httpUpstream(server.url, { credentialsSecret: 'upstream-token' }),
    );
    expect(await connection.listTools()).toHaveLength(exampleMcpTools().length);
    const authorized = server.requests.slice(1);
    expect(authorized.length).toBeGreaterThanOrEqual(3);
    expect(new Set(authorized.map((r) => r.authorization))).toEqual(
      new Set(['Bearer upstream-secret-1']),
    );
  });

  it('calls the listener when the server announces list_changed', async () => {
    const server = await startMcpHttpServer();
    cleanups.push(() => server.close());
    const connection = await connect(httpUpstream(server.url));
    let changes = 0;
    connection.onListChanged(() => changes++);
    await waitFor(() => server.openStreams() === 1, { what: 'the notification stream' });

    await server.addTool({ name: 'lookupOrder', description: 'Finds an order.' });
    await waitFor(() => changes === 1, { what: 'list_changed' });
    expect((await connection.listTools()).map((t) => t.name)).toContain('lookupOrder');
  });

  it('names the upstream when it cannot be reached', async () => {
    const server = await startMcpHttpServer();
    const url = server.url;
    await server.close();
    await expect(
      McpUpstreamConnection.connect(httpUpstream(url), { secrets, logger, stdioCommands }),
    ).rejects.toThrow(/^could not connect to upstream MCP server "demo": /);
  });

  it('fails a listing, naming the upstream, when the server has forgotten the session', async () => {
    const server = await startMcpHttpServer();
    cleanups.push(() => server.close());
    const connection = await connect(httpUpstream(server.url));
    await server.dropSessions();
    await expect(connection.listTools()).rejects.toThrow(
      /^listing the tools of upstream MCP server "demo" failed: .*404/,
    );
  });

  it('gives up on a server that does not answer within timeoutMs', async () => {
    // Accepts the connection and never answers.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          silent.closeAllConnections();
          silent.close(() => resolve());
        }),
    );
    const { port } = silent.address() as AddressInfo;
    const started = Date.now();
    await expect(
      McpUpstreamConnection.connect(
        httpUpstream(`http://127.0.0.1:${port}/mcp`, { timeoutMs: 300 }),
        { secrets, logger, stdioCommands },
      ),
    ).rejects.toThrow(/^could not connect to upstream MCP server "demo": .*timed out/);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe('McpUpstreamConnection over stdio', () => {
  const stdioUpstream = (f: McpStdioFixture) =>
    McpUpstreamRequest.parse({
      name: 'local-files',
      transport: { kind: 'stdio', command: f.command, args: f.args },
      owner: 'platform',
      region: 'eu',
      prefix: null,
      timeoutMs: 5000,
    });

  it('starts the command, lists its tools, and hears list_changed when they change', async () => {
    const f = await createMcpStdioFixture();
    cleanups.push(() => f.cleanup());
    const connection = await connect(stdioUpstream(f));
    expect((await connection.listTools()).map((t) => t.name)).toEqual(
      exampleStdioTools().map((t) => t.name),
    );
    let changes = 0;
    connection.onListChanged(() => changes++);
    await f.setTools([...exampleStdioTools(), { name: 'late-tool', description: 'New.' }]);
    await waitFor(() => changes >= 1, { what: 'list_changed over stdio' });
    const { definitions } = toToolDefinitions(stdioUpstream(f), await connection.listTools());
    expect(definitions.map((d) => d.definition.name)).toContain('late_tool');
  });

  it("gives the child PATH and HOME only, never the registry's own environment", async () => {
    const f = await createMcpStdioFixture([{ name: 'env', description: 'Env: ${env}' }]);
    cleanups.push(() => f.cleanup());
    const connection = await McpUpstreamConnection.connect(stdioUpstream(f), {
      secrets,
      logger,
      stdioCommands,
      parentEnv: {
        PATH: process.env['PATH'],
        HOME: '/home/registry',
        DATABASE_URL: 'postgres://registry:hunter2@db/registry',
      },
    });
    cleanups.push(() => connection.close());
    // The real process environment (DATABASE_URL, KAFKA_*, USER, SHELL...) must not leak either.
    const [tool] = await connection.listTools();
    expect(tool?.description).toBe('Env: HOME,PATH');
  });

  it('reports when the stdio child ends, so the registry can reconnect', async () => {
    const f = await createMcpStdioFixture();
    cleanups.push(() => f.cleanup());
    const connection = await connect(stdioUpstream(f));
    let ended = 0;
    connection.onClose(() => ended++);
    await f.crashServers();
    await waitFor(() => ended === 1, { what: 'the connection to end' });
    expect(connection.closed).toBe(true);
    await expect(connection.listTools()).rejects.toThrow(McpUpstreamError);
  });

  it('refuses a command outside the allow-list it is given, before starting anything', async () => {
    const f = await createMcpStdioFixture();
    cleanups.push(() => f.cleanup());
    await expect(
      McpUpstreamConnection.connect(stdioUpstream(f), {
        secrets,
        logger,
        stdioCommands: ['/usr/local/bin/mcp-files'],
      }),
    ).rejects.toThrow(
      `upstream MCP server "local-files" would run "${f.command}", which is not an allowed stdio command`,
    );
    const allowed = await McpUpstreamConnection.connect(stdioUpstream(f), {
      secrets,
      logger,
      stdioCommands: [f.command],
    });
    cleanups.push(() => allowed.close());
    expect(await allowed.listTools()).toHaveLength(exampleStdioTools().length);
  });

  it('names the upstream when the command cannot be started', async () => {
    await expect(
      McpUpstreamConnection.connect(
        McpUpstreamRequest.parse({
          name: 'missing',
          transport: { kind: 'stdio', command: '/nonexistent/mcp-server' },
          owner: 'platform',
          region: 'eu',
          timeoutMs: 2000,
        }),
        { secrets, logger, stdioCommands },
      ),
    ).rejects.toThrow(/^could not connect to upstream MCP server "missing": .*ENOENT/);
  });
});
