import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { trace } from '@opentelemetry/api';
import {
  Messages,
  platformTopics,
  ToolCallCompleted,
  ToolCallFailed,
  toolRequestsTopic,
  Topics,
  type ToolCallRequested,
} from '@toolbus/contracts';
import { createKafkaBus, RequestTimeoutError, type MessageBus } from '@toolbus/messaging';
import { createLogger, startTelemetry } from '@toolbus/observability';
import { infraFromEnv, uniqueName, waitFor } from '@toolbus/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The wire contract is language-neutral: a consumer written in Python from the exported JSON
 * Schemas alone answers calls made exactly as the TypeScript platform makes them.
 */
const SERVICE = 'python-fx';
const projectDir = join(import.meta.dirname, '..');
const cacheDir =
  process.env['TOOLBUS_CACHE'] ??
  join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'toolbus');
const python = join(cacheDir, 'python-consumer-venv', 'bin', 'python');
const testLogLevel = process.env['TEST_LOG_LEVEL'];

interface LogLine {
  msg: string;
  key?: string;
  [field: string]: unknown;
}

/** The Python process, its READY line and its structured log lines. */
interface PythonConsumer {
  child: ChildProcess;
  logs: LogLine[];
  stderr: string[];
  ready: boolean;
  exit?: { code: number | null; signal: NodeJS.Signals | null };
}

function startConsumer(brokers: string[]): PythonConsumer {
  const child = spawn(
    python,
    [
      join(projectDir, 'consumer.py'),
      '--brokers',
      brokers.join(','),
      '--service',
      SERVICE,
      '--group',
      uniqueName('python-fx'),
      '--log-level',
      'info',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1' } },
  );
  const consumer: PythonConsumer = { child, logs: [], stderr: [], ready: false };
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    if (out.split('\n').includes('READY')) consumer.ready = true;
  });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
    const lines = err.split('\n');
    err = lines.pop() ?? '';
    for (const line of lines) {
      consumer.stderr.push(line);
      try {
        const entry = JSON.parse(line) as LogLine & { level?: string };
        consumer.logs.push(entry);
        if (testLogLevel && testLogLevel !== 'silent') process.stderr.write(`[python] ${line}\n`);
      } catch {
        process.stderr.write(`[python] ${line}\n`); // not a log line: a crash, say it loudly
      }
    }
  });
  child.on('exit', (code, signal) => (consumer.exit = { code, signal }));
  return consumer;
}

function callOf(overrides: Partial<ToolCallRequested> = {}): ToolCallRequested {
  const id = uniqueName('call');
  return {
    callId: id,
    idempotencyKey: `idem-${id}`,
    tool: 'convert_currency',
    input: { amount: 100, from: 'USD', to: 'EUR' },
    principal: { subject: 'user-1', kind: 'user', tenant: 'acme', scopes: ['fx:read'] },
    tenant: 'acme',
    region: 'eu',
    deadline: new Date(Date.now() + 60_000).toISOString(),
    attempt: 1,
    ...overrides,
  };
}

describe('The Python consumer round trip', () => {
  let bus: MessageBus;
  let consumer: PythonConsumer | undefined;

  /** Calls the Python tool consumer the way the TypeScript platform calls any tool consumer. */
  function call(value: Record<string, unknown>, timeoutMs = 15_000) {
    return bus.request<Record<string, unknown>, unknown>(
      toolRequestsTopic(SERVICE),
      {
        type: Messages.toolCallRequested.type,
        key: String(value['idempotencyKey']),
        value,
        subject: String(value['tool']),
      },
      { replyTopic: Topics.toolResponses, timeoutMs },
    );
  }

  beforeAll(async () => {
    if (!existsSync(python)) {
      throw new Error(
        `the Python consumer's virtualenv is missing (${python}): run make setup ` +
          '(or examples/python-consumer/setup.sh)',
      );
    }
    startTelemetry({ serviceName: 'python-consumer-test' });
    const { kafkaBrokers } = infraFromEnv();
    bus = createKafkaBus({
      serviceName: uniqueName('py-caller'),
      brokers: kafkaBrokers,
      logger: createLogger({ name: 'python-consumer-test', level: testLogLevel ?? 'silent' }),
      shutdownDeadlineMs: 5_000,
      sessionTimeoutMs: 6_000,
    });
    await bus.ensureTopics(platformTopics([SERVICE]));
    const started = startConsumer(kafkaBrokers);
    consumer = started;
    await Promise.all([
      bus.prepareReplies(Topics.toolResponses),
      waitFor(() => started.ready || started.exit, {
        what: 'READY from the Python consumer',
        timeoutMs: 60_000,
      }),
    ]);
    if (!started.ready) {
      throw new Error(
        `the Python consumer exited before READY (${JSON.stringify(started.exit)}):\n` +
          started.stderr.slice(-20).join('\n'),
      );
    }
  });

  afterAll(async () => {
    const child = consumer?.child;
    if (child && !consumer?.exit) {
      child.kill('SIGTERM');
      await waitFor(() => consumer?.exit, { what: 'the Python consumer to exit' }).catch(() =>
        child.kill('SIGKILL'),
      );
    }
    await bus?.close(2_000);
  });

  it('answers a valid call with ToolCallCompleted on the caller trace', async () => {
    const request = callOf();
    const { reply, traceId, callerSpanId } = await trace
      .getTracer('test')
      .startActiveSpan('caller', async (span) => {
        try {
          const reply = await call(request);
          const { traceId, spanId } = span.spanContext();
          return { reply, traceId, callerSpanId: spanId };
        } finally {
          span.end();
        }
      });

    expect(reply.event.type).toBe(Messages.toolCallCompleted.type);
    expect(reply.event.source).toBe('/toolbus/python-fx');
    expect(reply.topic).toBe(Topics.toolResponses);
    expect(reply.key).toBe(request.idempotencyKey);
    expect(reply.headers['content-type']).toBe('application/json');
    const completed = ToolCallCompleted.parse(reply.value);
    expect(completed).toMatchObject({
      callId: request.callId,
      idempotencyKey: request.idempotencyKey,
      tool: 'convert_currency',
      deduplicated: false,
      output: { amount: 100, from: 'USD', to: 'EUR', converted: 92, rate: 0.92 },
    });
    const traceparent = reply.headers['traceparent'] ?? '';
    const [, replyTraceId, replySpanId] = traceparent.split('-');
    expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    expect(replyTraceId).toBe(traceId);
    expect(replySpanId).not.toBe(callerSpanId);
  });

  it('rejects invalid input with ToolCallFailed naming each field by JSON pointer', async () => {
    const request = callOf({ input: { amount: -5, from: 'USD', to: 'XYZ' } });
    const reply = await call(request);

    expect(reply.event.type).toBe(Messages.toolCallFailed.type);
    const failed = ToolCallFailed.parse(reply.value);
    expect(failed.callId).toBe(request.callId);
    expect(failed.error).toMatchObject({
      class: 'validation',
      code: 'invalid_input',
      retryable: false,
    });
    expect(failed.error.message).toContain('/amount');
    expect(failed.error.message).toContain('/to');
    expect(failed.error.issues?.map((i) => i.pointer).sort()).toEqual(['/amount', '/to']);
    expect(failed.error.issues?.find((i) => i.pointer === '/to')?.expected).toContain('EUR');
  });

  it('returns the stored result for a repeated idempotency key, marked deduplicated', async () => {
    const first = callOf({ input: { amount: 50, from: 'GBP', to: 'USD' } });
    const again = { ...first, callId: uniqueName('retry'), attempt: 2 };

    const one = ToolCallCompleted.parse((await call(first)).value);
    const two = ToolCallCompleted.parse((await call(again)).value);

    expect(one.deduplicated).toBe(false);
    expect(two.deduplicated).toBe(true);
    expect(two.callId).toBe(again.callId);
    expect(two.output).toEqual(one.output);
    expect(one.output).toMatchObject({ amount: 50, from: 'GBP', to: 'USD', converted: 63.29 });
  });

  it('answers a call to a tool it does not serve with unknown_tool', async () => {
    const reply = await call(callOf({ tool: 'launch_rockets' }));

    expect(reply.event.type).toBe(Messages.toolCallFailed.type);
    const failed = ToolCallFailed.parse(reply.value);
    expect(failed.tool).toBe('launch_rockets');
    expect(failed.error).toMatchObject({
      class: 'validation',
      code: 'unknown_tool',
      retryable: false,
    });
    expect(failed.error.message).toContain('convert_currency');
  });

  it('rejects a payload that breaks tool_call.requested.schema.json with invalid_request', async () => {
    const { principal: _principal, ...withoutPrincipal } = callOf();
    const reply = await call(withoutPrincipal);

    expect(reply.event.type).toBe(Messages.toolCallFailed.type);
    const failed = ToolCallFailed.parse(reply.value);
    expect(failed.idempotencyKey).toBe(withoutPrincipal.idempotencyKey);
    expect(failed.error).toMatchObject({ class: 'validation', code: 'invalid_request' });
    expect(failed.error.message).toContain('/principal');
    expect(failed.error.issues?.map((i) => i.pointer)).toEqual(['/principal']);
  });

  it('skips a request whose deadline passed without answering it', async () => {
    const request = callOf();
    const error = await call(request, 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestTimeoutError);

    const skipped = await waitFor(
      () => consumer!.logs.find((l) => l.key === request.idempotencyKey),
      { what: 'the Python consumer to log the expired request' },
    );
    expect(skipped.msg).toBe('request expired before it was handled; skipped');
    // The next call is answered, so the expired one was passed over, not stuck.
    ToolCallCompleted.parse((await call(callOf())).value);
    expect(consumer!.logs.filter((l) => l.key === request.idempotencyKey)).toHaveLength(1);
  });

  it('stops gracefully on SIGTERM', async () => {
    const c = consumer!;
    c.child.kill('SIGTERM');
    const exit = await waitFor(() => c.exit, { what: 'the Python consumer to exit' });

    expect(exit).toEqual({ code: 0, signal: null });
    expect(c.logs.map((l) => l.msg)).toContain('stopped');
  });
});
