import { toolRequestsTopic, type ToolCallRequested } from '@toolbus/contracts';
import { RegistryView } from '@toolbus/registry-client';
import { SecretStore } from '@toolbus/security';
import { completedOf, failureOf, toolCall, uniqueName } from '@toolbus/testing';
import { consumerTestEnv, startToolCaller, type ToolCaller } from '@toolbus/testing-bus';
import { runToolConsumer, type RunningToolConsumer } from '@toolbus/tool-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpExecutorOwnConfig, HttpToolExecutor, HttpToolProvider } from '../src/index.js';
import {
  capturingLogger,
  httpTool,
  loopbackFetch,
  secretsDir,
  type SecretsDir,
} from './http-tools.js';
import { sendJson, startUpstream, type Upstream } from './upstream-server.js';

/**
 * The whole consumer as it runs in production (runToolConsumer: Kafka, PostgreSQL dedup records,
 * the SDK's validation), serving a catalog of HTTP-bound tools against a real REST service.
 */
describe('http-executor consumer over Kafka and PostgreSQL', () => {
  // Its own topic and schema: nothing else in the run can take these calls or see these rows.
  const service = uniqueName('http-exec-it');
  const schema = service.replace(/-/g, '_');
  const { logger, lines } = capturingLogger(process.env['TEST_LOG_LEVEL'] ?? 'info');
  let upstream: Upstream;
  let secrets: SecretsDir;
  let provider: HttpToolProvider;
  let consumer: RunningToolConsumer;
  let caller: ToolCaller;
  const egress = loopbackFetch();

  beforeAll(async () => {
    upstream = await startUpstream();
    secrets = await secretsDir();
    await secrets.put('crm-api', { token: 'crm-token-123' });
    upstream.reset((request, response) => {
      if (request.headers.authorization !== 'Bearer crm-token-123')
        return sendJson(response, 401, { error: 'unauthenticated' });
      const id = decodeURIComponent(request.path.split('/').pop()!);
      if (id === 'cus_404') return sendJson(response, 404, { error: `no customer ${id}` });
      sendJson(response, 200, { id, name: 'Acme Corp', credit_limit: 50_000 });
    });
    const getCustomer = httpTool(
      'get_customer_http',
      {
        method: 'GET',
        baseUrl: `${upstream.url}/crm`,
        path: '/customers/{id}',
        parameters: [{ field: 'customer_id', in: 'path', name: 'id', required: true }],
        auth: { kind: 'bearer' },
        credentialsSecret: 'crm-api',
      },
      {
        inputSchema: {
          type: 'object',
          properties: { customer_id: { type: 'string', pattern: '^cus_[0-9]{3}$' } },
          required: ['customer_id'],
          additionalProperties: false,
        },
        outputSchema: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            name: { type: 'string' },
            credit_limit: { type: 'number' },
          },
          required: ['id', 'name', 'credit_limit'],
        },
        transport: { kind: 'kafka', topic: toolRequestsTopic(service) },
      },
    );
    const executor = new HttpToolExecutor({
      secrets: new SecretStore(secrets.dir),
      retryAttempts: 3,
      retryBaseMs: 20,
      maxResponseBytes: 65_536,
      fetch: egress.fetch,
      credentialOrigins: { 'crm-api': [upstream.url] },
      logger,
    });
    provider = new HttpToolProvider(RegistryView.of([getCustomer]), executor, logger);
    // The test injects the catalog, so it passes only the executor's own variables: the
    // REGISTRY_URL that main.ts requires is not needed here.
    consumer = await runToolConsumer(
      {
        service,
        tools: provider,
        config: httpExecutorOwnConfig,
      },
      {
        env: consumerTestEnv(schema, { SECRETS_DIR: secrets.dir }),
        logger,
      },
    );
    caller = await startToolCaller({ logger, name: 'http-exec-caller' });
  });
  afterAll(async () => {
    await caller?.close();
    await consumer?.db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await consumer?.close();
    provider?.close();
    await upstream?.close();
    await egress.close();
    await secrets?.remove();
  });

  const send = (call: ToolCallRequested) => caller.call(service, call, { timeoutMs: 30_000 });

  it('calls the REST operation with the secret’s token and answers with its output', async () => {
    const key = uniqueName('key');
    const completed = completedOf(
      await send(toolCall('get_customer_http', { customer_id: 'cus_001' }, { key })),
    );
    expect(completed).toMatchObject({
      tool: 'get_customer_http',
      idempotencyKey: key,
      deduplicated: false,
      output: { id: 'cus_001', name: 'Acme Corp', credit_limit: 50_000 },
    });
    expect(upstream.requests.at(-1)).toMatchObject({
      method: 'GET',
      path: '/crm/customers/cus_001',
    });
    // A repeat with the same key is answered from the dedup record, without calling again.
    const calls = upstream.requests.length;
    const again = completedOf(
      await send(toolCall('get_customer_http', { customer_id: 'cus_001' }, { key })),
    );
    expect(again.deduplicated).toBe(true);
    expect(upstream.requests).toHaveLength(calls);
  });

  it('answers an upstream 404 as not_found, and invalid input before any call', async () => {
    expect(
      failureOf(await send(toolCall('get_customer_http', { customer_id: 'cus_404' }))),
    ).toEqual({
      class: 'not_found',
      code: 'upstream_404',
      message: `GET ${upstream.url}/crm/customers/{id} answered 404 Not Found: {"error":"no customer cus_404"}`,
      retryable: false,
    });
    const calls = upstream.requests.length;
    const invalid = failureOf(await send(toolCall('get_customer_http', { customer_id: 'acme' })));
    expect(invalid).toMatchObject({ class: 'validation', code: 'invalid_input' });
    expect(invalid.issues?.map((i) => i.pointer)).toEqual(['/customer_id']);
    expect(upstream.requests).toHaveLength(calls);
    expect(failureOf(await send(toolCall('not_in_catalog', {})))).toMatchObject({
      class: 'validation',
      code: 'unknown_tool',
      message: `${service} has no tool "not_in_catalog" (it serves get_customer_http)`,
    });
    expect(lines()).not.toContain('crm-token-123');
  });
});
