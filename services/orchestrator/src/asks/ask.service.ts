import { randomUUID } from 'node:crypto';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import {
  AskRequested,
  validationError,
  type AskCompleted,
  type AskFailed,
  type SafeError,
} from '@toolbus/contracts';
import type { Logger } from '@toolbus/observability';
import type { TenantSettings } from '@toolbus/policy';
import { StateUnavailableError } from '@toolbus/state';
import type { AuditPublisher } from '../audit/audit-publisher.js';
import { askBinding, type EdgeTrust } from '../edge/edge-trust.js';
import { orchestratorMetrics } from '../telemetry/metrics.js';
import { type AgentLoop, AskRefused } from './agent-loop.js';
import type { AskRecords } from './ask-records.js';

export type AskAnswer = { ok: true; completed: AskCompleted } | { ok: false; failed: AskFailed };

/**
 * One ask, from its message to its answer: validated (a bad ask is answered with each bad
 * field named), its caller believed only through the gateway's assertion, recorded so any
 * replica can report it, run by the agent loop within its deadline, audited. An ask delivered
 * again (a crash, a rebalance) finds its record: a finished one is answered as it was, an
 * unfinished one resumes from its checkpoint.
 */
export class AskService {
  constructor(
    private readonly loop: (progress: ReturnType<AskRecords['progressOf']>) => AgentLoop,
    private readonly records: AskRecords,
    private readonly trust: EdgeTrust,
    private readonly audit: AuditPublisher,
    private readonly settingsOf: (tenant: string) => TenantSettings,
    private readonly defaultDeadlineMs: number,
    private readonly logger: Logger,
  ) {}

  async answer(raw: unknown, delivery: { id: string; deadline?: string }): Promise<AskAnswer> {
    const started = performance.now();
    const parsed = AskRequested.safeParse(raw);
    const contextId = contextOf(raw);
    const fail = (askId: string, error: SafeError): AskAnswer => {
      orchestratorMetrics.asks().inc({ outcome: 'failed' });
      return {
        ok: false,
        failed: { contextId, askId, error, failedAt: new Date().toISOString() },
      };
    };
    if (!parsed.success)
      return fail(delivery.id, validationError('invalid_ask', 'the ask is invalid', parsed.error));
    const ask = parsed.data;
    if (!ask.askId)
      return fail(delivery.id, {
        class: 'validation',
        code: 'invalid_ask',
        message: 'the ask has no askId: the gateway names every ask, and binds it in its assertion',
        retryable: false,
        issues: [{ pointer: '/askId', message: 'is required' }],
      });
    const askId = ask.askId;
    const trusted = await this.trust.principalOf(
      ask.principalAssertion,
      askBinding(ask),
      ask.principal,
    );
    if ('refusal' in trusted)
      return fail(askId, {
        class: 'forbidden',
        code: 'untrusted_caller',
        message: trusted.refusal,
        retryable: false,
      });
    const { principal } = trusted;
    const deadline = deadlineOf(ask.deadline ?? delivery.deadline, this.defaultDeadlineMs);
    const known = await this.records.get(askId);
    if (known?.tenant === principal.tenant && known.status !== 'running') {
      if (known.completed) return { ok: true, completed: known.completed };
      if (known.failed) return { ok: false, failed: known.failed };
    }
    await this.records.start({
      askId,
      contextId: ask.contextId,
      tenant: principal.tenant,
      subject: principal.subject,
    });
    return trace
      .getTracer('@toolbus/orchestrator')
      .startActiveSpan('invoke_agent toolbus', async (span): Promise<AskAnswer> => {
        span.setAttributes({
          'gen_ai.operation.name': 'invoke_agent',
          'gen_ai.conversation.id': ask.contextId,
          'gen_ai.request.model': ask.model,
          'toolbus.ask.id': askId,
          'toolbus.tenant': principal.tenant,
        });
        try {
          const completed = await this.loop(this.records.progressOf(askId)).run({
            ask,
            askId,
            principal,
            tenantSettings: this.settingsOf(principal.tenant),
            deadline,
          });
          const traceId = span.spanContext().traceId;
          const answered: AskCompleted = { ...completed, traceId };
          span.setAttributes({
            'gen_ai.usage.input_tokens': completed.usage.inputTokens,
            'gen_ai.usage.output_tokens': completed.usage.outputTokens,
            'gen_ai.response.model': completed.model,
            'toolbus.stop_reason': completed.stopReason ?? 'answer',
          });
          await this.records.complete(askId, answered);
          await this.audit.ask(principal, answered, performance.now() - started);
          orchestratorMetrics.asks().inc({ outcome: completed.stopReason ?? 'answer' });
          orchestratorMetrics.askDuration().observe((performance.now() - started) / 1000);
          return { ok: true, completed: answered };
        } catch (error) {
          const safe = this.classify(error, askId);
          span.setStatus({ code: SpanStatusCode.ERROR, message: safe.code });
          const failed: AskFailed = {
            contextId: ask.contextId,
            askId,
            error: safe,
            traceId: span.spanContext().traceId,
            failedAt: new Date().toISOString(),
          };
          await this.records.fail(askId, failed).catch(() => undefined);
          await this.audit.askFailed(
            principal,
            { contextId: ask.contextId, askId },
            safe,
            performance.now() - started,
          );
          orchestratorMetrics.asks().inc({ outcome: 'failed' });
          return { ok: false, failed };
        } finally {
          span.end();
        }
      });
  }

  private classify(error: unknown, askId: string): SafeError {
    if (error instanceof AskRefused) return error.error;
    if (error instanceof StateUnavailableError)
      return {
        class: 'unavailable',
        code: 'state_unavailable',
        message:
          'the orchestrator cannot reach its shared state (quotas, budgets, conversations); the ask was not run further',
        retryable: true,
      };
    const ref = randomUUID().slice(0, 8);
    this.logger.error({ err: error, askId, ref }, 'ask failed unexpectedly');
    return {
      class: 'internal',
      code: 'internal_error',
      message: `the ask failed unexpectedly (reference ${ref})`,
      retryable: true,
    };
  }
}

function deadlineOf(stated: string | undefined, defaultMs: number): number {
  const parsed = stated ? Date.parse(stated) : Number.NaN;
  return Number.isNaN(parsed) ? Date.now() + defaultMs : parsed;
}

function contextOf(raw: unknown): string {
  const c = (raw as { contextId?: unknown } | undefined)?.contextId;
  return typeof c === 'string' && c.length >= 8 && c.length <= 128 ? c : 'unknown-context';
}
