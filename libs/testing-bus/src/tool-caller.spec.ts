import { readFileSync } from 'node:fs';
import { CallGrantVerifier, fileGrantKeys } from '@toolbus/security';
import { toolCall } from '@toolbus/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  consumerTestEnv,
  grantEnv,
  TEST_GRANT_ISSUER,
  testGrantHeader,
  withTestGrant,
} from './index.js';

describe('consumerTestEnv', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('gives an in-process tool consumer the infrastructure, its schema, random ports and the test grant keys', () => {
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
      CALL_GRANT_JWKS_FILE: grantEnv().CALL_GRANT_JWKS_FILE,
      CALL_GRANT_ISSUER: TEST_GRANT_ISSUER,
    });
  });

  it('names the missing connection variables instead of starting a consumer without them', () => {
    vi.stubEnv('KAFKA_BROKERS', '');
    vi.stubEnv('DATABASE_URL', 'postgres://x');
    vi.stubEnv('REDIS_URL', 'redis://y');
    expect(() => consumerTestEnv('crm_it')).toThrow(/KAFKA_BROKERS/);
  });
});

describe('the test issuer', () => {
  const verifierFor = (service: string) =>
    new CallGrantVerifier({
      keys: fileGrantKeys(grantEnv().CALL_GRANT_JWKS_FILE),
      issuer: grantEnv().CALL_GRANT_ISSUER,
      audience: service,
    });

  it('publishes one Ed25519 public key, the same for the whole process', () => {
    const jwks = JSON.parse(readFileSync(grantEnv().CALL_GRANT_JWKS_FILE, 'utf8')) as {
      keys: Array<Record<string, unknown>>;
    };
    expect(jwks.keys).toEqual([
      expect.objectContaining({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' }),
    ]);
    expect(jwks.keys[0]).not.toHaveProperty('d');
    expect(grantEnv()).toEqual(grantEnv());
  });

  it('signs grants a consumer of that service accepts, and no other service does', async () => {
    const call = await withTestGrant(
      'crm',
      toolCall('get_credit_limit', { customer_id: 'cus_001' }),
    );
    await expect(verifierFor('crm').verify(call.grant, call)).resolves.toMatchObject({
      audience: 'crm',
      tool: 'get_credit_limit',
      tenant: 'acme',
    });
    await expect(verifierFor('erp').verify(call.grant, call)).rejects.toMatchObject({
      reason: 'audience',
    });
  });

  it('gives the bearer header of an HTTP call', async () => {
    const {
      tool: _tool,
      deadline: _deadline,
      ...body
    } = toolCall('find_customer', { query: 'acme' });
    const { authorization } = await testGrantHeader('crm', body, 'find_customer');
    expect(authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    await expect(
      verifierFor('crm').verify(authorization.slice('Bearer '.length), {
        ...body,
        tool: 'find_customer',
      }),
    ).resolves.toMatchObject({ tool: 'find_customer' });
  });
});
