import {
  Messages,
  toolRequestsTopic,
  ToolCallCompleted,
  type ToolCallFailed,
  type ToolCallRequested,
} from '@toolbus/contracts';
import { createLogger } from '@toolbus/observability';
import type { MigrationInterface, QueryRunner } from '@toolbus/persistence';
import { toolCall, uniqueName } from '@toolbus/testing';
import {
  consumerTestEnv,
  startToolCaller,
  testGrantHeader,
  type ToolCaller,
} from '@toolbus/testing-bus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  BusinessError,
  defineTool,
  runToolConsumer,
  type RunningToolConsumer,
} from '../src/index.js';

class CreateNotes1732406400001 implements MigrationInterface {
  name = 'CreateNotes1732406400001';
  async up(q: QueryRunner): Promise<void> {
    await q.query(
      'CREATE TABLE notes (id serial PRIMARY KEY, customer_id text NOT NULL, text text NOT NULL)',
    );
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE notes');
  }
}

let handlerRuns = 0;
const addNote = defineTool({
  name: 'add_note',
  title: 'Add a note',
  description: 'Adds a note to a customer account and returns the note id.',
  input: z.object({
    customer_id: z.string().regex(/^cus_\d{3}$/),
    text: z.string().min(1).max(500),
    delay_ms: z.number().int().min(0).default(0),
  }),
  output: z.object({ note_id: z.number().int(), customer_id: z.string() }),
  scopes: ['crm:write'],
  annotations: { destructiveHint: false, idempotentHint: true },
  sync: true,
  handler: async (input, ctx) => {
    handlerRuns++;
    if (input.customer_id === 'cus_000')
      throw new BusinessError('customer_not_found', 'no customer cus_000', 'not_found');
    if (input.customer_id === 'cus_999')
      throw new Error('password=hunter2 connection string leaked in a stack');
    return ctx.transaction(async (em) => {
      const [row] = (await em.query(
        'INSERT INTO notes (customer_id, text) VALUES ($1, $2) RETURNING id',
        [input.customer_id, input.text],
      )) as Array<{ id: number }>;
      if (input.delay_ms) await new Promise((r) => setTimeout(r, input.delay_ms));
      return { note_id: row!.id, customer_id: input.customer_id };
    });
  },
});

describe('tool consumer built with the SDK (real Kafka and PostgreSQL)', () => {
  const service = uniqueName('sdk')
    .replace(/[^a-z0-9-]/g, '')
    .slice(0, 30);
  // The schema the consumer would pick by default for this service name.
  const schema = service.replace(/-/g, '_');
  const logger = createLogger({
    name: 'sdk-test',
    level: process.env['TEST_LOG_LEVEL'] ?? 'silent',
  });
  let consumer: RunningToolConsumer;
  let caller: ToolCaller;

  beforeAll(async () => {
    consumer = await runToolConsumer(
      {
        service,
        tools: [addNote],
        migrations: [CreateNotes1732406400001],
      },
      {
        env: consumerTestEnv(schema),
        logger,
      },
    );
    caller = await startToolCaller({ logger, name: 'orch' });
  });
  afterAll(async () => {
    await caller?.close();
    await consumer?.close();
  });

  const call = (
    input: Record<string, unknown>,
    key = uniqueName('key'),
    deadlineMs = 5_000,
  ): ToolCallRequested =>
    toolCall('add_note', input, {
      key,
      deadlineMs,
      principal: { subject: 'alice', kind: 'user', tenant: 'acme', scopes: ['crm:write'] },
    });
  const send = (c: ToolCallRequested) => caller.call(service, c, { timeoutMs: 20_000 });
  const notes = async (text: string) =>
    (
      (await consumer.db.query('SELECT count(*)::int AS n FROM notes WHERE text = $1', [
        text,
      ])) as Array<{ n: number }>
    )[0]!.n;

  it('answers a call over Kafka and keeps the effect exactly once for repeats of its key', async () => {
    const text = uniqueName('note');
    const c = call({ customer_id: 'cus_001', text });
    const first = await send(c);
    expect(first.event.type).toBe(Messages.toolCallCompleted.type);
    const completed = ToolCallCompleted.parse(first.value);
    expect(completed).toMatchObject({
      tool: 'add_note',
      deduplicated: false,
      output: { customer_id: 'cus_001' },
    });
    const again = await Promise.all([
      send({ ...c, callId: 'retry-1' }),
      send({ ...c, callId: 'retry-2' }),
    ]);
    for (const r of again)
      expect(r.value).toMatchObject({ deduplicated: true, output: completed.output });
    expect(await notes(text)).toBe(1);
  });

  it('runs the handler once when the same key arrives twice at the same moment', async () => {
    const text = uniqueName('note');
    const before = handlerRuns;
    const c = call({ customer_id: 'cus_002', text, delay_ms: 300 });
    const replies = await Promise.all([send(c), send({ ...c, callId: 'twin' })]);
    expect(replies.map((r) => (r.value as ToolCallCompleted).output)).toEqual([
      expect.objectContaining({ customer_id: 'cus_002' }),
      expect.objectContaining({ customer_id: 'cus_002' }),
    ]);
    expect(handlerRuns - before).toBe(1);
    expect(await notes(text)).toBe(1);
  });

  it('names each bad input field with a JSON pointer and what was expected', async () => {
    const reply = await send(call({ customer_id: 'nope', text: '' }));
    const failed = reply.value as ToolCallFailed;
    expect(failed.error).toMatchObject({
      class: 'validation',
      code: 'invalid_input',
      retryable: false,
    });
    expect(failed.error.issues?.map((i) => i.pointer).sort()).toEqual(['/customer_id', '/text']);
  });

  it('answers a call that misses its deadline as a timeout and rolls its effect back', async () => {
    const text = uniqueName('note');
    const reply = await send(
      call({ customer_id: 'cus_003', text, delay_ms: 1_500 }, uniqueName('key'), 500),
    );
    expect((reply.value as ToolCallFailed).error).toMatchObject({
      class: 'timeout',
      code: 'deadline_exceeded',
      retryable: true,
    });
    await new Promise((r) => setTimeout(r, 1_500)); // let the late handler reach its commit and be refused
    expect(await notes(text)).toBe(0);
  });

  it('keeps business errors and hides unexpected ones behind a safe message', async () => {
    expect((await send(call({ customer_id: 'cus_000', text: 'x' }))).value).toMatchObject({
      error: {
        class: 'not_found',
        code: 'customer_not_found',
        message: 'no customer cus_000',
        retryable: false,
      },
    });
    const hidden = (await send(call({ customer_id: 'cus_999', text: 'x' })))
      .value as ToolCallFailed;
    expect(hidden.error).toMatchObject({
      class: 'internal',
      code: 'internal_error',
      retryable: false,
    });
    expect(hidden.error.message).toMatch(
      /^the tool failed unexpectedly \(reference [0-9a-f]{8}\)$/,
    );
    expect(JSON.stringify(hidden)).not.toContain('hunter2');
  });

  it('refuses a key reused for different input', async () => {
    const key = uniqueName('key');
    await send(call({ customer_id: 'cus_004', text: 'a' }, key));
    expect((await send(call({ customer_id: 'cus_004', text: 'b' }, key))).value).toMatchObject({
      error: { code: 'idempotency_key_reused' },
    });
  });

  it('serves synchronous tools over HTTP with a deadline header, and problem+json on failure', async () => {
    const {
      tool: _tool,
      deadline: _deadline,
      ...body
    } = call({ customer_id: 'cus_005', text: uniqueName('note') });
    const ok = await fetch(`${consumer.url}/tools/add_note:invoke`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-toolbus-timeout-ms': '2000',
        ...(await testGrantHeader(service, body, 'add_note')),
      },
      body: JSON.stringify(body),
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ tool: 'add_note', output: { customer_id: 'cus_005' } });
    const badBody = { ...body, idempotencyKey: uniqueName('key'), input: { customer_id: 1 } };
    const bad = await fetch(`${consumer.url}/tools/add_note:invoke`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(await testGrantHeader(service, badBody, 'add_note')),
      },
      body: JSON.stringify(badBody),
    });
    expect(bad.status).toBe(422);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    expect(await bad.json()).toMatchObject({ status: 422, error: { code: 'invalid_input' } });
    expect(
      (
        await fetch(`${consumer.url}/tools/unknown_tool:invoke`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
      ).status,
    ).toBe(422);
  });

  it('reports readiness of Kafka and PostgreSQL, and call metrics', async () => {
    expect(await (await fetch(`${consumer.managementUrl}/health/ready`)).json()).toEqual({
      status: 'ok',
      checks: { kafka: 'up', postgres: 'up' },
    });
    const metrics = await (await fetch(`${consumer.managementUrl}/metrics`)).text();
    expect(metrics).toMatch(
      new RegExp(
        `toolbus_tool_calls_total\\{service="${service}",tool="add_note",outcome="succeeded"\\} [1-9]`,
      ),
    );
    expect(metrics).toMatch(
      /toolbus_tool_dedup_hits_total\{service="[^"]+",tool="add_note"\} [1-9]/,
    );
    expect(metrics).toMatch(
      /toolbus_tool_errors_total\{service="[^"]+",tool="add_note",class="validation"\} [1-9]/,
    );
  });

  it('exports its tools as registry definitions with JSON Schemas', () => {
    expect(consumer.definitions[0]).toMatchObject({
      name: 'add_note',
      scopes: ['crm:write'],
      transport: { kind: 'kafka', topic: toolRequestsTopic(service) },
      inputSchema: { type: 'object', required: ['customer_id', 'text'] },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true },
    });
  });
});
