import { randomUUID } from 'node:crypto';
import { trace } from '@opentelemetry/api';
import {
  Messages,
  Topics,
  type AskCompleted,
  type AuditEvent,
  type Principal,
  type SafeError,
  type ToolDefinition,
} from '@toolbus/contracts';
import type { MessageBus } from '@toolbus/messaging';
import type { Logger } from '@toolbus/observability';
import type { Refusal, StepRecord } from '@toolbus/policy';
import { inputHash } from '@toolbus/security';
import type { ToolCallRequest, ToolCallResult } from '../calls/tool-call.js';

/**
 * Publishes the orchestrator's audit events on `toolbus.audit`, for the ledger: one per tool
 * call (its decision, the step that refused it, its outcome, latency, a hash of the arguments;
 * the arguments themselves only with `includeArguments`, AUDIT_LEDGER_ARGUMENTS) and one per
 * ask (tokens, cost, stop reason).
 *
 * The answer does not wait for Kafka's acknowledgement (a produce round trip, the largest part
 * of what the policy chain added to a call): events are sent as they happen, up to
 * `maxPending` at a time unacknowledged, past which the caller waits for its own, so a broker
 * that is slow or away holds the calls back rather than letting the backlog grow. `drain` waits
 * for every one; the shutdown sequence calls it before the bus disconnects. A publication that
 * fails is logged and does not fail the call: the call's effect already happened or was
 * refused, and the bus retries its own publishing.
 */
export class AuditPublisher {
  private readonly pending = new Set<Promise<void>>();
  private readonly maxPending: number;

  constructor(
    private readonly bus: Pick<MessageBus, 'publish'>,
    private readonly logger: Logger,
    private readonly options: { includeArguments?: boolean; maxPending?: number } = {},
  ) {
    this.maxPending = options.maxPending ?? 1_000;
  }

  /** Publications not acknowledged yet. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Resolves once every publication made so far is acknowledged or has failed (and is logged). */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  async toolCall(
    request: ToolCallRequest,
    tool: ToolDefinition | undefined,
    result: ToolCallResult,
    steps: StepRecord[],
    refusal?: Refusal,
  ): Promise<void> {
    await this.publish({
      actor: request.principal,
      action: 'tool.call',
      resource: { kind: 'tool', id: tool ? `${tool.name}@${tool.version}` : request.tool },
      outcome: refusal ? 'denied' : result.outcome === 'succeeded' ? 'succeeded' : 'failed',
      ...(tool ? { region: tool.region } : {}),
      ...(request.contextId ? { contextId: request.contextId } : {}),
      ...(refusal
        ? { reason: refusal.message }
        : result.error
          ? { reason: result.error.message }
          : {}),
      details: {
        decision: refusal ? 'refused' : 'allowed',
        ...(refusal ? { step: refusal.step, code: refusal.code } : {}),
        ...(result.error && !refusal
          ? { code: result.error.code, errorClass: result.error.class }
          : {}),
        argumentsHash: inputHash(request.input),
        ...(this.options.includeArguments ? { arguments: request.input } : {}),
        idempotencyKey: request.idempotencyKey,
        latencyMs: Math.round(result.durationMs),
        direct: request.offered === undefined,
        ...(request.askId ? { askId: request.askId } : {}),
        ...(result.stale ? { stale: true, staleAgeMs: result.stale.ageMs } : {}),
        steps: steps.map((s) => ({
          step: s.step,
          decision: s.decision.kind,
          ms: round(s.durationMs),
        })),
      },
    });
  }

  async ask(principal: Principal, answer: AskCompleted, durationMs: number): Promise<void> {
    await this.publish({
      actor: principal,
      action: 'ask.answer',
      resource: { kind: 'ask', id: answer.askId ?? answer.contextId },
      outcome: 'succeeded',
      contextId: answer.contextId,
      details: {
        stopReason: answer.stopReason ?? 'answer',
        inputTokens: answer.usage.inputTokens,
        outputTokens: answer.usage.outputTokens,
        costUsd: answer.costUsd,
        model: answer.model,
        toolCalls: answer.toolCalls.length,
        latencyMs: Math.round(durationMs),
      },
    });
  }

  async askFailed(
    principal: Principal,
    ids: { contextId: string; askId: string },
    error: SafeError,
    durationMs: number,
  ): Promise<void> {
    await this.publish({
      actor: principal,
      action: 'ask.answer',
      resource: { kind: 'ask', id: ids.askId },
      outcome:
        error.class === 'budget_exceeded' || error.class === 'forbidden' ? 'denied' : 'failed',
      contextId: ids.contextId,
      reason: error.message,
      details: { code: error.code, errorClass: error.class, latencyMs: Math.round(durationMs) },
    });
  }

  private async publish(
    event: Omit<AuditEvent, 'id' | 'at' | 'tenant' | 'traceId'> & { actor: Principal },
  ): Promise<void> {
    const traceId = trace.getActiveSpan()?.spanContext().traceId;
    const value: AuditEvent = {
      id: randomUUID(),
      at: new Date().toISOString(),
      tenant: event.actor.tenant,
      ...(traceId && !/^0+$/.test(traceId) ? { traceId } : {}),
      ...event,
    };
    const sent: Promise<void> = this.bus
      .publish(Topics.audit, { type: Messages.auditRecorded.type, key: value.tenant, value })
      .catch((error: unknown) =>
        this.logger.error(
          { err: error, action: value.action },
          'audit event could not be published',
        ),
      )
      .finally(() => this.pending.delete(sent));
    this.pending.add(sent);
    if (this.pending.size > this.maxPending) await sent;
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
