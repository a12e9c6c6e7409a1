import { Body, Controller, Headers, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { context, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import type { ErrorClass, ToolCallCompleted } from '@toolbus/contracts';
import { ProblemError, Public } from '@toolbus/service-kit';
import { UNAUTHENTICATED_GRANT_CODES } from './call-authorizer.js';
import { ToolRuntime } from './runtime.js';

export const TOOL_RUNTIME_OPTIONS = Symbol.for('toolbus.tool-sdk.http');

const STATUS: Record<ErrorClass, number> = {
  validation: 422,
  business: 409,
  forbidden: 403,
  not_found: 404,
  timeout: 504,
  unavailable: 503,
  rate_limited: 429,
  budget_exceeded: 402,
  internal: 500,
};

/**
 * Synchronous tools over HTTP: `POST /tools/<name>:invoke` with the tool call (without `tool`
 * and `deadline`) as the body and its call grant as `Authorization: Bearer <grant>` (a `grant`
 * in the body is ignored). The deadline comes from `x-toolbus-deadline` (RFC 3339) or
 * `x-toolbus-timeout-ms`, default 2 s. Failures are problem+json carrying the tool error: a
 * missing, invalid or expired grant is a 401 (no trustworthy grant was shown: get one), a
 * genuine grant that does not cover this call (another service, tool, input, key, scope or
 * region) a 403, as RFC 6750 separates invalid_token from insufficient_scope.
 */
@Controller('tools')
@Public('no user token: every call is authorized by its call grant, verified by the runtime')
export class ToolHttpController {
  constructor(
    private readonly runtime: ToolRuntime,
    @Inject(TOOL_RUNTIME_OPTIONS) private readonly options: { defaultDeadlineMs: number },
  ) {}

  @Post(':call')
  @HttpCode(200)
  async invoke(
    @Param('call') callPath: string,
    @Body() body: unknown,
    @Headers() headers: Record<string, string | undefined>,
  ): Promise<ToolCallCompleted> {
    const match = /^([a-z][a-z0-9_]{0,63}):invoke$/.exec(callPath);
    if (!match)
      throw new ProblemError(
        404,
        'not_found',
        `no such endpoint: use POST /tools/<tool name>:invoke (got "${callPath}")`,
      );
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw new ProblemError(400, 'bad_request', 'the body must be a JSON object: the tool call');
    const timeoutHeader = headers['x-toolbus-timeout-ms'];
    const deadline =
      headers['x-toolbus-deadline'] ??
      new Date(
        Date.now() +
          (timeoutHeader && /^\d+$/.test(timeoutHeader)
            ? Number(timeoutHeader)
            : this.options.defaultDeadlineMs),
      ).toISOString();
    const carrier = Object.fromEntries(
      Object.entries(headers).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
    const bearer = /^Bearer\s+(\S+)$/i.exec(headers['authorization'] ?? '')?.[1];
    const parent = propagation.extract(ROOT_CONTEXT, carrier);
    const span = trace
      .getTracer('@toolbus/tool-sdk')
      .startSpan(`tool ${match[1]} invoke`, {}, parent);
    const result = await context.with(trace.setSpan(parent, span), () =>
      this.runtime.invoke(
        {
          callId: headers['x-request-id'] ?? `http-${Date.now()}`,
          ...(body as object),
          tool: match[1],
          deadline,
          grant: bearer,
        },
        'http',
      ),
    );
    span.end();
    if (result.ok) return result.completed;
    // The tool error rides in the problem (`error`, with the call's ids), as on the bus.
    const { error } = result.failed;
    if (UNAUTHENTICATED_GRANT_CODES.has(error.code))
      throw new ProblemError(401, error.code, error.message, {
        ...result.failed,
        headers: {
          'www-authenticate':
            error.code === 'grant_missing'
              ? 'Bearer realm="toolbus"'
              : 'Bearer realm="toolbus", error="invalid_token"',
        },
      });
    throw new ProblemError(STATUS[error.class], error.code, error.message, { ...result.failed });
  }
}
