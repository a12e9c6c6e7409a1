export { activeTraceIds, startTelemetry, stopTelemetry, type TelemetryOptions } from './tracing.js';
export { createLogger, type Logger, type LoggerSettings } from './logger.js';
export {
  Counter,
  Gauge,
  Histogram,
  metric,
  metricsRegistry,
  renderMetrics,
  type Registry,
} from './metrics.js';
