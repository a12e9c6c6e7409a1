import { collectDefaultMetrics, Registry } from 'prom-client';

export { Counter, Gauge, Histogram, type Registry } from 'prom-client';

let registry: Registry | undefined;

/**
 * The process-wide Prometheus registry every library registers its metrics in, so one
 * `/metrics` endpoint shows them all. Default Node.js metrics are collected once.
 */
export function metricsRegistry(): Registry {
  if (!registry) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry });
  }
  return registry;
}

/**
 * Returns the metric registered under `name`, creating it with `create` the first time.
 * Libraries may be instantiated many times in one process (tests, several buses) and
 * prom-client refuses a second registration of the same name.
 */
export function metric<T>(name: string, create: (registry: Registry) => T): T {
  const reg = metricsRegistry();
  const existing = reg.getSingleMetric(name) as T | undefined;
  return existing ?? create(reg);
}

/** The exposition text and content type for a `/metrics` response. */
export async function renderMetrics(): Promise<{ contentType: string; body: string }> {
  const reg = metricsRegistry();
  return { contentType: reg.contentType, body: await reg.metrics() };
}
