import { describe, expect, it } from 'vitest';
import { deferred, infraFromEnv, uniqueName, waitFor } from './index.js';

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
});
