import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Messages, platformTopics, Topics, type ModelResponse } from '@toolbus/contracts';
import { createKafkaBus } from '@toolbus/messaging';
import { createLogger } from '@toolbus/observability';
import { infraFromEnv, uniqueName, waitFor } from '@toolbus/testing';
import { afterAll, describe, expect, it } from 'vitest';

const main = join(import.meta.dirname, '..', 'dist', 'main.js');

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

function start(env: Record<string, string>): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, [main], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

/** The built service as an operator runs it: a process, its env, its HTTP probes, SIGTERM. */
describe('model-shim process', () => {
  const { kafkaBrokers } = infraFromEnv();
  const children: ChildProcess[] = [];
  afterAll(() => children.forEach((c) => c.kill('SIGKILL')));

  it('refuses to start on bad configuration, naming each bad variable', async () => {
    const p = start({ PORT: 'eighty', MODEL_ROUTES: 'default=anthropic:claude-sonnet-4-5' });
    children.push(p.child);
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain('PORT: invalid value "eighty": must be a whole number');
    const q = start({ MODEL_ROUTES: 'default=anthropic:claude-sonnet-4-5' });
    children.push(q.child);
    expect(await q.exited).toBe(1);
    expect(q.output()).toContain(
      'MODEL_ROUTES: route default names provider "anthropic", which is not configured (configured: offline)',
    );
  });

  it('serves probes and metrics, answers over Kafka, and drains on SIGTERM', async () => {
    const port = await freePort();
    const p = start({
      KAFKA_BROKERS: kafkaBrokers.join(','),
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      MODEL_ROUTES: 'default=offline:planner',
    });
    children.push(p.child);
    const base = `http://127.0.0.1:${port}`;
    await waitFor(
      async () => (await fetch(`${base}/health/ready`).catch(() => undefined))?.status === 200,
      { what: 'the service to be ready', timeoutMs: 60_000 },
    );
    expect(await (await fetch(`${base}/health/live`)).json()).toEqual({ status: 'ok' });

    const logger = createLogger({ name: 'e2e', level: 'silent' });
    const bus = createKafkaBus({
      serviceName: uniqueName('e2e-caller'),
      brokers: kafkaBrokers,
      logger,
    });
    await bus.ensureTopics(platformTopics());
    try {
      const reply = await bus.request<unknown, ModelResponse>(
        Topics.modelRequests,
        {
          type: Messages.modelRequested.type,
          value: {
            contextId: 'ctx-e2e-000001',
            tenant: 'acme',
            model: 'default',
            maxTokens: 256,
            tools: [],
            messages: [
              { role: 'user', content: [{ type: 'text', text: 'What is the weather in Paris?' }] },
            ],
          },
        },
        { replyTopic: Topics.modelReplies, timeoutMs: 30_000 },
      );
      expect(reply.value.provider).toBe('offline');
      expect(JSON.stringify(reply.value.content)).toContain('Offline planner (no language model)');
    } finally {
      await bus.close(2_000);
    }
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(
      /toolbus_model_tokens_total\{tenant="acme",model="planner",direction="input"\} \d+/,
    );
    expect(metrics).toContain('toolbus_bus_consumed_total');

    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });
});
