import {
  Messages,
  platformTopics,
  toolRequestsTopic,
  Topics,
  type ToolCallCompleted,
  type ToolCallFailed,
  type ToolCallRequested,
} from '@toolbus/contracts';
import { createKafkaBus } from '@toolbus/messaging';
import { createLogger } from '@toolbus/observability';
import { infraFromEnv, toolCall, uniqueName } from '@toolbus/testing';
import { runToolConsumer } from '@toolbus/tool-sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { startConsumerProcess, type ConsumerProcess } from './consumer-process.js';
import { httpTool, secretsDir } from './http-tools.js';
import { startCatalogServer } from './registry-server.js';
import { sendJson, startUpstream } from './upstream-server.js';

/** The built service as an operator runs it: a process, its env, its probes, SIGTERM. */
describe('http-executor process', () => {
  const { kafkaBrokers, databaseUrl } = infraFromEnv();
  const schema = uniqueName('http_exec_e2e').replace(/-/g, '_');
  const processes: ConsumerProcess[] = [];
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const p of processes) p.child.kill('SIGKILL');
    for (const cleanup of cleanups) await cleanup();
    // The SDK's own database handle (in-process, in-memory bus) drops the run's schema.
    const janitor = await runToolConsumer({
      service: 'http-executor-e2e-cleanup',
      tools: [],
      env: { DATABASE_URL: databaseUrl, DATABASE_SCHEMA: schema, PORT: '0', LOG_LEVEL: 'silent' },
      handleSignals: false,
    });
    await janitor.db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await janitor.close();
  });
  const start = async (env: Record<string, string>, args: string[] = []) => {
    const p = await startConsumerProcess(env, args);
    processes.push(p);
    return p;
  };

  it('refuses to start without REGISTRY_URL, naming it', async () => {
    const p = await start({ HTTP_RETRY_ATTEMPTS: 'many' });
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain('http-executor: invalid configuration:');
    expect(p.output()).toContain('REGISTRY_URL: is required: Registry base URL');
    expect(p.output()).toContain(
      'HTTP_RETRY_ATTEMPTS: invalid value "many": must be a whole number',
    );
    expect(p.output()).not.toContain('    at ');
  });

  it('applies its migrations with --migrate-only and exits, without a registry', async () => {
    const p = await start(
      {
        DATABASE_URL: databaseUrl,
        DATABASE_SCHEMA: schema,
        // Nothing listens here: the migration Job runs before the registry on a fresh install.
        REGISTRY_URL: 'http://127.0.0.1:9',
        LOG_LEVEL: 'info',
      },
      ['--migrate-only'],
    );
    expect(await p.exited).toBe(0);
    expect(p.output()).toContain('migrations applied; exiting (--migrate-only)');
    expect(p.output()).not.toContain('registry snapshot');
  });

  it('serves the catalog’s HTTP tools over Kafka, and exits 0 on SIGTERM', async () => {
    const upstream = await startUpstream();
    cleanups.push(() => upstream.close());
    upstream.reset((request, response) =>
      request.headers['x-api-key'] === 'e2e-key'
        ? sendJson(response, 200, { sku: request.query.get('sku'), in_stock: 7 })
        : sendJson(response, 401, { error: 'no key' }),
    );
    const secrets = await secretsDir();
    cleanups.push(() => secrets.remove());
    await secrets.put('erp-api', { api_key: 'e2e-key' });
    const name = uniqueName('stock_e2e').replace(/-/g, '_');
    const catalog = await startCatalogServer([
      httpTool(
        name,
        {
          method: 'GET',
          baseUrl: upstream.url,
          path: '/stock',
          parameters: [{ field: 'sku', in: 'query', name: 'sku', required: true }],
          auth: { kind: 'api_key', in: 'header', name: 'X-Api-Key' },
          credentialsSecret: 'erp-api',
        },
        { transport: { kind: 'kafka', topic: toolRequestsTopic('http-executor') } },
      ),
    ]);
    cleanups.push(() => catalog.close());

    const p = await start({
      KAFKA_BROKERS: kafkaBrokers.join(','),
      DATABASE_URL: databaseUrl,
      DATABASE_SCHEMA: schema,
      REGISTRY_URL: catalog.url,
      REGISTRY_TOKEN: 'registry-read-token',
      SECRETS_DIR: secrets.dir,
      LOG_LEVEL: 'info',
    });
    await p.ready();
    expect(catalog.requests[0]?.authorization).toBe('Bearer registry-read-token');
    expect(await (await fetch(`${p.url}/health/ready`)).json()).toEqual({
      status: 'ok',
      checks: { kafka: 'up', postgres: 'up' },
    });

    const logger = createLogger({ name: 'e2e', level: 'silent' });
    const bus = createKafkaBus({
      serviceName: uniqueName('e2e-caller'),
      brokers: kafkaBrokers,
      logger,
    });
    try {
      await bus.ensureTopics(platformTopics(['http-executor']));
      const call = toolCall(name, { sku: 'A-100' }, { deadlineMs: 30_000 });
      const reply = await bus.request<ToolCallRequested, ToolCallCompleted | ToolCallFailed>(
        toolRequestsTopic('http-executor'),
        { type: Messages.toolCallRequested.type, key: call.idempotencyKey, value: call },
        { replyTopic: Topics.toolResponses, timeoutMs: 30_000 },
      );
      expect(reply.event.type, JSON.stringify(reply.value)).toBe(Messages.toolCallCompleted.type);
      expect((reply.value as ToolCallCompleted).output).toEqual({ sku: 'A-100', in_stock: 7 });
    } finally {
      await bus.close(2_000);
    }
    expect(upstream.requests).toHaveLength(1);

    expect(await p.stop()).toBe(0);
    expect(p.output()).toContain('http-executor shutting down');
    expect(p.output()).not.toContain('e2e-key');
  });
});
