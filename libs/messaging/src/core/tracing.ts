import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Span,
} from '@opentelemetry/api';
import type { Headers } from '@toolbus/contracts';

const tracer = () => trace.getTracer('@toolbus/messaging');

/** Runs `fn` in a producer span and writes the W3C trace context into `headers`. */
export async function inProducerSpan<T>(
  name: string,
  attributes: Record<string, string | number>,
  headers: Headers,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  return tracer().startActiveSpan(name, { kind: SpanKind.PRODUCER, attributes }, async (span) => {
    propagation.inject(context.active(), headers);
    try {
      return await fn(span);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Runs `fn` in a consumer span whose parent is the trace context found in the headers. */
export async function inConsumerSpan<T>(
  name: string,
  attributes: Record<string, string | number>,
  headers: Headers,
  fn: () => Promise<T>,
): Promise<T> {
  const parent = propagation.extract(ROOT_CONTEXT, headers);
  return tracer().startActiveSpan(
    name,
    { kind: SpanKind.CONSUMER, attributes },
    parent,
    async (span) => {
      try {
        return await fn();
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}
