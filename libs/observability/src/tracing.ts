import { context, propagation, trace, type Span } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

/** Options for {@link startTelemetry}; everything defaults from the standard OTEL_* variables. */
export interface TelemetryOptions {
  serviceName: string;
  serviceVersion?: string;
  /** OTLP/HTTP endpoint; when unset (and OTEL_EXPORTER_OTLP_ENDPOINT is unset) spans are not exported. */
  otlpEndpoint?: string;
  /** Extra processors, e.g. an in-memory exporter in tests. */
  spanProcessors?: SpanProcessor[];
}

let provider: NodeTracerProvider | undefined;

/**
 * Starts OpenTelemetry tracing: an AsyncLocalStorage context manager, the W3C trace-context
 * propagator, and an OTLP exporter when an endpoint is configured. Without an endpoint spans
 * are still created so trace ids flow through logs and message headers; they are just not
 * shipped anywhere. Call it before the rest of the service is imported (see `register.ts`).
 * Calling it again returns the provider already started.
 */
export function startTelemetry(options: TelemetryOptions): NodeTracerProvider {
  if (provider) return provider;
  const endpoint = options.otlpEndpoint ?? process.env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  const processors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  if (endpoint) {
    const url = endpoint.endsWith('/v1/traces')
      ? endpoint
      : `${endpoint.replace(/\/$/, '')}/v1/traces`;
    processors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url })));
  }
  provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: process.env['OTEL_SERVICE_NAME'] ?? options.serviceName,
      [ATTR_SERVICE_VERSION]:
        options.serviceVersion ?? process.env['npm_package_version'] ?? '0.0.0',
    }),
    spanProcessors: processors,
  });
  provider.register();
  return provider;
}

/** Flushes and stops tracing; safe to call when it was never started. */
export async function stopTelemetry(): Promise<void> {
  const p = provider;
  provider = undefined;
  if (!p) return;
  await p.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
}

/** The trace and span id of the active span, or undefined outside any span. */
export function activeTraceIds(): { traceId: string; spanId: string } | undefined {
  const span: Span | undefined = trace.getActiveSpan();
  if (!span) return undefined;
  const { traceId, spanId, traceFlags } = span.spanContext();
  // An all-zero trace id means a non-recording placeholder span: nothing to correlate with.
  if (/^0+$/.test(traceId)) return undefined;
  void traceFlags;
  return { traceId, spanId };
}
