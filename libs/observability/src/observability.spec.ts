import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  activeTraceIds,
  createLogger,
  metric,
  renderMetrics,
  startTelemetry,
  stopTelemetry,
  Counter,
} from './index.js';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
  };
}

describe('observability', () => {
  const exporter = new InMemorySpanExporter();
  beforeAll(() => {
    startTelemetry({
      serviceName: 'obs-test',
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
  });
  afterAll(() => stopTelemetry());

  it('stamps the active trace and span id on every log line', () => {
    const out = capture();
    const log = createLogger({ name: 'obs-test', destination: out.stream });
    log.info('outside');
    trace.getTracer('t').startActiveSpan('work', (span) => {
      log.info('inside');
      span.end();
    });
    const [outside, inside] = out.lines();
    expect(outside).not.toHaveProperty('trace_id');
    expect(inside).toMatchObject({ msg: 'inside', service: 'obs-test', level: 'info' });
    expect(inside?.['trace_id']).toMatch(/^[0-9a-f]{32}$/);
    expect(exporter.getFinishedSpans()[0]?.spanContext().traceId).toBe(inside?.['trace_id']);
  });

  it('redacts secrets passed to the logger', () => {
    const out = capture();
    createLogger({ name: 'obs-test', destination: out.stream }).info(
      { password: 'hunter2', user: { token: 'abc' } },
      'login',
    );
    const text = JSON.stringify(out.lines());
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('"abc"');
  });

  it('returns no ids outside a span', () => {
    expect(activeTraceIds()).toBeUndefined();
  });

  it('starting telemetry twice keeps the first provider', () => {
    const a = startTelemetry({ serviceName: 'x' });
    expect(startTelemetry({ serviceName: 'y' })).toBe(a);
  });

  it('registers a metric once however often it is asked for and renders it', async () => {
    const make = () =>
      metric(
        'obs_test_total',
        (registry) => new Counter({ name: 'obs_test_total', help: 'test', registers: [registry] }),
      );
    make().inc();
    make().inc(2);
    const { contentType, body } = await renderMetrics();
    expect(contentType).toContain('text/plain');
    expect(body).toContain('obs_test_total 3');
    expect(body).toContain('process_cpu_user_seconds_total');
  });
});
