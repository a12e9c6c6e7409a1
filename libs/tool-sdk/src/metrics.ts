import { Counter, Histogram, metric } from '@toolbus/observability';

export const toolMetrics = {
  calls: () =>
    metric(
      'toolbus_tool_calls_total',
      (r) =>
        new Counter({
          name: 'toolbus_tool_calls_total',
          help: 'Tool calls by outcome',
          labelNames: ['service', 'tool', 'outcome'],
          registers: [r],
        }),
    ),
  errors: () =>
    metric(
      'toolbus_tool_errors_total',
      (r) =>
        new Counter({
          name: 'toolbus_tool_errors_total',
          help: 'Tool call failures by error class',
          labelNames: ['service', 'tool', 'class'],
          registers: [r],
        }),
    ),
  duration: () =>
    metric(
      'toolbus_tool_duration_seconds',
      (r) =>
        new Histogram({
          name: 'toolbus_tool_duration_seconds',
          help: 'Tool call duration, dedup waits included',
          labelNames: ['service', 'tool', 'transport'],
          buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
          registers: [r],
        }),
    ),
  dedupHits: () =>
    metric(
      'toolbus_tool_dedup_hits_total',
      (r) =>
        new Counter({
          name: 'toolbus_tool_dedup_hits_total',
          help: 'Calls answered from the dedup record without running the handler',
          labelNames: ['service', 'tool'],
          registers: [r],
        }),
    ),
  grantRefusals: () =>
    metric(
      'toolbus_tool_grant_refusals_total',
      (r) =>
        new Counter({
          name: 'toolbus_tool_grant_refusals_total',
          help: 'Tool calls refused before they ran because their call grant does not authorize them, by reason',
          labelNames: ['service', 'reason'],
          registers: [r],
        }),
    ),
  dedupPurged: () =>
    metric(
      'toolbus_tool_dedup_purged_total',
      (r) =>
        new Counter({
          name: 'toolbus_tool_dedup_purged_total',
          help: 'Dedup records of finished calls deleted by the retention job',
          labelNames: ['service'],
          registers: [r],
        }),
    ),
};
