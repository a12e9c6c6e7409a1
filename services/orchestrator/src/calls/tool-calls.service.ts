import { trace, SpanStatusCode } from '@opentelemetry/api';
import type { SafeError, ToolDefinition } from '@toolbus/contracts';
import type { Logger } from '@toolbus/observability';
import {
  policyMetrics,
  RefusalCodes,
  refusalError,
  runPolicyChain,
  type PolicyStep,
  type Refusal,
  type ToolBreakers,
} from '@toolbus/policy';
import type { ToolCatalog } from '../catalog/tool-catalog.js';
import type { AuditPublisher } from '../audit/audit-publisher.js';
import { orchestratorMetrics } from '../telemetry/metrics.js';
import type { DispatchOutcome, Dispatcher } from './dispatcher.js';
import type { ToolCallRequest, ToolCallResult, ToolCalls } from './tool-call.js';

/**
 * The one enforcement point of every tool call, a model's or a direct one: the catalog routes
 * it to a version the caller may use (scopes, residency), then the policy chain in its order
 * (scope, excessive agency, residency, arguments, budget, quota; a step may refuse, with a
 * reason the model reads, or hold), then the tool's breaker (a cacheable read-only tool is
 * answered from the cache, marked stale, while it is open), then the dispatch with a grant.
 * Every decision and outcome is audited.
 */
export class ToolCallsService implements ToolCalls {
  constructor(
    private readonly catalog: ToolCatalog,
    private readonly steps: PolicyStep[],
    private readonly breakers: ToolBreakers,
    private readonly dispatcher: Dispatcher,
    private readonly audit: AuditPublisher,
    private readonly logger: Logger,
  ) {}

  run(request: ToolCallRequest): Promise<ToolCallResult> {
    return trace
      .getTracer('@toolbus/orchestrator')
      .startActiveSpan(`execute_tool ${request.tool}`, async (span) => {
        span.setAttributes({
          'gen_ai.operation.name': 'execute_tool',
          'gen_ai.tool.name': request.tool,
          'gen_ai.tool.call.id': request.idempotencyKey,
          'toolbus.tenant': request.principal.tenant,
          'toolbus.direct': request.offered === undefined,
        });
        try {
          const result = await this.govern(request);
          span.setAttributes({
            'toolbus.outcome': result.outcome,
            ...(result.toolVersion ? { 'toolbus.tool.version': result.toolVersion } : {}),
            ...(result.error ? { 'error.type': result.error.code } : {}),
            ...(result.stale ? { 'toolbus.stale_age_ms': result.stale.ageMs } : {}),
          });
          if (result.outcome !== 'succeeded')
            span.setStatus({ code: SpanStatusCode.ERROR, message: result.error?.code });
          orchestratorMetrics.toolCalls().inc({
            tool: request.tool,
            outcome: result.stale ? 'stale' : result.outcome,
          });
          return result;
        } finally {
          span.end();
        }
      });
  }

  private async govern(request: ToolCallRequest): Promise<ToolCallResult> {
    const started = performance.now();
    const done = (r: Omit<ToolCallResult, 'durationMs' | 'idempotencyKey' | 'tool'>) => ({
      ...r,
      tool: request.tool,
      idempotencyKey: request.idempotencyKey,
      durationMs: performance.now() - started,
    });
    const resolved = this.catalog.resolve(
      request.tool,
      request.principal,
      request.tenantSettings,
      request.version,
    );
    if ('refusal' in resolved) {
      const refusal: Refusal = {
        kind: 'refuse',
        step: resolved.refusal.code === RefusalCodes.regionNotAllowed ? 'residency' : 'scope',
        code: resolved.refusal.code,
        errorClass:
          resolved.refusal.code === RefusalCodes.regionNotAllowed ||
          resolved.refusal.code === RefusalCodes.insufficientScope
            ? 'forbidden'
            : 'not_found',
        retryable: false,
        message: resolved.refusal.message,
      };
      // The chain and the breakers count their own refusals; the catalog's are counted here.
      policyMetrics.refusals().inc({ step: refusal.step, code: refusal.code });
      return this.refused(request, undefined, refusal, done);
    }
    const tool = resolved.tool;
    const chain = await runPolicyChain(
      this.steps,
      {
        tool,
        input: request.input,
        principal: request.principal,
        tenant: request.principal.tenant,
        ...(request.offered ? { offeredTools: request.offered } : {}),
        ...(request.askId ? { askId: request.askId } : {}),
      },
      { tenantSettings: request.tenantSettings },
    );
    if (chain.decision.kind === 'refuse') return this.refused(request, tool, chain.decision, done);
    if (chain.decision.kind === 'hold')
      return this.refused(
        request,
        tool,
        {
          kind: 'refuse',
          step: chain.decision.step,
          code: 'held',
          errorClass: 'forbidden',
          retryable: false,
          message: `${tool.name} was held by ${chain.decision.step}: ${chain.decision.reason}`,
        },
        done,
      );
    const outcome = await this.breakers.run(tool, request.input, () =>
      this.dispatcher.dispatch({
        tool,
        input: request.input,
        principal: request.principal,
        idempotencyKey: request.idempotencyKey,
        deadline: request.deadline,
        ...(request.contextId ? { contextId: request.contextId } : {}),
      }),
    );
    if (outcome.outcome === 'refused') return this.refused(request, tool, outcome.refusal, done);
    const dispatched: DispatchOutcome = outcome.result;
    const stale = outcome.outcome === 'stale' ? { ageMs: outcome.ageMs } : undefined;
    const result = done(
      dispatched.ok
        ? {
            outcome: 'succeeded',
            toolVersion: tool.version,
            output: dispatched.output,
            ...(stale ? { stale } : {}),
          }
        : { outcome: 'failed', toolVersion: tool.version, error: dispatched.error },
    );
    await this.audit.toolCall(request, tool, result, chain.steps);
    return result;
  }

  private async refused(
    request: ToolCallRequest,
    tool: ToolDefinition | undefined,
    refusal: Refusal,
    done: (r: Omit<ToolCallResult, 'durationMs' | 'idempotencyKey' | 'tool'>) => ToolCallResult,
  ): Promise<ToolCallResult> {
    const error: SafeError = refusalError(refusal);
    this.logger.info(
      {
        tool: request.tool,
        step: refusal.step,
        code: refusal.code,
        tenant: request.principal.tenant,
      },
      'tool call refused',
    );
    const result = done({
      outcome: 'refused',
      error,
      ...(tool ? { toolVersion: tool.version } : {}),
    });
    await this.audit.toolCall(request, tool, result, [], refusal);
    return result;
  }
}

/** Which dispatch outcomes open a tool's breaker: the tool failing, not the caller's mistakes. */
export function isToolFailure(outcome: { error: unknown } | { result: unknown }): boolean {
  if ('error' in outcome) return true;
  const dispatched = outcome.result as DispatchOutcome;
  return !dispatched.ok && ['timeout', 'unavailable', 'internal'].includes(dispatched.error.class);
}
