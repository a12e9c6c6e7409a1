import { Counter, Histogram, metric } from '@toolbus/observability';

/**
 * The orchestrator's own metrics. Refusals by step, breaker state and budget use are the
 * policy library's (`toolbus_policy_refusals_total`, `toolbus_tool_breaker_open`,
 * `toolbus_budget_used_ratio`), registered in the same process registry.
 */
export const orchestratorMetrics = {
  asks: () =>
    metric(
      'toolbus_asks_total',
      (r) =>
        new Counter({
          name: 'toolbus_asks_total',
          help: 'Asks answered, by outcome (answer, max_steps, deadline, budget, failed)',
          labelNames: ['outcome'],
          registers: [r],
        }),
    ),
  askDuration: () =>
    metric(
      'toolbus_ask_duration_seconds',
      (r) =>
        new Histogram({
          name: 'toolbus_ask_duration_seconds',
          help: 'Time from an ask arriving to its answer',
          buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
          registers: [r],
        }),
    ),
  toolCalls: () =>
    metric(
      'toolbus_orchestrator_tool_calls_total',
      (r) =>
        new Counter({
          name: 'toolbus_orchestrator_tool_calls_total',
          help: 'Governed tool calls, by tool and outcome (succeeded, failed, refused, stale)',
          labelNames: ['tool', 'outcome'],
          registers: [r],
        }),
    ),
};
