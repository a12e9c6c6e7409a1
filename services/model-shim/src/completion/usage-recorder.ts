import { randomUUID } from 'node:crypto';
import { Messages, Topics, type AuditEvent, type Usage } from '@toolbus/contracts';
import type { MessageBus } from '@toolbus/messaging';
import { Counter, Gauge, Histogram, metric, type Logger } from '@toolbus/observability';

/** What one model call cost, for the audit ledger and the dashboards. */
export interface UsageRecord {
  tenant: string;
  contextId: string;
  alias: string;
  provider: string;
  model: string;
  usage: Usage;
  costUsd: number;
  priced: boolean;
  latencyMs: number;
  attempts: number;
  outcome: 'succeeded' | 'failed';
  errorClass?: string;
}

/** Port: where usage goes. The service publishes audit events and updates Prometheus metrics. */
export interface UsageSink {
  record(record: UsageRecord): Promise<void>;
  providerError(provider: string, kind: string): void;
  breakerState(provider: string, state: 'closed' | 'open' | 'half_open'): void;
}

const tokens = () =>
  metric(
    'toolbus_model_tokens_total',
    (r) =>
      new Counter({
        name: 'toolbus_model_tokens_total',
        help: 'Tokens by tenant, model and direction',
        labelNames: ['tenant', 'model', 'direction'],
        registers: [r],
      }),
  );
const cost = () =>
  metric(
    'toolbus_model_cost_usd_total',
    (r) =>
      new Counter({
        name: 'toolbus_model_cost_usd_total',
        help: 'Model spend in USD',
        labelNames: ['tenant', 'model'],
        registers: [r],
      }),
  );
const latency = () =>
  metric(
    'toolbus_model_latency_seconds',
    (r) =>
      new Histogram({
        name: 'toolbus_model_latency_seconds',
        help: 'Model call latency including retries and failover',
        labelNames: ['provider', 'model', 'outcome'],
        buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120],
        registers: [r],
      }),
  );
const errors = () =>
  metric(
    'toolbus_model_errors_total',
    (r) =>
      new Counter({
        name: 'toolbus_model_errors_total',
        help: 'Provider errors by provider and class',
        labelNames: ['provider', 'class'],
        registers: [r],
      }),
  );
const breaker = () =>
  metric(
    'toolbus_model_breaker_open',
    (r) =>
      new Gauge({
        name: 'toolbus_model_breaker_open',
        help: '1 while a provider breaker is open (0.5 half-open)',
        labelNames: ['provider'],
        registers: [r],
      }),
  );

export class BusUsageSink implements UsageSink {
  constructor(
    private readonly bus: MessageBus,
    private readonly logger: Logger,
  ) {}

  async record(r: UsageRecord): Promise<void> {
    tokens().inc({ tenant: r.tenant, model: r.model, direction: 'input' }, r.usage.inputTokens);
    tokens().inc({ tenant: r.tenant, model: r.model, direction: 'output' }, r.usage.outputTokens);
    tokens().inc(
      { tenant: r.tenant, model: r.model, direction: 'cache_read' },
      r.usage.cacheReadTokens,
    );
    tokens().inc(
      { tenant: r.tenant, model: r.model, direction: 'cache_write' },
      r.usage.cacheWriteTokens,
    );
    cost().inc({ tenant: r.tenant, model: r.model }, r.costUsd);
    latency().observe(
      { provider: r.provider, model: r.model, outcome: r.outcome },
      r.latencyMs / 1000,
    );
    const event: AuditEvent = {
      id: randomUUID(),
      at: new Date().toISOString(),
      actor: { subject: 'model-shim', kind: 'service', tenant: r.tenant, scopes: [] },
      action: 'model.call',
      resource: { kind: 'model', id: `${r.provider}:${r.model}` },
      outcome: r.outcome,
      tenant: r.tenant,
      contextId: r.contextId,
      details: {
        alias: r.alias,
        usage: r.usage,
        costUsd: r.costUsd,
        priced: r.priced,
        latencyMs: r.latencyMs,
        attempts: r.attempts,
        ...(r.errorClass ? { errorClass: r.errorClass } : {}),
      },
    };
    try {
      await this.bus.publish(Topics.audit, {
        type: Messages.auditRecorded.type,
        key: r.contextId,
        value: event,
      });
    } catch (error) {
      // The answer matters more than its audit copy; the failure is logged and counted.
      this.logger.error(
        { err: error, contextId: r.contextId },
        'could not publish the usage audit event',
      );
      errors().inc({ provider: 'audit', class: 'publish' });
    }
  }

  providerError(provider: string, kind: string): void {
    errors().inc({ provider, class: kind });
  }

  breakerState(provider: string, state: 'closed' | 'open' | 'half_open'): void {
    breaker().set({ provider }, state === 'open' ? 1 : state === 'half_open' ? 0.5 : 0);
  }
}
