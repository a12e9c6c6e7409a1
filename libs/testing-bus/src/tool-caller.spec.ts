import { afterEach, describe, expect, it, vi } from 'vitest';
import { consumerTestEnv } from './index.js';

describe('consumerTestEnv', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('gives an in-process tool consumer the infrastructure, its schema and random ports', () => {
    vi.stubEnv('KAFKA_BROKERS', '127.0.0.1:1,127.0.0.1:2');
    vi.stubEnv('DATABASE_URL', 'postgres://x');
    vi.stubEnv('REDIS_URL', 'redis://y');
    expect(consumerTestEnv('crm_it', { LOG_LEVEL: 'warn', TOOL_CONCURRENCY: '4' })).toEqual({
      KAFKA_BROKERS: '127.0.0.1:1,127.0.0.1:2',
      DATABASE_URL: 'postgres://x',
      DATABASE_SCHEMA: 'crm_it',
      PORT: '0',
      MANAGEMENT_PORT: '0',
      LOG_LEVEL: 'warn',
      TOOL_CONCURRENCY: '4',
    });
  });

  it('names the missing connection variables instead of starting a consumer without them', () => {
    vi.stubEnv('KAFKA_BROKERS', '');
    vi.stubEnv('DATABASE_URL', 'postgres://x');
    vi.stubEnv('REDIS_URL', 'redis://y');
    expect(() => consumerTestEnv('crm_it')).toThrow(/KAFKA_BROKERS/);
  });
});
