import {
  Messages,
  type SafeError,
  type ToolCallCompleted,
  type ToolCallFailed,
} from '@toolbus/contracts';
import { describe, expect, it } from 'vitest';
import {
  completedOf,
  deferred,
  failureOf,
  infraFromEnv,
  toolCall,
  uniqueName,
  waitFor,
} from './index.js';

describe('testing harness', () => {
  it('reads the documented connection variables', () => {
    expect(
      infraFromEnv({
        KAFKA_BROKERS: '127.0.0.1:1, 127.0.0.1:2',
        DATABASE_URL: 'postgres://x',
        REDIS_URL: 'redis://y',
      }),
    ).toEqual({
      kafkaBrokers: ['127.0.0.1:1', '127.0.0.1:2'],
      databaseUrl: 'postgres://x',
      redisUrl: 'redis://y',
    });
  });

  it('names every missing variable and how to get it', () => {
    expect(() => infraFromEnv({ DATABASE_URL: 'postgres://x' })).toThrow(
      /need KAFKA_BROKERS, REDIS_URL: .*make infra-up/,
    );
  });

  it('waits for a condition and returns its value', async () => {
    let n = 0;
    await expect(waitFor(() => (++n >= 3 ? n : 0), { intervalMs: 1 })).resolves.toBe(3);
  });

  it('fails with what it waited for when the deadline passes', async () => {
    await expect(waitFor(() => false, { timeoutMs: 30, what: 'the moon' })).rejects.toThrow(
      'timed out after 30 ms waiting for the moon',
    );
  });

  it('makes unique names and deferreds', async () => {
    expect(uniqueName('t')).not.toBe(uniqueName('t'));
    const d = deferred<number>();
    d.resolve(7);
    await expect(d.promise).resolves.toBe(7);
  });

  it('reads runtime replies and bus answers alike, showing what came instead', () => {
    const call = toolCall('get_credit_limit', { customer_id: 'cus_001' });
    const ids = { callId: call.callId, idempotencyKey: call.idempotencyKey, tool: call.tool };
    const at = new Date().toISOString();
    const completed: ToolCallCompleted = {
      ...ids,
      output: { credit_limit: 50_000 },
      durationMs: 3,
      deduplicated: false,
      completedAt: at,
    };
    const error: SafeError = {
      class: 'not_found',
      code: 'no_customer',
      message: 'no',
      retryable: false,
    };
    const failed: ToolCallFailed = { ...ids, error, durationMs: 3, failedAt: at };
    const answer = (type: string, value: ToolCallCompleted | ToolCallFailed) => ({
      event: { type },
      value,
    });

    expect(completedOf({ ok: true, completed })).toBe(completed);
    expect(failureOf({ ok: false, failed })).toBe(error);
    expect(completedOf(answer(Messages.toolCallCompleted.type, completed))).toBe(completed);
    expect(failureOf(answer(Messages.toolCallFailed.type, failed))).toBe(error);
    expect(() => completedOf(answer(Messages.toolCallFailed.type, failed))).toThrow(
      'expected success, got {"class":"not_found"',
    );
    expect(() => failureOf(answer(Messages.toolCallCompleted.type, completed))).toThrow(
      'expected failure, got {"callId"',
    );
    expect(() => completedOf(answer('dev.toolbus.other.v1', completed))).toThrow(
      'expected success, got a dev.toolbus.other.v1 message: {"callId"',
    );
  });
});
