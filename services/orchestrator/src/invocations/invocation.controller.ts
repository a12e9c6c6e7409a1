import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post } from '@nestjs/common';
import type { ToolInvocationAnswered } from '@toolbus/contracts';
import { ProblemError, Public } from '@toolbus/service-kit';
import { InvocationService, type ListedTool } from './invocation.service.js';

/**
 * The latency-bound path for direct calls of synchronous tools: the gateway posts here over
 * internal HTTP with keep-alive instead of going through Kafka. The tool's own failures and
 * the policy's refusals are answers (200, `outcome` says which), as on the bus; only a body
 * that is not an invocation at all is an HTTP error.
 */
@Controller('internal/v1/tools')
@Public('each request carries the gateway’s principal assertion, verified before anything runs')
export class InvocationController {
  constructor(@Inject(InvocationService) private readonly invocations: InvocationService) {}

  /** The tools the asserted caller may call (the gateway's MCP `tools/list`). */
  @Get()
  async list(
    @Headers('x-toolbus-principal-assertion') assertion: string | undefined,
  ): Promise<{ tools: ListedTool[] }> {
    const listed = await this.invocations.list(assertion);
    if ('refusal' in listed) throw new ProblemError(401, 'untrusted_caller', listed.refusal);
    return listed;
  }

  @Post(':call')
  @HttpCode(200)
  async invoke(
    @Param('call') call: string,
    @Body() body: unknown,
  ): Promise<ToolInvocationAnswered> {
    const match = /^([a-z][a-z0-9_]{0,63}):invoke$/.exec(call);
    if (!match)
      throw new ProblemError(
        404,
        'not_found',
        `no such endpoint: POST /internal/v1/tools/<tool name>:invoke (got "${call}")`,
      );
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw new ProblemError(
        400,
        'bad_request',
        'the body must be a JSON object: the tool invocation',
      );
    return this.invocations.invoke({ ...(body as object), tool: match[1] });
  }
}
