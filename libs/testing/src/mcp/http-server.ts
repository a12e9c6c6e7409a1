import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { createMcpTestServer, exampleMcpTools, type McpTestTool } from './tools.js';

/** One HTTP request the test MCP server received, recorded before any check. */
export interface RecordedMcpRequest {
  /** HTTP method: POST (messages), GET (the server-to-client stream), DELETE (end of session). */
  method: string;
  /** The Authorization header exactly as it arrived (undefined when there was none). */
  authorization: string | undefined;
  /** Every header as it arrived (repeated ones joined with ", "). */
  headers: Record<string, string>;
  /** The raw body ('' for GET and DELETE). */
  body: string;
  sessionId: string | undefined;
  /** JSON-RPC methods in a POST body, e.g. `['tools/call']`; empty for responses and GET. */
  rpc: string[];
  /** `params.name` of a tools/call, for finding one call among many. */
  tool?: string;
  /** The HTTP status answered (0 until the response head is written). */
  status: number;
  at: number;
}

export interface McpHttpServerOptions {
  /** Default {@link exampleMcpTools}. */
  tools?: McpTestTool[];
  /** When set, every request must carry `Authorization: Bearer <token>` or gets a 401. */
  token?: string;
  /** tools/list page size (default 100), to exercise cursors. */
  pageSize?: number;
  /** serverInfo.name. */
  name?: string;
  /**
   * The loopback address to listen on, default 127.0.0.1. Another one (Linux answers on all of
   * 127.0.0.0/8) lets a test allow-list this server's address and refuse 127.0.0.1.
   */
  host?: string;
}

/** A running Streamable HTTP MCP server for tests. */
export interface McpHttpTestServer {
  /** The MCP endpoint, `http://<host>:<port>/mcp` (host 127.0.0.1 unless given). */
  url: string;
  /** Every request received, in order (tests may hold the reference; it is never replaced). */
  requests: RecordedMcpRequest[];
  /** The tools served now. */
  tools(): McpTestTool[];
  /** Replaces the tool list and sends notifications/tools/list_changed to every session. */
  setTools(tools: McpTestTool[]): Promise<void>;
  /** Adds (or replaces by name) one tool, then notifies like {@link setTools}. */
  addTool(tool: McpTestTool): Promise<void>;
  removeTool(name: string): Promise<void>;
  /** Changes the required bearer token (undefined: none), e.g. to test a rotated secret. */
  setToken(token: string | undefined): void;
  /** Sessions that are initialized and not closed. */
  sessions(): number;
  /**
   * Sessions with an open server-to-client (GET) stream: only those receive list_changed. A
   * client opens it right after initializing; wait for it before changing the tools.
   */
  openStreams(): number;
  /** Forgets every session, as a restarted server would: their next request gets a 404. */
  dropSessions(): Promise<void>;
  close(): Promise<void>;
}

interface Session {
  server: McpServer;
  transport: StreamableHTTPServerTransport;
  streams: number;
}

/**
 * Starts a real MCP server (the official SDK's Streamable HTTP transport, with sessions so it
 * can push list_changed) on 127.0.0.1 (or `options.host`) with a random port. It checks the bearer token and the
 * Host header on every request, and records the Authorization header of each one so a test can
 * prove which credentials arrived and which never did.
 */
export async function startMcpHttpServer(
  options: McpHttpServerOptions = {},
): Promise<McpHttpTestServer> {
  let tools = [...(options.tools ?? exampleMcpTools())];
  let token = options.token;
  const requests: RecordedMcpRequest[] = [];
  const sessions = new Map<string, Session>();
  let port = 0;
  const host = options.host ?? '127.0.0.1';

  async function openSession(): Promise<Session> {
    const server = createMcpTestServer(() => tools, {
      name: options.name,
      pageSize: options.pageSize,
    });
    const session: Session = {
      server,
      streams: 0,
      transport: new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          sessions.set(id, session);
        },
        onsessionclosed: (id) => {
          sessions.delete(id);
        },
        enableDnsRebindingProtection: true,
        allowedHosts: [`${host}:${port}`, `localhost:${port}`],
      }),
    };
    session.transport.onclose = () => {
      const id = session.transport.sessionId;
      if (id) sessions.delete(id);
    };
    await server.connect(session.transport);
    return session;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const sessionHeader = req.headers['mcp-session-id'];
    const record: RecordedMcpRequest = {
      method: req.method ?? 'GET',
      authorization: req.headers.authorization,
      headers: flattenHeaders(req),
      body: '',
      sessionId: Array.isArray(sessionHeader) ? sessionHeader[0] : sessionHeader,
      rpc: [],
      status: 0,
      at: Date.now(),
    };
    requests.push(record);
    // The status as it is sent: a streamed response may still be open when the test looks.
    const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
    res.writeHead = ((...args: unknown[]) => {
      record.status = Number(args[0]);
      return writeHead(...args);
    }) as typeof res.writeHead;
    record.body = await readBody(req);
    let body: unknown = undefined;
    let parsed = true;
    if (record.body !== '') {
      try {
        body = JSON.parse(record.body);
      } catch {
        parsed = false;
      }
    }
    for (const message of Array.isArray(body) ? body : [body]) {
      const m = message as { method?: unknown; params?: { name?: unknown } } | undefined;
      if (typeof m?.method === 'string') record.rpc.push(m.method);
      if (m?.method === 'tools/call' && typeof m.params?.name === 'string')
        record.tool = m.params.name;
    }
    if (new URL(req.url ?? '/', 'http://mcp').pathname !== '/mcp') {
      sendJson(res, 404, { error: 'not_found', message: 'the MCP endpoint is /mcp' });
      return;
    }
    if (token !== undefined && req.headers.authorization !== `Bearer ${token}`) {
      sendJson(
        res,
        401,
        { error: 'invalid_token', message: 'a valid bearer token is required' },
        { 'www-authenticate': 'Bearer realm="toolbus-test-mcp", error="invalid_token"' },
      );
      return;
    }
    if (!parsed) {
      sendJson(res, 400, rpcError(-32700, 'Parse error'));
      return;
    }

    let session = record.sessionId ? sessions.get(record.sessionId) : undefined;
    if (!session) {
      if (record.sessionId) {
        sendJson(res, 404, rpcError(-32001, 'Session not found'));
        return;
      }
      if (req.method !== 'POST' || !isInitializeRequest(body)) {
        sendJson(res, 400, rpcError(-32000, 'Bad Request: no session; initialize first'));
        return;
      }
      session = await openSession();
    }
    if (req.method === 'GET') {
      const s = session;
      s.streams++;
      res.on('close', () => s.streams--);
    }
    await session.transport.handleRequest(req, res, body);
  }

  const http = createServer((req, res) => {
    // A client that goes away mid-stream must not crash the test server.
    res.on('error', () => undefined);
    req.on('error', () => undefined);
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) res.destroy();
      else sendJson(res, 500, rpcError(-32603, `test server: ${String(error)}`));
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(0, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  port = (http.address() as AddressInfo).port;

  const notify = async () => {
    await Promise.all(
      [...sessions.values()].map((s) => s.server.server.sendToolListChanged().catch(() => {})),
    );
  };
  const closeSessions = async () => {
    const open = [...sessions.values()];
    sessions.clear();
    await Promise.all(open.map((s) => s.server.close().catch(() => {})));
  };

  let closed: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}/mcp`,
    requests,
    tools: () => [...tools],
    async setTools(next) {
      tools = [...next];
      await notify();
    },
    async addTool(tool) {
      tools = [...tools.filter((t) => t.name !== tool.name), tool];
      await notify();
    },
    async removeTool(name) {
      tools = tools.filter((t) => t.name !== name);
      await notify();
    },
    setToken(next) {
      token = next;
    },
    sessions: () => sessions.size,
    openStreams: () => [...sessions.values()].filter((s) => s.streams > 0).length,
    dropSessions: closeSessions,
    close() {
      closed ??= (async () => {
        await closeSessions();
        await new Promise<void>((resolve, reject) => {
          http.close((error) => (error ? reject(error) : resolve()));
          // Open GET streams and keep-alive sockets would otherwise hold close() open.
          http.closeAllConnections();
        });
      })();
      return closed;
    },
  };
}

function rpcError(code: number, message: string): unknown {
  return { jsonrpc: '2.0', error: { code, message }, id: null };
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
