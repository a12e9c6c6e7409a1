import { pino, type Logger, type LoggerOptions } from 'pino';
import { activeTraceIds } from './tracing.js';

export type { Logger } from 'pino';

/** Options for {@link createLogger}. */
export interface LoggerSettings {
  name: string;
  level?: string;
  /** Where to write; defaults to stdout. Tests pass a stream to read what was logged. */
  destination?: NodeJS.WritableStream;
}

/**
 * A structured JSON logger whose every line carries `trace_id` and `span_id` of the active
 * span, so a log line leads to its trace and back. Level from LOG_LEVEL, default `info`.
 */
export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    name: settings.name,
    level: settings.level ?? process.env['LOG_LEVEL'] ?? 'info',
    base: { service: settings.name },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // Secrets never reach a log line, whatever a caller passes in.
    redact: {
      paths: [
        'password',
        '*.password',
        'token',
        '*.token',
        'authorization',
        '*.authorization',
        'apiKey',
        '*.apiKey',
        'secret',
        '*.secret',
      ],
      censor: '[redacted]',
    },
    mixin() {
      const ids = activeTraceIds();
      return ids ? { trace_id: ids.traceId, span_id: ids.spanId } : {};
    },
  };
  return settings.destination ? pino(options, settings.destination) : pino(options);
}
