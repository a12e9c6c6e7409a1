import {
  Messages,
  Topics,
  type AuditEvent,
  type ModelFailed,
  type ModelRequest,
  type ModelResponse,
} from '@toolbus/contracts';
import { createKafkaBus, type IncomingMessage, type MessageBus } from '@toolbus/messaging';
import { createLogger } from '@toolbus/observability';
import { startService, type RunningService } from '@toolbus/service-kit';
import {
  infraFromEnv,
  startFakeAnthropic,
  startFakeOpenAI,
  uniqueName,
  waitFor,
  type FakeProvider,
} from '@toolbus/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelShimConfig } from '../src/config.js';
import { modelShimService } from '../src/model-shim.service.js';

/**
 * The model shim as a service over real Kafka, with the real SDKs talking to fake providers
 * that speak the Anthropic and OpenAI wire formats.
 */
describe('model shim over Kafka', () => {
  const { kafkaBrokers } = infraFromEnv();
  const logger = createLogger({
    name: 'model-shim-test',
    level: process.env['TEST_LOG_LEVEL'] ?? 'silent',
  });
  let anthropic: FakeProvider;
  let vllm: FakeProvider;
  let service: RunningService<ModelShimConfig>;
  let client: MessageBus;
  const audit: AuditEvent[] = [];
  const tenant = uniqueName('tenant')
    .replace(/[^a-z0-9-]/g, '')
    .slice(0, 40);

  beforeAll(async () => {
    anthropic = await startFakeAnthropic();
    vllm = await startFakeOpenAI({ servedModels: ['Qwen/Qwen2.5-7B-Instruct'] });
    service = (await startService(modelShimService, {
      env: {
        KAFKA_BROKERS: kafkaBrokers.join(','),
        KAFKA_SESSION_TIMEOUT_MS: '6000',
        PORT: '0',
        MANAGEMENT_PORT: '0',
        LOG_LEVEL: 'silent',
        ANTHROPIC_API_KEY: 'sk-test',
        ANTHROPIC_BASE_URL: anthropic.url,
        OPENAI_BASE_URL: `${vllm.url}/v1`,
        MODEL_ROUTES:
          'default=anthropic:claude-sonnet-4-5,vllm:Qwen/Qwen2.5-7B-Instruct;local=vllm:Qwen/Qwen2.5-7B-Instruct;demo=offline:planner',
        MODEL_RETRY_BASE_MS: '20',
        MODEL_RETRY_ATTEMPTS: '2',
        BREAKER_FAILURES: '50',
      },
      logger,
    }))!;
    client = createKafkaBus({
      serviceName: uniqueName('orchestrator'),
      brokers: kafkaBrokers,
      logger,
    });
    await client.subscribe(
      {
        topic: Topics.audit,
        groupId: uniqueName('audit-reader'),
        fromBeginning: false,
        ...{ schema: Messages.auditRecorded.schema },
      },
      async (m: IncomingMessage<AuditEvent>) => {
        if (m.value.tenant === tenant) audit.push(m.value);
      },
    );
    await client.prepareReplies(Topics.modelReplies);
  });

  afterAll(async () => {
    await client?.close(2_000);
    await service?.close();
    await Promise.all([anthropic?.close(), vllm?.close()]);
  });

  const ask = (value: unknown, timeoutMs = 20_000) =>
    client.request<unknown, ModelResponse | ModelFailed>(
      Topics.modelRequests,
      { type: Messages.modelRequested.type, key: 'ctx', value },
      { replyTopic: Topics.modelReplies, timeoutMs },
    );

  const request = (extra: Partial<ModelRequest> = {}): ModelRequest => ({
    contextId: uniqueName('ctx'),
    tenant,
    model: 'default',
    maxTokens: 512,
    tools: [
      {
        name: 'get_credit_limit',
        description: 'Credit limit of a customer',
        inputSchema: {
          type: 'object',
          properties: { customer_id: { type: 'string' } },
          required: ['customer_id'],
        },
      },
    ],
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'What is the credit limit of cus_001?' }] },
    ],
    ...extra,
  });

  it('answers a model request with a normalized tool call, usage and cost, and audits it', async () => {
    anthropic.script([
      {
        when: /credit limit/,
        reply: {
          toolCalls: [{ name: 'get_credit_limit', input: { customer_id: 'cus_001' } }],
          usage: { input: 120, output: 30, cacheRead: 50 },
        },
      },
    ]);
    const req = request();
    const reply = await ask(req);
    expect(reply.event.type).toBe(Messages.modelResponded.type);
    const response = reply.value as ModelResponse;
    expect(response).toMatchObject({
      contextId: req.contextId,
      stopReason: 'tool_use',
      provider: 'anthropic',
      usage: { inputTokens: 120, outputTokens: 30, cacheReadTokens: 50, cacheWriteTokens: 0 },
      toolCalls: [{ name: 'get_credit_limit', input: { customer_id: 'cus_001' } }],
    });
    expect(response.costUsd).toBeCloseTo((120 * 3 + 30 * 15 + 50 * 0.3) / 1e6, 10);
    const sent = anthropic.requests.at(-1)!.body as {
      model: string;
      tools: Array<{ input_schema: unknown }>;
    };
    expect(sent.model).toBe('claude-sonnet-4-5');
    expect(sent.tools[0]!.input_schema).toMatchObject({
      type: 'object',
      required: ['customer_id'],
    });
    const event = await waitFor(() => audit.find((a) => a.contextId === req.contextId), {
      what: 'the usage audit event',
    });
    expect(event).toMatchObject({
      action: 'model.call',
      outcome: 'succeeded',
      resource: { kind: 'model', id: 'anthropic:claude-sonnet-4-5' },
    });
    expect(event.details).toMatchObject({ usage: { inputTokens: 120 }, attempts: 1 });
  });

  it('fails over from an overloaded Anthropic to vLLM', async () => {
    anthropic.fail({ kind: 'status', status: 529 }, { kind: 'status', status: 529 });
    vllm.script([{ reply: { text: 'vLLM says hi' } }]);
    const reply = await ask(request());
    expect(reply.value).toMatchObject({
      provider: 'vllm',
      model: 'Qwen/Qwen2.5-7B-Instruct',
      content: [{ type: 'text', text: 'vLLM says hi' }],
    });
  });

  it('answers with the offline planner through its alias', async () => {
    const reply = await ask(request({ model: 'demo' }));
    expect(reply.value).toMatchObject({
      provider: 'offline',
      stopReason: 'tool_use',
      toolCalls: [{ name: 'get_credit_limit', input: { customer_id: 'cus_001' } }],
    });
  });

  it('answers a malformed request with a validation failure naming each bad field', async () => {
    const reply = await ask({
      contextId: 'ctx-bad-request-1',
      tenant,
      model: 'default',
      maxTokens: -5,
      messages: [],
    });
    expect(reply.event.type).toBe(Messages.modelFailed.type);
    const failure = reply.value as ModelFailed;
    expect(failure.error).toMatchObject({
      class: 'validation',
      code: 'invalid_model_request',
      retryable: false,
    });
    expect(failure.error.issues?.map((i) => i.pointer)).toEqual(
      expect.arrayContaining(['/maxTokens', '/messages']),
    );
    expect(failure.contextId).toBe('ctx-bad-request-1');
  });

  it('refuses an input over budget without calling any provider', async () => {
    const before = anthropic.requests.length;
    const reply = await ask(
      request({
        remainingBudgetTokens: 50,
        messages: [{ role: 'user', content: [{ type: 'text', text: 'long '.repeat(2000) }] }],
      }),
    );
    expect((reply.value as ModelFailed).error).toMatchObject({ class: 'budget_exceeded' });
    expect(anthropic.requests.length).toBe(before);
  });

  it('parks a request of the wrong type and tells the caller why at once', async () => {
    const error = await client
      .request(
        Topics.modelRequests,
        { type: 'dev.toolbus.other.thing.v1', value: {} },
        { replyTopic: Topics.modelReplies, timeoutMs: 20_000 },
      )
      .catch((e: unknown) => e);
    expect((error as Error).message).toContain('unexpected ce_type "dev.toolbus.other.thing.v1"');
  });
});
