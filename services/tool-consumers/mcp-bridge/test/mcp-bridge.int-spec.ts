import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ToolDefinition,
  toolRequestsTopic,
  type McpServerTransport,
  type ToolCallRequested,
} from '@toolbus/contracts';
import { egressAgent, egressFetch } from '@toolbus/egress';
import type { StdioServers } from '@toolbus/mcp-upstream';
import { createLogger } from '@toolbus/observability';
import { RegistryView } from '@toolbus/registry-client';
import { SecretStore } from '@toolbus/security';
import {
  completedOf,
  createMcpStdioFixture,
  failureOf,
  startMcpHttpServer,
  TINY_PNG_BASE64,
  toolCall,
  uniqueName,
  waitFor,
  type McpHttpTestServer,
  type McpStdioFixture,
} from '@toolbus/testing';
import { consumerTestEnv, startToolCaller, type ToolCaller } from '@toolbus/testing-bus';
import {
  BusinessError,
  RetryableToolError,
  runToolConsumer,
  type RunningToolConsumer,
} from '@toolbus/tool-sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMcpBridge, type McpBridge } from '../src/index.js';

const logger = createLogger({
  name: 'mcp-bridge-test',
  level: process.env['TEST_LOG_LEVEL'] ?? 'silent',
});
const SECRET = 'demo-token';
const CALLER_TOKEN = 'eyJhbGciOiJIUzI1NiJ9.caller-token-that-must-stay-home.sig';

let secretsDir: string;
const writeToken = (token: string) => writeFile(join(secretsDir, SECRET, 'token'), `${token}\n`);

beforeAll(async () => {
  secretsDir = await mkdtemp(join(tmpdir(), 'mcp-bridge-secrets-'));
  await mkdir(join(secretsDir, SECRET));
  await writeToken('upstream-token-1');
});
afterAll(() => rm(secretsDir, { recursive: true, force: true }));

// The test servers listen on 127.0.0.1, which the default refuses: exactly that is allowed.
const loopback = egressAgent({ allow: ['127.0.0.1/32'] });
afterAll(() => loopback.close());
/** What a bridge of these tests is given besides its view and pool settings. */
function bridgeOptions(stdioServers: StdioServers = {}) {
  return {
    secrets: new SecretStore(secretsDir),
    logger,
    connectTimeoutMs: 5_000,
    stdioServers,
    fetch: egressFetch(loopback),
    // The demo token goes to the test servers on 127.0.0.1, whatever their port.
    credentialOrigins: { [SECRET]: [] as string[] },
    maxResponseBytes: 64 * 1024,
  };
}

interface DefinitionSpec {
  tool: string;
  transport: McpServerTransport;
  name?: string;
  inputSchema?: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
  credentials?: boolean;
  timeoutMs?: number;
  topic?: string;
}

function definition(spec: DefinitionSpec): ToolDefinition {
  return ToolDefinition.parse({
    name: spec.name ?? `demo_${spec.tool}`,
    version: '1.0.0',
    title: spec.tool,
    description: `The upstream tool ${spec.tool}.`,
    inputSchema: spec.inputSchema ?? { type: 'object' },
    ...(spec.outputSchema ? { outputSchema: spec.outputSchema } : {}),
    annotations: {},
    owner: 'platform',
    scopes: [],
    timeoutMs: spec.timeoutMs ?? 10_000,
    transport: { kind: 'kafka', topic: spec.topic ?? 'tool_requests.mcp-bridge' },
    region: 'eu',
    status: 'approved',
    binding: {
      kind: 'mcp',
      server: 'demo',
      tool: spec.tool,
      transport: spec.transport,
      ...(spec.credentials ? { credentialsSecret: SECRET } : {}),
    },
  });
}

const SUM_SCHEMA = {
  type: 'object',
  properties: { sum: { type: 'number' } },
  required: ['sum'],
};
const ADD_INPUT = {
  type: 'object',
  properties: { a: { type: 'number' }, b: { type: 'number' } },
  required: ['a', 'b'],
};
const WHOAMI_SCHEMA = {
  type: 'object',
  properties: { pid: { type: 'integer' }, env: { type: 'array', items: { type: 'string' } } },
  required: ['pid', 'env'],
};

describe('the MCP bridge against real MCP servers', () => {
  let bridge: McpBridge;
  const cleanups: Array<() => Promise<unknown>> = [];
  // Entries are added as the fixtures are made (each has its own tools file); the pool reads
  // the entries when it connects. A deployment's are fixed at start-up.
  let options: ReturnType<typeof bridgeOptions>;

  beforeAll(() => {
    // Made here, not at collection: the secrets folder exists from the file's beforeAll on.
    options = bridgeOptions();
    bridge = createMcpBridge({ view: RegistryView.of([]), ...options });
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(() => bridge.close());

  const call = (def: ToolDefinition, input: Record<string, unknown>, deadlineMs = 10_000) =>
    bridge.executor.call(def, input, {
      signal: AbortSignal.timeout(deadlineMs),
      deadline: Date.now() + deadlineMs,
      logger,
    });
  const failure = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      (value) => {
        throw new Error(`expected a failure, got ${JSON.stringify(value)}`);
      },
      (e: unknown) => e,
    );
    return error as Error & { code?: string; errorClass?: string };
  };

  async function httpServer(token?: string): Promise<McpHttpTestServer> {
    const server = await startMcpHttpServer({ token });
    options.credentialOrigins[SECRET]!.push(new URL(server.url).origin);
    cleanups.push(() => server.close());
    return server;
  }
  let fixtures = 0;
  async function stdioFixture(
    tools?: Parameters<typeof createMcpStdioFixture>[0],
  ): Promise<McpStdioFixture & { entry: string }> {
    const fixture = await createMcpStdioFixture(tools);
    const entry = `fixture-${++fixtures}`;
    options.stdioServers[entry] = { command: fixture.command, args: fixture.args };
    cleanups.push(() => fixture.cleanup());
    return { ...fixture, entry };
  }
  const http = (server: McpHttpTestServer): McpServerTransport => ({
    kind: 'streamable_http',
    url: server.url,
  });
  const stdio = (fixture: { entry: string }): McpServerTransport => ({
    kind: 'stdio',
    entry: fixture.entry,
  });

  describe('over Streamable HTTP', () => {
    it('calls a tool and returns its content parts when the definition has no output schema', async () => {
      const server = await httpServer();
      expect(
        await call(definition({ tool: 'echo', transport: http(server) }), { text: 'hi' }),
      ).toEqual({ content: [{ type: 'text', text: 'hi' }] });
      expect(
        await call(definition({ tool: 'mixed_content', transport: http(server) }), {}),
      ).toEqual({
        content: [
          { type: 'text', text: 'a picture and a note' },
          { type: 'image', data: TINY_PNG_BASE64, mimeType: 'image/png' },
          {
            type: 'resource',
            resource: { uri: 'memo://note/1', mimeType: 'text/plain', text: 'remember the milk' },
          },
        ],
      });
      expect(server.sessions()).toBe(1);
    });

    it('returns structuredContent as the output when the definition has an output schema', async () => {
      const server = await httpServer();
      const add = definition({ tool: 'add', transport: http(server), outputSchema: SUM_SCHEMA });
      expect(await call(add, { a: 2, b: 3 })).toEqual({ sum: 5 });
    });

    it('turns isError into a business error carrying the upstream text', async () => {
      const server = await httpServer();
      const error = await failure(
        call(definition({ tool: 'fail', transport: http(server) }), {
          reason: 'order 7 is already shipped',
        }),
      );
      expect(error).toBeInstanceOf(BusinessError);
      expect(error).toMatchObject({
        code: 'upstream_tool_error',
        errorClass: 'business',
        message: 'order 7 is already shipped',
      });
    });

    it('reports an unknown upstream tool as a final validation error', async () => {
      const server = await httpServer();
      const error = await failure(
        call(definition({ tool: 'does_not_exist', transport: http(server) }), {}),
      );
      expect(error).toBeInstanceOf(BusinessError);
      expect(error).toMatchObject({
        code: 'upstream_rejected_call',
        errorClass: 'validation',
        message:
          'upstream MCP server "demo" rejected the call of "does_not_exist": Unknown tool: does_not_exist (MCP error -32602)',
      });
    });

    it('answers with a retryable error when the upstream is down, and recovers when it is back', async () => {
      const server = await httpServer();
      const echo = definition({ tool: 'echo', transport: http(server) });
      expect(await call(echo, { text: 'up' })).toEqual({ content: [{ type: 'text', text: 'up' }] });
      await server.close();

      const down = await failure(call(echo, { text: 'down' }));
      expect(down).toBeInstanceOf(RetryableToolError);
      expect(down).toMatchObject({
        code: 'upstream_unavailable',
        message: 'upstream MCP server "demo" is unavailable; try again',
      });
      // Never reachable at all: the connect fails the same way.
      const again = await failure(call(echo, { text: 'down' }));
      expect(again).toMatchObject({ code: 'upstream_unavailable' });
    });

    it("sends the secret's token, never the caller's, and uses a rotated secret on reconnect", async () => {
      const server = await httpServer('upstream-token-1');
      const echo = definition({ tool: 'echo', transport: http(server), credentials: true });
      expect(await call(echo, { text: 'one' })).toEqual({
        content: [{ type: 'text', text: 'one' }],
      });
      expect(server.requests.length).toBeGreaterThan(0);
      expect(new Set(server.requests.map((r) => r.authorization))).toEqual(
        new Set(['Bearer upstream-token-1']),
      );

      // Rotation: the server only accepts the new token; the open session gets a 401, the
      // bridge reconnects with the secret read again and the call goes through.
      await writeToken('upstream-token-2');
      server.setToken('upstream-token-2');
      expect(await call(echo, { text: 'two' })).toEqual({
        content: [{ type: 'text', text: 'two' }],
      });
      const calls = server.requests.filter((r) => r.tool === 'echo');
      expect(calls.map((r) => [r.authorization, r.status])).toEqual([
        ['Bearer upstream-token-1', 200],
        ['Bearer upstream-token-1', 401],
        ['Bearer upstream-token-2', 200],
      ]);
      await writeToken('upstream-token-1');
    });

    it('refuses credentials the upstream does not accept with a final error', async () => {
      const server = await httpServer('something-else');
      const error = await failure(
        call(definition({ tool: 'echo', transport: http(server), credentials: true }), {
          text: 'x',
        }),
      );
      expect(error).toBeInstanceOf(BusinessError);
      expect(error).toMatchObject({ code: 'upstream_unauthorized', errorClass: 'forbidden' });
    });

    it('reconnects transparently when the server has lost the session', async () => {
      const server = await httpServer();
      const echo = definition({ tool: 'echo', transport: http(server) });
      await call(echo, { text: 'first' });
      await server.dropSessions();
      expect(await call(echo, { text: 'second' })).toEqual({
        content: [{ type: 'text', text: 'second' }],
      });
      const initializes = server.requests.filter((r) => r.rpc.includes('initialize'));
      expect(initializes).toHaveLength(2);
    });

    it('never sends the secret to an origin CREDENTIAL_ORIGINS does not list for it', async () => {
      // A server the demo token is not meant for: its origin is not listed.
      const foreign = await startMcpHttpServer();
      cleanups.push(() => foreign.close());
      const error = await failure(
        call(definition({ tool: 'echo', transport: http(foreign), credentials: true }), {
          text: 'x',
        }),
      );
      expect(error).toBeInstanceOf(BusinessError);
      expect(error).toMatchObject({ code: 'credential_origin', errorClass: 'forbidden' });
      expect(error.message).toContain(`the credential "${SECRET}" may be sent only to`);
      expect(error.message).toContain(
        `not to ${new URL(foreign.url).origin}; the credential was not sent`,
      );
      expect(foreign.requests).toEqual([]);
    });

    it('refuses an upstream at an internal address before connecting', async () => {
      for (const url of ['http://169.254.169.254/mcp', 'http://10.1.2.3:8080/mcp']) {
        const error = await failure(
          call(definition({ tool: 'echo', transport: { kind: 'streamable_http', url } }), {}),
        );
        expect(error).toBeInstanceOf(BusinessError);
        expect(error).toMatchObject({ code: 'egress_refused', errorClass: 'forbidden' });
      }
      const metadata = await failure(
        call(
          definition({
            tool: 'echo',
            transport: { kind: 'streamable_http', url: 'http://169.254.169.254/mcp' },
          }),
          {},
        ),
      );
      expect(metadata.message).toBe(
        'upstream MCP server "demo" was not called: egress to 169.254.169.254 (link-local) is not allowed; EGRESS_ALLOW lists the exceptions',
      );
    });

    it('scrubs the token it sent from a successful output that echoes it', async () => {
      const server = await httpServer('upstream-token-1');
      await server.addTool({
        name: 'tell',
        description: 'Says which Authorization header it got.',
        handler: (_args, ctx) => ({
          content: [{ type: 'text', text: `you sent ${ctx.authorization}` }],
        }),
      });
      const tell = definition({ tool: 'tell', transport: http(server), credentials: true });
      expect(await call(tell, {})).toEqual({
        content: [{ type: 'text', text: 'you sent Bearer [redacted]' }],
      });
      expect(server.requests.find((r) => r.tool === 'tell')?.authorization).toBe(
        'Bearer upstream-token-1',
      );
    });

    it('refuses a result larger than MCP_MAX_RESPONSE_BYTES with a clear tool error', async () => {
      const server = await httpServer();
      await server.addTool({
        name: 'big',
        description: 'Returns n characters.',
        inputSchema: { type: 'object', properties: { n: { type: 'number' } } },
        handler: (args) => ({ content: [{ type: 'text', text: 'x'.repeat(Number(args['n'])) }] }),
      });
      const big = definition({ tool: 'big', transport: http(server) });
      expect(await call(big, { n: 1000 })).toEqual({
        content: [{ type: 'text', text: 'x'.repeat(1000) }],
      });
      for (const n of [80 * 1024, 1024 * 1024]) {
        const error = await failure(call(big, { n }, 5_000));
        expect(error).toBeInstanceOf(BusinessError);
        expect(error).toMatchObject({
          code: 'upstream_response_too_large',
          message:
            'upstream MCP server "demo" answered "big" with more than 65536 bytes, the most this bridge accepts (MCP_MAX_RESPONSE_BYTES); the result was refused',
        });
      }
    });

    it("bounds a call by the definition's timeoutMs and cancels it upstream", async () => {
      const server = await httpServer();
      const sleep = definition({ tool: 'sleep', transport: http(server), timeoutMs: 300 });
      const started = Date.now();
      const error = await failure(call(sleep, { ms: 10_000 }));
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(error).toBeInstanceOf(RetryableToolError);
      expect(error).toMatchObject({
        code: 'upstream_timeout',
        message: 'upstream MCP server "demo" did not answer "sleep" within 300 ms',
      });
      await waitFor(() => server.requests.some((r) => r.rpc.includes('notifications/cancelled')), {
        what: 'the cancellation to reach the server',
      });
    });
  });

  describe('over stdio', () => {
    it('calls tools of a child process: content parts, structured output, tool errors', async () => {
      const fixture = await stdioFixture();
      expect(
        await call(definition({ tool: 'echo', transport: stdio(fixture) }), { text: 'hi' }),
      ).toEqual({
        content: [{ type: 'text', text: '{"text":"hi"}' }],
      });
      expect(
        await call(
          definition({ tool: 'add', transport: stdio(fixture), outputSchema: SUM_SCHEMA }),
          { a: 2, b: 3 },
        ),
      ).toEqual({ sum: 5 });
      expect(
        await failure(call(definition({ tool: 'fail', transport: stdio(fixture) }), {})),
      ).toMatchObject({ code: 'upstream_tool_error', message: 'the order is already shipped' });
      expect(
        await failure(call(definition({ tool: 'nope', transport: stdio(fixture) }), {})),
      ).toMatchObject({ code: 'upstream_rejected_call' });
    });

    it("starts the child with PATH and HOME only, none of the bridge's environment", async () => {
      const fixture = await stdioFixture();
      const whoami = definition({
        tool: 'whoami',
        transport: stdio(fixture),
        outputSchema: WHOAMI_SCHEMA,
      });
      const output = (await call(whoami, {})) as { env: string[] };
      // The test process has DATABASE_URL, KAFKA_BROKERS and more; the child sees none of it.
      expect(output.env).toEqual(['HOME', 'PATH'].filter((k) => process.env[k] !== undefined));
    });

    it('restarts a child that exited on the next call', async () => {
      const fixture = await stdioFixture();
      const whoami = definition({
        tool: 'whoami',
        transport: stdio(fixture),
        outputSchema: WHOAMI_SCHEMA,
      });
      const pidOf = async () => ((await call(whoami, {})) as { pid: number }).pid;
      const first = await pidOf();

      const crash = await failure(
        call(definition({ tool: 'crash', transport: stdio(fixture) }), {}),
      );
      expect(crash).toBeInstanceOf(RetryableToolError);
      expect(crash).toMatchObject({
        code: 'upstream_unavailable',
        message: 'the connection to upstream MCP server "demo" closed during the call; try again',
      });

      const second = await pidOf();
      expect(second).not.toBe(first);
      // The first child is gone for good.
      expect(() => process.kill(first, 0)).toThrow();
    });

    it('refuses an entry that is not declared, and a command line that is no entry', async () => {
      const error = await failure(
        call(definition({ tool: 'echo', transport: { kind: 'stdio', entry: 'shell' } }), {}),
      );
      expect(error).toBeInstanceOf(BusinessError);
      expect(error).toMatchObject({
        code: 'upstream_not_allowed',
        errorClass: 'forbidden',
        message:
          'upstream MCP server "demo" names the stdio entry "shell", which MCP_STDIO_SERVERS of this service does not declare',
      });
      const line = await failure(
        call(
          definition({
            tool: 'echo',
            transport: { kind: 'stdio', command: '/bin/sh', args: ['-c', 'echo pwned'] },
          }),
          {},
        ),
      );
      expect(line).toMatchObject({ code: 'upstream_not_allowed', errorClass: 'forbidden' });
      expect(line.message).toContain('that is no entry of MCP_STDIO_SERVERS');
    });

    it('still runs a command line of an older catalog when it is exactly a declared entry', async () => {
      const fixture = await stdioFixture();
      const legacy = definition({
        tool: 'echo',
        transport: { kind: 'stdio', command: fixture.command, args: fixture.args },
      });
      expect(await call(legacy, { text: 'old' })).toEqual({
        content: [{ type: 'text', text: '{"text":"old"}' }],
      });
    });
  });
});

describe('the MCP bridge as a tool consumer on Kafka and PostgreSQL', () => {
  const service = uniqueName('mcp-bridge-it');
  const schema = service.replace(/-/g, '_');
  const topic = toolRequestsTopic(service);
  let server: McpHttpTestServer;
  let fixture: McpStdioFixture;
  let bridge: McpBridge;
  let consumer: RunningToolConsumer;
  let caller: ToolCaller;

  beforeAll(async () => {
    server = await startMcpHttpServer({ token: 'upstream-token-1' });
    fixture = await createMcpStdioFixture();
    const view = RegistryView.of([
      definition({
        name: 'demo_add',
        tool: 'add',
        transport: { kind: 'streamable_http', url: server.url },
        inputSchema: ADD_INPUT,
        outputSchema: SUM_SCHEMA,
        credentials: true,
        topic,
      }),
      definition({
        name: 'demo_fail',
        tool: 'fail',
        transport: { kind: 'streamable_http', url: server.url },
        credentials: true,
        topic,
      }),
      definition({
        name: 'files_echo',
        tool: 'echo',
        transport: { kind: 'stdio', entry: 'files' },
        topic,
      }),
    ]);
    const options = bridgeOptions({ files: { command: fixture.command, args: fixture.args } });
    options.credentialOrigins[SECRET]!.push(new URL(server.url).origin);
    bridge = createMcpBridge({ view, ...options, topic });
    consumer = await runToolConsumer(
      {
        service,
        tools: bridge.provider,
      },
      {
        env: consumerTestEnv(schema),
        logger,
      },
    );
    caller = await startToolCaller({ logger, name: 'mcp-caller' });
  });
  afterAll(async () => {
    await caller?.close();
    await consumer?.db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await consumer?.close();
    await bridge?.close();
    await server?.close();
    await fixture?.cleanup();
  });

  const send = (c: ToolCallRequested) =>
    // A gateway that forwarded the caller's token on the message would still not leak it.
    caller.call(service, c, {
      headers: { authorization: `Bearer ${CALLER_TOKEN}` },
      timeoutMs: 30_000,
    });

  it('serves the registry definitions bound to MCP, over Kafka, deduplicated by key', async () => {
    const key = uniqueName('key');
    const first = completedOf(await send(toolCall('demo_add', { a: 20, b: 22 }, { key })));
    expect(first).toMatchObject({ tool: 'demo_add', output: { sum: 42 }, deduplicated: false });
    const repeat = completedOf(await send(toolCall('demo_add', { a: 20, b: 22 }, { key })));
    expect(repeat).toMatchObject({ output: { sum: 42 }, deduplicated: true });
    expect(server.requests.filter((r) => r.tool === 'add')).toHaveLength(1);

    expect(completedOf(await send(toolCall('files_echo', { text: 'via stdio' })))).toMatchObject({
      output: { content: [{ type: 'text', text: '{"text":"via stdio"}' }] },
    });
  });

  it('answers an upstream tool error as a business failure the model can read', async () => {
    expect(failureOf(await send(toolCall('demo_fail', { reason: 'credit hold' })))).toEqual({
      class: 'business',
      code: 'upstream_tool_error',
      message: 'credit hold',
      retryable: false,
    });
  });

  it("checks the input against the definition's schema before anything goes upstream", async () => {
    const before = server.requests.length;
    const error = failureOf(await send(toolCall('demo_add', { a: 'two' })));
    expect(error).toMatchObject({ class: 'validation', code: 'invalid_input', retryable: false });
    expect(error.issues?.map((i) => i.pointer).sort()).toEqual(['/a', '/b']);
    expect(server.requests.length).toBe(before);
  });

  it("never sends the caller's token or identity upstream: only the secret's token", async () => {
    const calls = server.requests.filter((r) => r.rpc.includes('tools/call'));
    expect(calls.length).toBeGreaterThanOrEqual(2);
    for (const request of server.requests) {
      expect(request.authorization).toBe('Bearer upstream-token-1');
      // Neither in a header nor in a body: not the token, not the principal.
      expect(JSON.stringify(request)).not.toContain(CALLER_TOKEN);
      expect(request.body).not.toContain('test-caller');
    }
  });
});
