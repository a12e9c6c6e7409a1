import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';

/** What a test tool's handler gets besides its arguments. */
export interface McpTestToolContext {
  /** The Authorization header of the HTTP request that carried the call (absent over stdio). */
  authorization: string | undefined;
  /** Aborted when the client cancels the call (notifications/cancelled) or disconnects. */
  signal: AbortSignal;
}

/** MCP tool annotations as a server declares them (every field optional, MCP defaults apply). */
export interface McpTestToolAnnotations {
  title?: string;
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

/**
 * A tool of a test MCP server, declared with raw JSON Schemas so tests can also serve what a
 * real-world server might (odd names, a non-object input schema).
 */
export interface McpTestTool {
  name: string;
  title?: string;
  description?: string;
  /** Default `{ type: 'object', properties: {} }`. Object schemas are enforced on every call. */
  inputSchema?: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
  annotations?: McpTestToolAnnotations;
  /** Default: echoes the arguments as JSON text (and as structuredContent with an outputSchema). */
  handler?: (
    args: Record<string, unknown>,
    ctx: McpTestToolContext,
  ) => CallToolResult | Promise<CallToolResult>;
}

/** A 1x1 transparent PNG, for image content parts. */
export const TINY_PNG_BASE64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

/**
 * The tools a test server serves unless told otherwise: one of each shape a client must handle.
 * - `echo`: text in, the same text out (read-only).
 * - `add`: an output schema and structuredContent (plus the same JSON as text, as the spec asks).
 * - `fail`: a domain failure reported as a tool error (`isError: true`), not a protocol error.
 * - `mixed_content`: text, image and embedded-resource parts in one result.
 * - `sleep`: waits `ms` (or until cancelled), for timeout tests.
 */
export function exampleMcpTools(): McpTestTool[] {
  return [
    {
      name: 'echo',
      title: 'Echo',
      description: 'Returns the text it is given, unchanged.',
      inputSchema: {
        type: 'object',
        properties: { text: { type: 'string', description: 'The text to return' } },
        required: ['text'],
        additionalProperties: false,
      },
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      handler: (args) => ({ content: [{ type: 'text', text: String(args['text']) }] }),
    },
    {
      name: 'add',
      title: 'Add two numbers',
      description: 'Adds a and b and returns their sum.',
      inputSchema: {
        type: 'object',
        properties: {
          a: { type: 'number', description: 'First addend' },
          b: { type: 'number', description: 'Second addend' },
        },
        required: ['a', 'b'],
      },
      outputSchema: {
        type: 'object',
        properties: { sum: { type: 'number', description: 'a + b' } },
        required: ['sum'],
      },
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      handler: (args) => {
        const sum = Number(args['a']) + Number(args['b']);
        return {
          content: [{ type: 'text', text: JSON.stringify({ sum }) }],
          structuredContent: { sum },
        };
      },
    },
    {
      name: 'fail',
      title: 'Always fails',
      description: 'Reports a domain failure as a tool error, with the reason given.',
      inputSchema: {
        type: 'object',
        properties: { reason: { type: 'string', description: 'What the error says' } },
      },
      annotations: { destructiveHint: false },
      handler: (args) => ({
        content: [{ type: 'text', text: String(args['reason'] ?? 'the account is locked') }],
        isError: true,
      }),
    },
    {
      name: 'mixed_content',
      title: 'Mixed content',
      description: 'Returns a text, an image and an embedded resource part.',
      inputSchema: { type: 'object', properties: {} },
      annotations: { readOnlyHint: true },
      handler: () => ({
        content: [
          { type: 'text', text: 'a picture and a note' },
          { type: 'image', data: TINY_PNG_BASE64, mimeType: 'image/png' },
          {
            type: 'resource',
            resource: { uri: 'memo://note/1', mimeType: 'text/plain', text: 'remember the milk' },
          },
        ],
      }),
    },
    {
      name: 'sleep',
      title: 'Sleep',
      description: 'Waits the given number of milliseconds, or until the call is cancelled.',
      inputSchema: {
        type: 'object',
        properties: { ms: { type: 'integer', minimum: 0, description: 'How long to wait' } },
        required: ['ms'],
      },
      annotations: { readOnlyHint: true },
      handler: async (args, ctx) => {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Number(args['ms']));
          ctx.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve();
          });
        });
        return { content: [{ type: 'text', text: ctx.signal.aborted ? 'cancelled' : 'slept' }] };
      },
    },
  ];
}

const validator = new AjvJsonSchemaValidator();

function isObjectSchema(schema: Record<string, unknown> | undefined): boolean {
  return schema === undefined || schema['type'] === 'object';
}

function toListed(tool: McpTestTool): Tool {
  // Served exactly as declared: a non-object schema is the point of some tests.
  return {
    name: tool.name,
    ...(tool.title !== undefined ? { title: tool.title } : {}),
    ...(tool.description !== undefined ? { description: tool.description } : {}),
    inputSchema: (tool.inputSchema ?? { type: 'object', properties: {} }) as Tool['inputSchema'],
    ...(tool.outputSchema ? { outputSchema: tool.outputSchema as Tool['outputSchema'] } : {}),
    ...(tool.annotations ? { annotations: tool.annotations } : {}),
  };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * One MCP server (a session's worth) serving `tools()` as they are at each request. It is an
 * official-SDK `McpServer` whose tool requests are answered through its underlying `Server`:
 * `registerTool` takes zod shapes only, and these tools are raw JSON Schemas. Unknown tools and
 * arguments that break an object input schema are JSON-RPC errors (-32602), as the spec says.
 */
export function createMcpTestServer(
  tools: () => McpTestTool[],
  options: { name?: string; pageSize?: number } = {},
): McpServer {
  const mcp = new McpServer(
    { name: options.name ?? 'toolbus-test-mcp', version: '1.0.0' },
    { capabilities: { tools: { listChanged: true } } },
  );
  const pageSize = options.pageSize ?? 100;
  mcp.server.setRequestHandler(ListToolsRequestSchema, (request) => {
    const all = tools();
    const start = request.params?.cursor ? Number(request.params.cursor) : 0;
    if (!Number.isInteger(start) || start < 0 || start > all.length)
      throw new McpError(ErrorCode.InvalidParams, `invalid cursor ${request.params?.cursor}`);
    const end = start + pageSize;
    return {
      tools: all.slice(start, end).map(toListed),
      ...(end < all.length ? { nextCursor: String(end) } : {}),
    };
  });
  mcp.server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const tool = tools().find((t) => t.name === request.params.name);
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${request.params.name}`);
    const args = request.params.arguments ?? {};
    if (isObjectSchema(tool.inputSchema)) {
      const check = validator.getValidator(
        (tool.inputSchema ?? { type: 'object' }) as Parameters<typeof validator.getValidator>[0],
      )(args);
      if (!check.valid)
        throw new McpError(
          ErrorCode.InvalidParams,
          `Invalid arguments for tool ${tool.name}: ${check.errorMessage}`,
        );
    }
    const ctx: McpTestToolContext = {
      authorization: headerValue(extra.requestInfo?.headers['authorization']),
      signal: extra.signal,
    };
    if (tool.handler) return tool.handler(args, ctx);
    return {
      content: [{ type: 'text', text: JSON.stringify(args) }],
      ...(tool.outputSchema ? { structuredContent: args } : {}),
    };
  });
  return mcp;
}
