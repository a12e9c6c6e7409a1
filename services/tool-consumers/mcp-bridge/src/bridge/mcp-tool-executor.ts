import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CallToolResultSchema,
  ErrorCode,
  McpError,
  type CallToolResult,
} from '@modelcontextprotocol/sdk/types.js';
import type { McpBinding, ToolDefinition } from '@toolbus/contracts';
import { egressRefusalOf } from '@toolbus/egress';
import {
  CredentialOriginError,
  StdioServerNotAllowedError,
  UpstreamResponseTooLargeError,
} from '@toolbus/mcp-upstream';
import type { Logger } from '@toolbus/observability';
import { redactOutput, redactSecrets } from '@toolbus/security';
import { BusinessError, RetryableToolError } from '@toolbus/tool-sdk';
import { PoolClosedError, type McpClientPool, type PooledClient } from './mcp-client-pool.js';

/** What a call needs from the SDK's tool context. */
export interface McpCallContext {
  /** Aborted at the call's deadline and on shutdown. */
  signal: AbortSignal;
  /** Epoch milliseconds. */
  deadline: number;
  logger: Logger;
}

/** Longest piece of upstream text put into an error message. */
export const MAX_UPSTREAM_TEXT = 1000;

/**
 * Upstream text made fit for a model to read: credentials the bridge sent replaced (a server
 * that echoes its request must not leak them), control characters dropped, truncated.
 */
export function safeUpstreamText(
  text: string,
  sentSecrets: readonly string[],
  max = MAX_UPSTREAM_TEXT,
): string {
  let out = redactSecrets(text, sentSecrets);
  out = [...out]
    .filter((c) => {
      const code = c.charCodeAt(0);
      const control = (code < 32 && c !== '\n' && c !== '\t') || code === 127;
      return !control;
    })
    .join('')
    .trim();
  return out.length > max ? `${out.slice(0, max - 1)}…` : out;
}

function textOf(content: CallToolResult['content']): string {
  return content
    .flatMap((part) => (part.type === 'text' ? [part.text] : []))
    .join('\n')
    .trim();
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Servers that predate structuredContent send the object as the JSON of one text part. */
function jsonTextObject(content: CallToolResult['content']): Record<string, unknown> | undefined {
  const texts = content.filter((part) => part.type === 'text');
  if (texts.length !== 1 || texts[0]?.type !== 'text') return undefined;
  try {
    const parsed: unknown = JSON.parse(texts[0].text);
    return isJsonObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The tool output for an upstream result:
 * - `isError: true` → a business error (`upstream_tool_error`) whose message is the upstream's
 *   text, scrubbed and truncated: it is a domain failure the model should read.
 * - the definition has an output schema → `structuredContent` (or, from servers that predate
 *   it, the JSON object of a single text part); the runtime validates it against the schema.
 * - otherwise → `{ content: [...] }`, the content parts exactly as the SDK returns them (text,
 *   image, audio, resource, resource_link), plus `structuredContent` when the server sent one.
 * Every string of the output has the credentials the bridge sent replaced by `[redacted]`: a
 * server echoing its request must not hand them to the model.
 */
export function toToolOutput(
  result: CallToolResult,
  definition: Pick<ToolDefinition, 'outputSchema'>,
  binding: Pick<McpBinding, 'server' | 'tool'>,
  sentSecrets: readonly string[] = [],
): unknown {
  if (result.isError) {
    const text = safeUpstreamText(textOf(result.content), sentSecrets);
    throw new BusinessError(
      'upstream_tool_error',
      text || `the upstream tool "${binding.tool}" reported an error without a message`,
    );
  }
  if (definition.outputSchema) {
    const structured = isJsonObject(result.structuredContent)
      ? result.structuredContent
      : jsonTextObject(result.content);
    if (!structured)
      throw new BusinessError(
        'upstream_protocol_error',
        `upstream MCP server "${binding.server}" returned no structured content for "${binding.tool}", whose definition has an output schema`,
      );
    return redactOutput(structured, sentSecrets);
  }
  return redactOutput(
    {
      content: result.content,
      ...(isJsonObject(result.structuredContent)
        ? { structuredContent: result.structuredContent }
        : {}),
    },
    sentSecrets,
  );
}

/** A result (or an answer cut off) larger than MCP_MAX_RESPONSE_BYTES. */
function tooLarge(binding: Pick<McpBinding, 'server' | 'tool'>, limit: number): BusinessError {
  return new BusinessError(
    'upstream_response_too_large',
    `upstream MCP server "${binding.server}" answered "${binding.tool}" with more than ${limit} bytes, the most this bridge accepts (MCP_MAX_RESPONSE_BYTES); the result was refused`,
  );
}

/** The first error of a class in a `cause` chain (fetch and the SDK wrap what failed). */
function causeOf<E extends Error>(
  error: unknown,
  type: abstract new (...args: never[]) => E,
): E | undefined {
  for (let e = error, depth = 0; e && depth < 8; depth++) {
    if (e instanceof type) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The refusals that hold before anything reaches the upstream: the same on every attempt. */
function refusalOf(error: unknown, binding: Pick<McpBinding, 'server'>): Error | undefined {
  const egress = egressRefusalOf(error);
  if (egress)
    return new BusinessError(
      'egress_refused',
      `upstream MCP server "${binding.server}" was not called: ${egress.message}`,
      'forbidden',
    );
  const origin = causeOf(error, CredentialOriginError);
  if (origin) return new BusinessError('credential_origin', origin.message, 'forbidden');
  return undefined;
}

interface Failure {
  error: Error;
  /** The client is broken: forget it, the next call connects again. */
  reconnect: boolean;
  /** Nothing reached the tool (stale session, rejected credentials): retry once, reconnected. */
  retryNow: boolean;
}

/**
 * An McpError's text without the SDK's "MCP error <code>: " prefixes (a server built on the SDK
 * sends one, the client adds another), then the code once.
 */
function upstreamMessage(error: McpError, sentSecrets: readonly string[]): string {
  const detail = error.message.replace(/^(MCP error -?\d+:\s*)+/, '');
  return `${safeUpstreamText(detail, sentSecrets, 300)} (MCP error ${error.code})`;
}

/**
 * Classifies a failure of tools/call on a connected client. `maxResponseBytes` is the limit
 * to name when an answer was cut off (MCP_MAX_RESPONSE_BYTES; the HTTP cut-off sits a little
 * beyond it, see the pool).
 */
export function callFailure(
  error: unknown,
  binding: Pick<McpBinding, 'server' | 'tool'>,
  timeoutMs: number,
  sentSecrets: readonly string[] = [],
  maxResponseBytes?: number,
): Failure {
  const server = `upstream MCP server "${binding.server}"`;
  const unavailable = (message: string, reconnect: boolean): Failure => ({
    error: new RetryableToolError('upstream_unavailable', message),
    reconnect,
    retryNow: false,
  });
  const refused = refusalOf(error, binding);
  if (refused) return { error: refused, reconnect: true, retryNow: false };
  const large = causeOf(error, UpstreamResponseTooLargeError);
  if (large)
    return {
      error: tooLarge(binding, maxResponseBytes ?? large.limit),
      reconnect: false,
      retryNow: false,
    };
  if (error instanceof McpError) {
    switch (error.code) {
      case ErrorCode.ConnectionClosed:
        return unavailable(`the connection to ${server} closed during the call; try again`, true);
      case ErrorCode.RequestTimeout:
        return {
          error: new RetryableToolError(
            'upstream_timeout',
            `${server} did not answer "${binding.tool}" within ${timeoutMs} ms`,
          ),
          reconnect: false,
          retryNow: false,
        };
      case ErrorCode.InvalidParams:
        // The spec's answer to an unknown tool or arguments the server refuses.
        return {
          error: new BusinessError(
            'upstream_rejected_call',
            `${server} rejected the call of "${binding.tool}": ${upstreamMessage(error, sentSecrets)}`,
            'validation',
          ),
          reconnect: false,
          retryNow: false,
        };
      default:
        return {
          error: new BusinessError(
            'upstream_protocol_error',
            `${server} answered the call of "${binding.tool}" with a protocol error: ${upstreamMessage(error, sentSecrets)}`,
          ),
          reconnect: false,
          retryNow: false,
        };
    }
  }
  if (error instanceof StreamableHTTPError) {
    const status = error.code ?? 0;
    if (status === 401 || status === 403)
      return {
        error: new BusinessError(
          'upstream_unauthorized',
          `${server} refused the bridge's credentials (HTTP ${status})`,
          'forbidden',
        ),
        reconnect: true,
        retryNow: true,
      };
    if (status === 404)
      return { ...unavailable(`${server} lost the MCP session; try again`, true), retryNow: true };
    if (status === 408 || status === 429 || status >= 500)
      return unavailable(`${server} answered HTTP ${status}; try again`, false);
    return {
      error: new BusinessError(
        'upstream_protocol_error',
        `${server} answered the call of "${binding.tool}" with HTTP ${status}`,
      ),
      reconnect: true,
      retryNow: false,
    };
  }
  if (error instanceof Error && error.name === 'ZodError')
    return {
      error: new BusinessError(
        'upstream_protocol_error',
        `${server} answered the call of "${binding.tool}" with a malformed result`,
      ),
      reconnect: false,
      retryNow: false,
    };
  // Connection refused or reset, DNS, a closed stdio pipe: the transport is what failed.
  return unavailable(`${server} is unavailable; try again`, true);
}

/** Classifies a failure to connect (spawn or reach the server, then initialize). */
export function connectFailure(error: unknown, binding: Pick<McpBinding, 'server'>): Error {
  const server = `upstream MCP server "${binding.server}"`;
  if (error instanceof StdioServerNotAllowedError)
    return new BusinessError('upstream_not_allowed', error.message, 'forbidden');
  const refused = refusalOf(error, binding);
  if (refused) return refused;
  const large = causeOf(error, UpstreamResponseTooLargeError);
  if (large)
    return new BusinessError(
      'upstream_response_too_large',
      `${server} answered the MCP handshake with more than ${large.limit} bytes`,
    );
  if (error instanceof PoolClosedError)
    return new RetryableToolError('shutting_down', 'the MCP bridge is shutting down; try again');
  if (error instanceof StreamableHTTPError && (error.code === 401 || error.code === 403))
    return new BusinessError(
      'upstream_unauthorized',
      `${server} refused the bridge's credentials (HTTP ${error.code})`,
      'forbidden',
    );
  if (error instanceof McpError && error.code === ErrorCode.RequestTimeout)
    return new RetryableToolError(
      'upstream_timeout',
      `${server} did not complete the MCP handshake in time`,
    );
  if (error instanceof McpError && error.code !== ErrorCode.ConnectionClosed)
    return new BusinessError(
      'upstream_protocol_error',
      `${server} refused the MCP handshake: ${upstreamMessage(error, [])}`,
    );
  // A missing secret is the operator's to fix: passed on as is, the SDK answers "internal"
  // with a reference and logs which secret (never its value).
  if (error instanceof Error && error.name === 'SecretNotFoundError') return error;
  return new RetryableToolError('upstream_unavailable', `${server} is unavailable; try again`);
}

/**
 * Calls upstream MCP tools through the pool: the tool named by the definition's binding, with
 * the validated input as arguments and nothing else (no principal, no caller token: the only
 * credentials that go upstream are the binding's secret). Each call is bounded by the call's
 * signal and by `min(definition.timeoutMs, time to the deadline)`.
 */
export class McpToolExecutor {
  constructor(
    private readonly pool: McpClientPool,
    private readonly limits: { maxResponseBytes: number },
  ) {}

  async call(
    definition: ToolDefinition,
    input: Record<string, unknown>,
    ctx: McpCallContext,
  ): Promise<unknown> {
    const binding = definition.binding;
    if (binding?.kind !== 'mcp')
      throw new Error(`tool ${definition.name} is not bound to an upstream MCP server`);
    for (let attempt = 1; ; attempt++) {
      const started = Date.now();
      const timeoutMs = Math.max(1, Math.min(definition.timeoutMs, ctx.deadline - started));
      const timeout = AbortSignal.timeout(timeoutMs);
      let pooled: PooledClient;
      try {
        pooled = await this.pool.acquire(binding, AbortSignal.any([ctx.signal, timeout]));
      } catch (error) {
        if (ctx.signal.aborted) throw error;
        if (timeout.aborted)
          throw new RetryableToolError(
            'upstream_timeout',
            `upstream MCP server "${binding.server}" could not be reached within ${timeoutMs} ms`,
          );
        ctx.logger.warn({ err: error, upstream: binding.server }, 'upstream MCP connect failed');
        throw connectFailure(error, binding);
      }
      let result: CallToolResult;
      try {
        // Parsed with CallToolResultSchema, so it is that shape; the SDK's return type also
        // admits the pre-2025 `toolResult` form, which that schema does not let through.
        result = (await pooled.client.callTool(
          { name: binding.tool, arguments: input },
          CallToolResultSchema,
          { signal: ctx.signal, timeout: Math.max(1, started + timeoutMs - Date.now()) },
        )) as CallToolResult;
      } catch (error) {
        // At the deadline the SDK runtime answers; this error is only the SDK's cancellation.
        if (ctx.signal.aborted) throw error;
        const failure = callFailure(
          error,
          binding,
          timeoutMs,
          pooled.sentSecrets,
          this.limits.maxResponseBytes,
        );
        ctx.logger.warn(
          { err: error, upstream: binding.server, tool: binding.tool, attempt },
          'upstream MCP call failed',
        );
        if (failure.reconnect) await this.pool.invalidate(pooled);
        if (failure.retryNow && attempt === 1) continue;
        throw failure.error;
      }
      // Measured as the JSON it came as: a stdio answer has no HTTP limit in front of it.
      if (Buffer.byteLength(JSON.stringify(result)) > this.limits.maxResponseBytes)
        throw tooLarge(binding, this.limits.maxResponseBytes);
      return toToolOutput(result, definition, binding, pooled.sentSecrets);
    }
  }
}
