import { join } from 'node:path';
import { Messages, platformTopics, Topics, type ModelResponse } from '@toolbus/contracts';
import { createKafkaBus } from '@toolbus/messaging';
import { createLogger } from '@toolbus/observability';
import {
  infraFromEnv,
  startServiceProcess,
  uniqueName,
  type ServiceProcess,
} from '@toolbus/testing';
import { afterAll, describe, expect, it } from 'vitest';

const main = join(import.meta.dirname, '..', 'dist', 'main.js');

/** The built service as an operator runs it: a process, its env, its HTTP probes, SIGTERM. */
describe('model-shim process', () => {
  const { kafkaBrokers } = infraFromEnv();
  const processes: ServiceProcess[] = [];
  const start = async (env: Record<string, string>) => {
    const p = await startServiceProcess(main, env);
    processes.push(p);
    return p;
  };
  afterAll(() => processes.forEach((p) => p.child.kill('SIGKILL')));

  it('refuses to start on bad configuration, naming each bad variable', async () => {
    const p = await start({ PORT: 'eighty', MODEL_ROUTES: 'default=anthropic:claude-sonnet-4-5' });
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain('PORT: invalid value "eighty": must be a whole number');
    const q = await start({ MODEL_ROUTES: 'default=anthropic:claude-sonnet-4-5' });
    expect(await q.exited).toBe(1);
    expect(q.output()).toContain(
      'MODEL_ROUTES: route default names provider "anthropic", which is not configured (configured: offline)',
    );
  });

  it('serves probes and metrics, answers over Kafka, and drains on SIGTERM', async () => {
    const p = await start({
      KAFKA_BROKERS: kafkaBrokers.join(','),
      LOG_LEVEL: 'warn',
      MODEL_ROUTES: 'default=offline:planner',
    });
    await p.ready();
    expect(await (await fetch(`${p.managementUrl}/health/live`)).json()).toEqual({ status: 'ok' });
    // Probes and metrics are not served on the API port.
    expect((await fetch(`${p.url}/metrics`)).status).toBe(404);

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
    const metrics = await (await fetch(`${p.managementUrl}/metrics`)).text();
    expect(metrics).toMatch(
      /toolbus_model_tokens_total\{tenant="acme",model="planner",direction="input"\} \d+/,
    );
    expect(metrics).toContain('toolbus_bus_consumed_total');

    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });
});
