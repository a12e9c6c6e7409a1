import { ConfigError } from '@toolbus/service-kit';
import { describe, expect, it } from 'vitest';
import { loadCrmConfig } from './config.js';

describe('CRM configuration', () => {
  it('defaults the credit-limit threshold to 10,000,000 and reads the SDK variables too', () => {
    const config = loadCrmConfig({});
    expect(config.CRM_MAX_CREDIT_LIMIT).toBe(10_000_000);
    expect(config.DATABASE_URL).toBe('pglite://memory');
    expect(loadCrmConfig({ CRM_MAX_CREDIT_LIMIT: '250000' }).CRM_MAX_CREDIT_LIMIT).toBe(250_000);
  });

  it('refuses a bad threshold, naming the variable along with every other bad one', () => {
    let error: unknown;
    try {
      loadCrmConfig({ CRM_MAX_CREDIT_LIMIT: '1e7', TOOL_CONCURRENCY: '0' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      { variable: 'TOOL_CONCURRENCY', message: 'invalid value "0": must be at least 1' },
      { variable: 'CRM_MAX_CREDIT_LIMIT', message: 'invalid value "1e7": must be a whole number' },
    ]);
    expect(() => loadCrmConfig({ CRM_MAX_CREDIT_LIMIT: '-5' })).toThrow(
      'CRM_MAX_CREDIT_LIMIT: invalid value "-5": must be at least 0',
    );
  });
});
