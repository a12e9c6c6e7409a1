import { Counter, Gauge, Histogram, metric } from '@toolbus/observability';

/** Bus metrics, registered once per process in the shared Prometheus registry. */
export const busMetrics = {
  published: () =>
    metric(
      'toolbus_bus_published_total',
      (r) =>
        new Counter({
          name: 'toolbus_bus_published_total',
          help: 'Messages published',
          labelNames: ['topic'],
          registers: [r],
        }),
    ),
  consumed: () =>
    metric(
      'toolbus_bus_consumed_total',
      (r) =>
        new Counter({
          name: 'toolbus_bus_consumed_total',
          help: 'Messages finished by consumers, by outcome',
          labelNames: ['topic', 'group', 'outcome'],
          registers: [r],
        }),
    ),
  handlerSeconds: () =>
    metric(
      'toolbus_bus_handler_seconds',
      (r) =>
        new Histogram({
          name: 'toolbus_bus_handler_seconds',
          help: 'Time from a message starting until it is finished',
          labelNames: ['topic', 'group'],
          buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
          registers: [r],
        }),
    ),
  consumerLag: () =>
    metric(
      'toolbus_bus_consumer_lag',
      (r) =>
        new Gauge({
          name: 'toolbus_bus_consumer_lag',
          help: "Messages a Kafka consumer group is behind on a partition this instance owns: the partition's high watermark minus the group's committed or current offset",
          labelNames: ['topic', 'partition', 'group'],
          registers: [r],
        }),
    ),
  requestSeconds: () =>
    metric(
      'toolbus_bus_request_seconds',
      (r) =>
        new Histogram({
          name: 'toolbus_bus_request_seconds',
          help: 'Request-reply round trips, by outcome',
          labelNames: ['topic', 'outcome'],
          buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5],
          registers: [r],
        }),
    ),
};
