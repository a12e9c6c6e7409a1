import { randomUUID } from 'node:crypto';
import { Messages, Topics, type AuditEvent, type Principal } from '@toolbus/contracts';
import { activeTraceIds } from '@toolbus/observability';
import type { OutboxEvent } from './outbox.js';

export interface AuditInput {
  actor: Principal;
  action: string;
  resource: { kind: string; id: string };
  outcome: AuditEvent['outcome'];
  region?: string;
  reason?: string;
  hashBefore?: string;
  hashAfter?: string;
  details?: Record<string, unknown>;
}

/** An audit event for `toolbus.audit`, keyed by the resource, stamped with the current trace. */
export function auditEvent(input: AuditInput): OutboxEvent {
  const traceId = activeTraceIds()?.traceId;
  const payload: AuditEvent = {
    id: randomUUID(),
    at: new Date().toISOString(),
    actor: input.actor,
    action: input.action,
    resource: input.resource,
    outcome: input.outcome,
    tenant: input.actor.tenant,
    ...(input.region ? { region: input.region } : {}),
    ...(traceId ? { traceId } : {}),
    ...(input.reason ? { reason: input.reason.slice(0, 2000) } : {}),
    ...(input.hashBefore ? { hashBefore: input.hashBefore } : {}),
    ...(input.hashAfter ? { hashAfter: input.hashAfter } : {}),
    details: input.details ?? {},
  };
  return {
    topic: Topics.audit,
    key: `${input.resource.kind}:${input.resource.id}`,
    type: Messages.auditRecorded.type,
    id: payload.id,
    payload: Messages.auditRecorded.schema.parse(payload),
  };
}
