import { ConfigError } from '@toolbus/service-kit';
import type { ToolConsumerConfig } from './config.js';
import type { RuntimeHooks } from './runtime.js';

/**
 * The runtime hooks a test asked for. Crash-consistency tests need a process that dies after
 * its effect is durable but before it answers or commits the Kafka offset; a failpoint makes
 * that moment exact. It is read once from the validated config, and refused outside test mode
 * so a stray variable can never crash a deployment.
 */
export function failpointHooks(config: ToolConsumerConfig): RuntimeHooks {
  if (!config.TOOLBUS_FAILPOINT) return {};
  if (!config.TOOLBUS_TEST_MODE)
    throw new ConfigError([
      {
        variable: 'TOOLBUS_FAILPOINT',
        message:
          'is a test-only switch: set TOOLBUS_TEST_MODE=true to use it (never in a deployment)',
      },
    ]);
  return { afterCommit: () => process.exit(137) };
}
