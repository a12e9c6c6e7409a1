import {
  Messages,
  toolRequestsTopic,
  Topics,
  type AskCompleted,
  type Principal,
  type ToolCallRequested,
  type ToolInvocationAnswered,
  type ToolInvocationRequested,
} from '@toolbus/contracts';
import type { IncomingMessage } from '@toolbus/messaging';
import { callKey } from '@toolbus/orchestrator';
import { uniqueName, waitFor, type FakeRequestView, type ServiceProcess } from '@toolbus/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestPlatform } from './platform.js';
import { RatesConsumer } from './rates-consumer.js';

/**
 * The orchestrator replicas run as processes here, so that one can be killed as a crashed pod
 * is: SIGKILL, no drain, the ask's offset never committed, its group membership left to expire.
 */
const REPLICA_ENV = {
  // The dead replica's partitions move to the next one once its session expires (the
  // broker's least); the default 10 s would only make the test slower.
  KAFKA_SESSION_TIMEOUT_MS: '6000',
};

/**
 * An orchestrator killed while a tool call with an effect is in flight: the consumer holds
 * `book_rate` until the test lets it go. The ask's offset was never committed, so it is
 * delivered again to the replica started in its place, which resumes it from the checkpoint in
 * Redis (the model is not asked again) and sends the call again under the same idempotency key.
 * The held execution then commits its booking; the repeat is answered from the consumer's dedup
 * record. One booking, one execution, one answer.
 */
describe('idempotency across an orchestrator killed mid-call', () => {
  let platform: TestPlatform;
  let rates: RatesConsumer;
  let principal: Principal;
  /** The replica that runs the next call (the one each test kills). */
  let current: ServiceProcess;
  /** Every tool call sent to the rates consumer, as the wire carries it. */
  const requests: ToolCallRequested[] = [];
  /** Every answer on toolbus.ask.replies. */
  const replies: Array<{ type: string; askId?: string }> = [];

  beforeAll(async () => {
    platform = await TestPlatform.start();
    // The grant keys from a file: no replica is there to serve its JWKS while one is down.
    rates = await RatesConsumer.start(platform, { jwksFromFile: true });
    await platform.approveAll(['lookup_rate', 'book_rate']);
    principal = platform.principal({ scopes: ['rates:read', 'rates:write'] });
    current = await platform.startOrchestratorProcess(REPLICA_ENV);
    await platform.untilOffered(['book_rate'], principal, [current]);
    // The in-process replica leaves (gracefully), so the process takes every ask.
    for (const o of platform.orchestrators.splice(0)) await o.close();
    await platform.client.subscribe(
      {
        topic: toolRequestsTopic(rates.service),
        groupId: uniqueName('requests-probe'),
        fromBeginning: true,
        schema: Messages.toolCallRequested.schema,
      },
      async (m: IncomingMessage<ToolCallRequested>) => {
        requests.push(m.value);
      },
    );
    await platform.client.subscribe(
      {
        topic: Topics.askReplies,
        groupId: uniqueName('replies-probe'),
        fromBeginning: true,
        types: [Messages.askCompleted.type, Messages.askFailed.type],
      },
      async (m: IncomingMessage<unknown>) => {
        replies.push({ type: m.event.type, askId: (m.value as { askId?: string }).askId });
      },
    );
  }, 180_000);

  afterAll(async () => {
    await rates?.close();
    await platform?.close();
  });

  it('resumes the ask on the next replica, retries with the same key, and books once', async () => {
    let resumedWith: FakeRequestView | undefined;
    platform.anthropic.script([
      {
        when: (req) => req.toolResults.length === 0,
        reply: { toolCalls: [{ name: 'book_rate', input: { pair: 'EURUSD', amount: 100 } }] },
      },
      {
        when: (req) => req.toolResults.length === 1,
        reply: (req) => {
          resumedWith = req;
          return { text: `Booked: ${req.toolResults[0]!.content}` };
        },
      },
    ]);
    const gate = rates.control.hold();
    const message = await platform.askMessage('Book 100 EUR at the EURUSD rate', { principal });
    const answered = platform.ask(message, 120_000);
    // Awaited below; a test that fails before then should not also report it unhandled.
    answered.catch(() => undefined);

    // The call is in flight on the consumer; the replica that sent it dies.
    const held = await gate.reached;
    expect(requests.filter((r) => r.idempotencyKey === held.idempotencyKey)).toHaveLength(1);
    current.child.kill('SIGKILL');
    expect(await current.exited).toBeNull();
    const modelCallsBefore = platform.anthropic.requests.length;

    // Its replacement gets the ask again, resumes it and sends the same call again: the same
    // idempotency key, a new call id. The consumer still holds the first delivery meanwhile.
    current = await platform.startOrchestratorProcess(REPLICA_ENV);
    const retry = await waitFor(
      () =>
        requests.find((r) => r.idempotencyKey === held.idempotencyKey && r.callId !== held.callId),
      { timeoutMs: 60_000, what: "the new replica's repeat of the held call" },
    );
    expect(retry.tool).toBe('book_rate');
    expect(rates.executionsOf('book_rate')).toHaveLength(1);

    gate.release();
    const reply = await answered;
    expect(reply.event.type, JSON.stringify(reply.value)).toBe(Messages.askCompleted.type);
    const completed = reply.value as AskCompleted;

    // The key is the one the ask's checkpoint gives this tool_use, on both replicas.
    const toolUseId = resumedWith!.toolResults[0]!.toolUseId;
    expect(held.idempotencyKey).toBe(callKey(message.askId!, toolUseId));
    expect(completed.toolCalls).toEqual([
      expect.objectContaining({
        tool: 'book_rate',
        outcome: 'succeeded',
        idempotencyKey: held.idempotencyKey,
      }),
    ]);
    // Resumed, not restarted: the model was asked once more, with the result, not from scratch.
    expect(platform.anthropic.requests.length - modelCallsBefore).toBe(1);

    // The effect once: one execution of the handler, one booking under that key; the repeat
    // was answered from the dedup record with the held execution's booking.
    expect(rates.executionsOf('book_rate')).toHaveLength(1);
    const bookings = await rates.bookings();
    expect(bookings).toEqual([{ idempotency_key: held.idempotencyKey, pair: 'EURUSD' }]);
    const result = JSON.parse(resumedWith!.toolResults[0]!.content) as Record<string, unknown>;
    expect(result).toMatchObject({ pair: 'EURUSD', amount: 100 });
    expect(completed.answer).toContain(`"booking_id":${String(result['booking_id'])}`);

    // One answer to the caller, from the replica that finished the ask.
    await platform.auditedToolCall(message.contextId, 'book_rate', 'succeeded');
    await waitFor(() => replies.some((r) => r.askId === message.askId) || undefined, {
      timeoutMs: 15_000,
      what: 'the reply on toolbus.ask.replies',
    });
    expect(replies.filter((r) => r.askId === message.askId)).toEqual([
      { type: Messages.askCompleted.type, askId: message.askId },
    ]);
    expect(
      platform.audit.filter((e) => e.action === 'tool.call' && e.contextId === message.contextId),
    ).toHaveLength(1);
  }, 150_000);

  it('gives a direct call over the bus without a key the same key on its redelivery, and books once', async () => {
    const executed = rates.executionsOf('book_rate').length;
    const booked = (await rates.bookings()).length;
    const gate = rates.control.hold();
    // A gateway's direct call that names no idempotency key: the orchestrator gives it one.
    const call = { tool: 'book_rate', input: { pair: 'GBPUSD', amount: 40 } };
    const invocation: ToolInvocationRequested = {
      ...call,
      principal,
      principalAssertion: await platform.invocationAssertion(call, principal),
      deadline: new Date(Date.now() + 90_000).toISOString(),
    };
    const answered = platform.client.request<ToolInvocationRequested, ToolInvocationAnswered>(
      Topics.invokeRequests,
      { type: Messages.toolInvocationRequested.type, key: 'book_rate', value: invocation },
      { replyTopic: Topics.invokeReplies, timeoutMs: 120_000 },
    );
    answered.catch(() => undefined);

    const held = await gate.reached;
    current.child.kill('SIGKILL');
    expect(await current.exited).toBeNull();
    current = await platform.startOrchestratorProcess(REPLICA_ENV);
    // The invocation is delivered again to the new replica, which sends the call again.
    const retry = await waitFor(
      () =>
        requests.find(
          (r) => r.tool === 'book_rate' && r.input['pair'] === 'GBPUSD' && r.callId !== held.callId,
        ),
      { timeoutMs: 60_000, what: "the new replica's repeat of the held call" },
    );
    expect(retry.idempotencyKey).toBe(held.idempotencyKey);

    gate.release();
    const reply = await answered;
    expect(reply.value).toMatchObject({
      outcome: 'succeeded',
      idempotencyKey: held.idempotencyKey,
      output: { pair: 'GBPUSD', amount: 40 },
    });
    expect(rates.executionsOf('book_rate')).toHaveLength(executed + 1);
    const bookings = await rates.bookings();
    expect(bookings.slice(booked)).toEqual([
      { idempotency_key: held.idempotencyKey, pair: 'GBPUSD' },
    ]);
  }, 150_000);
});
