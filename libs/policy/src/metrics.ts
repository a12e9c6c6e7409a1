import { Counter, Gauge, Histogram, metric } from '@toolbus/observability';

/** The policy's metrics, registered once per process in the shared registry. */
export const policyMetrics = {
  refusals: () =>
    metric(
      'toolbus_policy_refusals_total',
      (r) =>
        new Counter({
          name: 'toolbus_policy_refusals_total',
          help: 'Tool calls refused by the policy chain or a circuit breaker, by step and code',
          labelNames: ['step', 'code'],
          registers: [r],
        }),
    ),
  stepDuration: () =>
    metric(
      'toolbus_policy_step_duration_seconds',
      (r) =>
        new Histogram({
          name: 'toolbus_policy_step_duration_seconds',
          help: 'Time one policy step took to decide',
          labelNames: ['step'],
          buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1],
          registers: [r],
        }),
    ),
  breakerOpen: () =>
    metric(
      'toolbus_tool_breaker_open',
      (r) =>
        new Gauge({
          name: 'toolbus_tool_breaker_open',
          help: "1 while a tool's circuit breaker is open or half-open, 0 while closed",
          labelNames: ['tool'],
          registers: [r],
        }),
    ),
  budgetUsedRatio: () =>
    metric(
      'toolbus_budget_used_ratio',
      (r) =>
        new Gauge({
          name: 'toolbus_budget_used_ratio',
          help: "Share of a tenant's monthly budget used (1 = spent), by kind (tokens, usd)",
          labelNames: ['tenant', 'kind'],
          registers: [r],
        }),
    ),
};
