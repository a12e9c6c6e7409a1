import { ConfigError } from '@toolbus/service-kit';
import { describe, expect, it } from 'vitest';
import { loadHttpExecutorConfig } from './config.js';

const REGISTRY_URL = 'http://127.0.0.1:8081';

describe('HTTP executor configuration', () => {
  it('defaults its own variables and reads the SDK’s', () => {
    const config = loadHttpExecutorConfig({ REGISTRY_URL });
    expect(config).toMatchObject({
      SECRETS_DIR: '/var/run/secrets/toolbus',
      HTTP_RETRY_ATTEMPTS: 3,
      HTTP_RETRY_BASE_MS: 100,
      HTTP_MAX_RESPONSE_BYTES: 1_048_576,
      REGISTRY_URL,
      DATABASE_URL: 'pglite://memory',
    });
  });

  it('requires REGISTRY_URL, naming it along with every other bad variable', () => {
    let error: unknown;
    try {
      loadHttpExecutorConfig({ HTTP_RETRY_ATTEMPTS: '0', HTTP_MAX_RESPONSE_BYTES: 'lots' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      {
        variable: 'REGISTRY_URL',
        message: expect.stringMatching(/^is required: Registry base URL/),
      },
      { variable: 'HTTP_RETRY_ATTEMPTS', message: 'invalid value "0": must be at least 1' },
      {
        variable: 'HTTP_MAX_RESPONSE_BYTES',
        message: 'invalid value "lots": must be a whole number',
      },
    ]);
  });
});
