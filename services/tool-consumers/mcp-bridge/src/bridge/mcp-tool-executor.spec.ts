import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { SecretNotFoundError } from '@toolbus/security';
import { BusinessError, RetryableToolError } from '@toolbus/tool-sdk';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EgressRefusedError } from '@toolbus/egress';
import {
  CredentialOriginError,
  StdioServerNotAllowedError,
  UpstreamResponseTooLargeError,
} from '@toolbus/mcp-upstream';
import { McpClientPool, PoolClosedError } from './mcp-client-pool.js';
import {
  callFailure,
  connectFailure,
  safeUpstreamText,
  toToolOutput,
} from './mcp-tool-executor.js';

const binding = { server: 'crm', tool: 'lookup' };
const withSchema = { outputSchema: { type: 'object', properties: { sum: { type: 'number' } } } };

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('toToolOutput', () => {
  it('turns isError into a business error carrying the upstream text, scrubbed', () => {
    const error = thrown(() =>
      toToolOutput(
        {
          content: [
            { type: 'text', text: 'order 42 is locked\u0007' },
            { type: 'image', data: 'AAAA', mimeType: 'image/png' },
            { type: 'text', text: 'request had Bearer s3cr3t-token' },
          ],
          isError: true,
        },
        {},
        binding,
        ['s3cr3t-token'],
      ),
    );
    expect(error).toBeInstanceOf(BusinessError);
    expect(error).toMatchObject({
      code: 'upstream_tool_error',
      errorClass: 'business',
      message: 'order 42 is locked\nrequest had Bearer [redacted]',
    });
    expect(thrown(() => toToolOutput({ content: [], isError: true }, {}, binding))).toMatchObject({
      message: 'the upstream tool "lookup" reported an error without a message',
    });
  });

  it('returns structuredContent when the definition has an output schema', () => {
    expect(
      toToolOutput(
        { content: [{ type: 'text', text: '{"sum":5}' }], structuredContent: { sum: 5 } },
        withSchema,
        binding,
      ),
    ).toEqual({ sum: 5 });
    // A server that predates structuredContent: the JSON object of its one text part.
    expect(
      toToolOutput({ content: [{ type: 'text', text: '{"sum":7}' }] }, withSchema, binding),
    ).toEqual({ sum: 7 });
    expect(
      thrown(() =>
        toToolOutput({ content: [{ type: 'text', text: 'seven' }] }, withSchema, binding),
      ),
    ).toMatchObject({ code: 'upstream_protocol_error' });
  });

  it('returns the content parts as the SDK gives them when there is no output schema', () => {
    const content = [
      { type: 'text' as const, text: 'hello' },
      { type: 'image' as const, data: 'AAAA', mimeType: 'image/png' },
      {
        type: 'resource' as const,
        resource: { uri: 'memo://1', mimeType: 'text/plain', text: 'note' },
      },
    ];
    expect(toToolOutput({ content }, {}, binding)).toEqual({ content });
    expect(toToolOutput({ content, structuredContent: { a: 1 } }, {}, binding)).toEqual({
      content,
      structuredContent: { a: 1 },
    });
  });
});

describe('toToolOutput scrubs what the bridge sent', () => {
  it('from every string of structured content and of content parts', () => {
    const sent = ['s3cr3t-token'];
    expect(
      toToolOutput(
        { content: [], structuredContent: { sum: 5, seen: 'Bearer s3cr3t-token' } },
        withSchema,
        binding,
        sent,
      ),
    ).toEqual({ sum: 5, seen: 'Bearer [redacted]' });
    expect(
      toToolOutput(
        {
          content: [
            { type: 'text', text: 'you sent Authorization: Bearer s3cr3t-token' },
            { type: 'resource', resource: { uri: 'memo://s3cr3t-token', text: 'x' } },
          ],
        },
        {},
        binding,
        sent,
      ),
    ).toEqual({
      content: [
        { type: 'text', text: 'you sent Authorization: Bearer [redacted]' },
        { type: 'resource', resource: { uri: 'memo://[redacted]', text: 'x' } },
      ],
    });
  });
});

describe('callFailure', () => {
  const classify = (error: unknown) => callFailure(error, binding, 1500, ['tok3n']);

  it('makes transport failures retryable and drops the client', () => {
    expect(classify(new McpError(ErrorCode.ConnectionClosed, 'Connection closed'))).toMatchObject({
      error: { code: 'upstream_unavailable' },
      reconnect: true,
      retryNow: false,
    });
    const refused = Object.assign(new TypeError('fetch failed'), {
      cause: { code: 'ECONNREFUSED' },
    });
    const failure = classify(refused);
    expect(failure.error).toBeInstanceOf(RetryableToolError);
    expect(failure).toMatchObject({ reconnect: true, retryNow: false });
    expect(failure.error.message).toBe('upstream MCP server "crm" is unavailable; try again');
    expect(classify(new StreamableHTTPError(503, 'busy'))).toMatchObject({
      error: {
        code: 'upstream_unavailable',
        message: 'upstream MCP server "crm" answered HTTP 503; try again',
      },
      reconnect: false,
    });
  });

  it('retries at once, reconnected, when nothing reached the tool', () => {
    expect(classify(new StreamableHTTPError(404, 'Session not found'))).toMatchObject({
      error: { code: 'upstream_unavailable' },
      reconnect: true,
      retryNow: true,
    });
    const unauthorized = classify(new StreamableHTTPError(401, 'no'));
    expect(unauthorized.error).toBeInstanceOf(BusinessError);
    expect(unauthorized).toMatchObject({
      error: { code: 'upstream_unauthorized', errorClass: 'forbidden' },
      reconnect: true,
      retryNow: true,
    });
  });

  it('refuses what no retry can cure: an internal address, an answer past the limit', () => {
    const egress = new TypeError('fetch failed', {
      cause: new EgressRefusedError('crm.internal', '10.0.0.8', 'private'),
    });
    expect(classify(egress)).toMatchObject({
      error: { code: 'egress_refused', errorClass: 'forbidden' },
      retryNow: false,
    });
    expect(classify(new UpstreamResponseTooLargeError('crm', 2048))).toMatchObject({
      error: {
        code: 'upstream_response_too_large',
        message:
          'upstream MCP server "crm" answered "lookup" with more than 2048 bytes, the most this bridge accepts (MCP_MAX_RESPONSE_BYTES); the result was refused',
      },
      reconnect: false,
    });
  });

  it('names a timeout with the budget it had', () => {
    const failure = classify(new McpError(ErrorCode.RequestTimeout, 'Request timed out'));
    expect(failure.error).toBeInstanceOf(RetryableToolError);
    expect(failure.error).toMatchObject({
      code: 'upstream_timeout',
      message: 'upstream MCP server "crm" did not answer "lookup" within 1500 ms',
    });
  });

  it('makes protocol errors final and clear', () => {
    const rejected = classify(
      new McpError(ErrorCode.InvalidParams, 'Unknown tool: lookup (key tok3n)'),
    );
    expect(rejected.error).toBeInstanceOf(BusinessError);
    expect(rejected).toMatchObject({
      error: {
        code: 'upstream_rejected_call',
        errorClass: 'validation',
        message:
          'upstream MCP server "crm" rejected the call of "lookup": Unknown tool: lookup (key [redacted]) (MCP error -32602)',
      },
      reconnect: false,
      retryNow: false,
    });
    expect(classify(new McpError(ErrorCode.InternalError, 'boom')).error).toMatchObject({
      code: 'upstream_protocol_error',
    });
    const malformed = z.object({ content: z.array(z.unknown()) }).safeParse({}).error;
    expect(classify(malformed).error).toMatchObject({ code: 'upstream_protocol_error' });
    expect(classify(new StreamableHTTPError(415, 'bad type')).error).toBeInstanceOf(BusinessError);
  });
});

describe('connectFailure', () => {
  it('tells configuration problems from an unavailable upstream', () => {
    expect(
      connectFailure(new StdioServerNotAllowedError('no entry "shell"'), binding),
    ).toMatchObject({ code: 'upstream_not_allowed', errorClass: 'forbidden' });
    const origin = new CredentialOriginError('upstream MCP server "crm": the credential "x"...');
    expect(connectFailure(origin, binding)).toMatchObject({
      code: 'credential_origin',
      errorClass: 'forbidden',
      message: origin.message,
    });
    // fetch reports a refused connection as a TypeError whose cause is the refusal.
    const egress = new TypeError('fetch failed', {
      cause: new EgressRefusedError('169.254.169.254', '169.254.169.254', 'link-local'),
    });
    expect(connectFailure(egress, binding)).toMatchObject({
      code: 'egress_refused',
      errorClass: 'forbidden',
      message:
        'upstream MCP server "crm" was not called: egress to 169.254.169.254 (link-local) is not allowed; EGRESS_ALLOW lists the exceptions',
    });
    expect(connectFailure(new StreamableHTTPError(401, 'no'), binding)).toMatchObject({
      code: 'upstream_unauthorized',
    });
    expect(connectFailure(new PoolClosedError('closed'), binding)).toBeInstanceOf(
      RetryableToolError,
    );
    expect(
      connectFailure(new McpError(ErrorCode.RequestTimeout, 'Request timed out'), binding),
    ).toMatchObject({ code: 'upstream_timeout' });
    expect(connectFailure(new Error('spawn ENOENT'), binding)).toMatchObject({
      code: 'upstream_unavailable',
    });
    const missing = new SecretNotFoundError('secret "crm-token" has no key "token"');
    expect(connectFailure(missing, binding)).toBe(missing);
  });
});

describe('safeUpstreamText', () => {
  it('redacts what the bridge sent, drops control characters and truncates', () => {
    expect(safeUpstreamText('a\u0000b\tc\nd tok', ['tok'])).toBe('ab\tc\nd [redacted]');
    const long = safeUpstreamText('x'.repeat(5000), []);
    expect(long).toHaveLength(1000);
    expect(long.endsWith('…')).toBe(true);
  });
});

describe('McpClientPool.keyOf', () => {
  it('shares a client per server, transport and secret, whatever the field order', () => {
    const a = McpClientPool.keyOf({
      kind: 'mcp',
      server: 'crm',
      tool: 'one',
      transport: { kind: 'streamable_http', url: 'http://crm/mcp' },
      credentialsSecret: 'crm-token',
    });
    const b = McpClientPool.keyOf({
      credentialsSecret: 'crm-token',
      transport: { url: 'http://crm/mcp', kind: 'streamable_http' },
      tool: 'two',
      server: 'crm',
      kind: 'mcp',
    });
    expect(a).toBe(b);
    expect(a).toMatch(/^crm#[0-9a-f]{16}$/);
    expect(
      McpClientPool.keyOf({
        kind: 'mcp',
        server: 'crm',
        tool: 'one',
        transport: { kind: 'streamable_http', url: 'http://crm/mcp' },
        credentialsSecret: 'other-token',
      }),
    ).not.toBe(a);
  });
});
