import { ConfigError, loadConfig } from '@toolbus/service-kit';
import { describe, expect, it } from 'vitest';
import { toolConsumerConfig } from './config.js';
import { failpointHooks } from './failpoints.js';

describe('failpoints', () => {
  const config = (env: Record<string, string>) => loadConfig(toolConsumerConfig, env);

  it('are off unless asked for', () => {
    expect(failpointHooks(config({}))).toEqual({});
  });

  it('are refused outside test mode, naming the variable', () => {
    expect(() => failpointHooks(config({ TOOLBUS_FAILPOINT: 'exit-after-commit' }))).toThrow(
      ConfigError,
    );
    expect(() => failpointHooks(config({ TOOLBUS_FAILPOINT: 'exit-after-commit' }))).toThrow(
      /TOOLBUS_FAILPOINT: is a test-only switch: set TOOLBUS_TEST_MODE=true/,
    );
  });

  it('give the runtime an after-commit hook in test mode', () => {
    const hooks = failpointHooks(
      config({ TOOLBUS_FAILPOINT: 'exit-after-commit', TOOLBUS_TEST_MODE: 'true' }),
    );
    expect(hooks.afterCommit).toBeTypeOf('function');
  });

  it('accept only known failpoints', () => {
    expect(() => config({ TOOLBUS_FAILPOINT: 'rm-rf' })).toThrow(
      /TOOLBUS_FAILPOINT: invalid value "rm-rf": must be one of exit-after-commit/,
    );
  });
});
