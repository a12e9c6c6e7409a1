import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McpUpstreamRequest } from '@toolbus/contracts';
import { egressAgent, egressFetch } from '@toolbus/egress';
import {
  CredentialOriginError,
  StdioServerNotAllowedError,
  type StdioServers,
} from '@toolbus/mcp-upstream';
import { createLogger } from '@toolbus/observability';
import { SecretStore, type CredentialOrigins } from '@toolbus/security';
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
import {
  McpUpstreamConnection,
  McpUpstreamError,
  type McpUpstreamDeps,
} from './mcp-upstream-connection.js';

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
// The test servers listen on 127.0.0.1, which the default refuses: exactly that is allowed.
const loopback = egressAgent({ allow: ['127.0.0.1/32'] });
afterAll(() => loopback.close());
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

/** Stdio entries: one per fixture as the tests make them, and a command that does not exist. */
const stdioServers: StdioServers = { missing: { command: '/nonexistent/mcp-server', args: [] } };
/** Where the test token may go: the origins of the servers started for it. */
const credentialOrigins: CredentialOrigins = { 'upstream-token': [] };

function deps(over: Partial<McpUpstreamDeps> = {}): McpUpstreamDeps {
  return {
    secrets,
    logger,
    stdioServers,
    fetch: egressFetch(loopback),
    credentialOrigins,
    ...over,
  };
}

async function connect(upstream: McpUpstreamRequest): Promise<McpUpstreamConnection> {
  const connection = await McpUpstreamConnection.connect(upstream, deps());
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
    credentialOrigins['upstream-token']!.push(new URL(server.url).origin);

    const refused = await McpUpstreamConnection.connect(httpUpstream(server.url), deps()).catch(
      (e: unknown) => e,
    );
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

  it('sends the token to no origin CREDENTIAL_ORIGINS does not list for it, before connecting', async () => {
    const server = await startMcpHttpServer({ token: 'upstream-secret-1' });
    cleanups.push(() => server.close());
    const foreign = McpUpstreamConnection.connect(
      httpUpstream(server.url, { credentialsSecret: 'upstream-token' }),
      deps({ credentialOrigins: { 'upstream-token': ['https://mcp.example'] } }),
    );
    await expect(foreign).rejects.toThrow(
      new CredentialOriginError(
        `upstream MCP server "demo": the credential "upstream-token" may be sent only to https://mcp.example, not to ${new URL(server.url).origin}; the credential was not sent`,
      ),
    );
    expect(server.requests).toEqual([]);
  });

  it('refuses an upstream at an internal address before connecting, naming the address', async () => {
    await expect(
      McpUpstreamConnection.connect(httpUpstream('http://169.254.169.254/mcp'), deps()),
    ).rejects.toThrow(
      'could not connect to upstream MCP server "demo": egress to 169.254.169.254 (link-local) is not allowed; EGRESS_ALLOW lists the exceptions',
    );
    const server = await startMcpHttpServer();
    cleanups.push(() => server.close());
    // The default allows no internal address: the test server on 127.0.0.1 is refused too.
    const closed = egressAgent({ allow: [] });
    cleanups.push(() => closed.close());
    await expect(
      McpUpstreamConnection.connect(httpUpstream(server.url), deps({ fetch: egressFetch(closed) })),
    ).rejects.toThrow('egress to 127.0.0.1 (loopback) is not allowed');
    expect(server.requests).toEqual([]);
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
    await expect(McpUpstreamConnection.connect(httpUpstream(url), deps())).rejects.toThrow(
      /^could not connect to upstream MCP server "demo": /,
    );
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
        deps(),
      ),
    ).rejects.toThrow(/^could not connect to upstream MCP server "demo": .*timed out/);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe('McpUpstreamConnection over stdio', () => {
  let fixtures = 0;
  /** A stdio fixture declared as an entry of MCP_STDIO_SERVERS. */
  async function fixture(
    tools?: Parameters<typeof createMcpStdioFixture>[0],
  ): Promise<McpStdioFixture & { entry: string }> {
    const f = await createMcpStdioFixture(tools);
    cleanups.push(() => f.cleanup());
    const entry = `files-${++fixtures}`;
    stdioServers[entry] = { command: f.command, args: f.args };
    return { ...f, entry };
  }
  const stdioUpstream = (f: { entry: string }) =>
    McpUpstreamRequest.parse({
      name: 'local-files',
      transport: { kind: 'stdio', entry: f.entry },
      owner: 'platform',
      region: 'eu',
      prefix: null,
      timeoutMs: 5000,
    });

  it('starts the entry, lists its tools, and hears list_changed when they change', async () => {
    const f = await fixture();
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
    const f = await fixture([{ name: 'env', description: 'Env: ${env}' }]);
    const connection = await McpUpstreamConnection.connect(
      stdioUpstream(f),
      deps({
        parentEnv: {
          PATH: process.env['PATH'],
          HOME: '/home/registry',
          DATABASE_URL: 'postgres://registry:hunter2@db/registry',
        },
      }),
    );
    cleanups.push(() => connection.close());
    // The real process environment (DATABASE_URL, KAFKA_*, USER, SHELL...) must not leak either.
    const [tool] = await connection.listTools();
    expect(tool?.description).toBe('Env: HOME,PATH');
  });

  it('reports when the stdio child ends, so the registry can reconnect', async () => {
    const f = await fixture();
    const connection = await connect(stdioUpstream(f));
    let ended = 0;
    connection.onClose(() => ended++);
    await f.crashServers();
    await waitFor(() => ended === 1, { what: 'the connection to end' });
    expect(connection.closed).toBe(true);
    await expect(connection.listTools()).rejects.toThrow(McpUpstreamError);
  });

  it('refuses an entry it does not declare, and a command line that is no entry, naming them', async () => {
    await expect(
      McpUpstreamConnection.connect(stdioUpstream({ entry: 'shell' }), deps()),
    ).rejects.toThrow(
      new StdioServerNotAllowedError(
        'upstream MCP server "local-files" names the stdio entry "shell", which MCP_STDIO_SERVERS of this service does not declare',
      ),
    );
    const f = await fixture();
    // The command form of older registrations: the entry's exact command line runs...
    const legacy = McpUpstreamRequest.parse({
      ...stdioUpstream(f),
      transport: { kind: 'stdio', command: f.command, args: f.args },
    });
    const allowed = await McpUpstreamConnection.connect(legacy, deps());
    cleanups.push(() => allowed.close());
    expect(await allowed.listTools()).toHaveLength(exampleStdioTools().length);
    // ...and the same program with other arguments does not.
    await expect(
      McpUpstreamConnection.connect(
        { ...legacy, transport: { kind: 'stdio', command: f.command, args: ['-e', 'evil()'] } },
        deps(),
      ),
    ).rejects.toThrow(StdioServerNotAllowedError);
  });

  it('names the upstream when the command cannot be started', async () => {
    await expect(
      McpUpstreamConnection.connect(
        McpUpstreamRequest.parse({
          name: 'missing',
          transport: { kind: 'stdio', entry: 'missing' },
          owner: 'platform',
          region: 'eu',
          timeoutMs: 2000,
        }),
        deps(),
      ),
    ).rejects.toThrow(/^could not connect to upstream MCP server "missing": .*ENOENT/);
  });
});
